"""The goods of a return, exchange or repair coming back (S24d): the buyer's parcel on its way,
then checked in at the warehouse.

    goods_sent_back   the buyer sent the goods (carrier, tracking number) → WAIT_SELLER_CONFIRM_GOODS
    receive           the goods arrived: each line's good and damaged units are recorded; good ones
                      go back on hand (`return` ledger rows), damaged ones into damaged goods
                      (kit.stock.returns.take_back), in the warehouse the parcel left from (or the
                      one named). A return then waits for its refund (or is refunded at once with
                      `refund=True`); an exchange sends the new SKU (or the same one) and a repair
                      the same SKU back to the buyer as a linked parcel (kit.shipping.linked:
                      allocated and reserved, then picked, packed and handed over like any
                      parcel), and the case completes (SUCCESS).

A parcel that arrives before the buyer gave its number is received all the same: the case first
moves to "goods returned". Every call is one write transaction (see kit.aftersales.cases).
"""

from __future__ import annotations

from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.aftersales.cases import refund_in
from kit.aftersales.limits import yuan
from kit.aftersales.notices import queue_step
from kit.aftersales.records import audit_fields, case_dict, case_lines, check_version, lock_case, write_case
from kit.errors import BadInput, Refused
from kit.i18n import t
from kit.lifecycle import apply, check_role, label, transition
from kit.models import AfterSaleKind, RefundStatus
from kit.permissions import require
from kit.shipping.linked import send_again
from kit.shop import Shop
from kit.stock.returns import take_back
from kit.store import schema
from kit.store.frames import read_frame

__all__ = ["goods_sent_back", "receive"]

_SHIPPED = ("handed_over", "confirmed")
_COUNTS = {"line_no": pl.Int64, "good": pl.Int64, "damaged": pl.Int64}


def goods_sent_back(
    shop: Shop,
    case_id: int,
    *,
    carrier: str | None = None,
    tracking_no: str | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """The buyer sent the goods back (action goods_returned → WAIT_SELLER_CONFIRM_GOODS), with the
    return parcel's carrier and tracking number when known; the case."""
    actor = require(shop.actor, "read")
    check_role(actor, transition("after_sale", "goods_returned").roles, t("action.goods_returned"))
    at = clock.now()
    with shop.store.write() as conn:
        _, case = lock_case(conn, case_id)
        check_version(conn, case, expected_version)
        apply(conn, "after_sale", int(case_id), "goods_returned", actor, now=at)
        values = {
            "return_carrier": (carrier or "").strip().lower() or case["return_carrier"],
            "return_tracking_no": (tracking_no or "").strip().upper() or case["return_tracking_no"],
        }
        write_case(
            conn,
            actor,
            at,
            int(case_id),
            "goods_returned",
            values,
            audited=("return_carrier", "return_tracking_no"),
            bump=False,
        )
        return case_dict(conn, int(case_id))


def _counts(case_id: int, received: Any) -> pl.DataFrame:
    """The units checked in (line_no, good, damaged) as a frame; BadInput on a count that is not
    a whole number of zero or more, a line named twice, or nothing at all."""
    rows = received.to_dicts() if isinstance(received, pl.DataFrame) else [dict(r) for r in received]
    out: list[dict[str, int]] = []
    for row in rows:
        entry = {}
        for name in ("line_no", "good", "damaged"):
            value = row.get(name, 0 if name != "line_no" else None)
            whole = isinstance(value, int | float) and not isinstance(value, bool) and value == int(value)
            if not whole or value < 0:
                raise BadInput(
                    "aftersales.bad_count",
                    case_id=case_id,
                    line_no=row.get("line_no"),
                    column=name,
                    value=value,
                )
            entry[name] = int(value)
        if any(r["line_no"] == entry["line_no"] for r in out):
            raise BadInput("aftersales.received_line_twice", case_id=case_id, line_no=entry["line_no"])
        out.append(entry)
    frame = pl.DataFrame(out, schema=_COUNTS)
    if frame.height == 0 or int((frame["good"] + frame["damaged"]).sum()) == 0:
        raise BadInput("aftersales.received_nothing", case_id=case_id)
    return frame


def _origin(conn: sa.Connection, case: dict[str, Any], line_nos: list[int]) -> dict[str, Any] | None:
    """The parcel the goods left in: the case's own, else the last shipped parcel of the order
    holding these lines (shipment_id, warehouse_code, carrier_code, ship_method)."""
    sh, sl = schema.shipments, schema.shipment_lines
    stmt = sa.select(sh.c.shipment_id, sh.c.warehouse_code, sh.c.carrier_code, sh.c.ship_method)
    if case["shipment_id"] is not None:
        stmt = stmt.where(sh.c.shipment_id == int(case["shipment_id"]))
    else:
        holding = sa.select(sl.c.shipment_id).where(
            sl.c.order_no == case["order_no"], sl.c.line_no.in_(line_nos)
        )
        stmt = stmt.where(sh.c.shipment_id.in_(holding), sh.c.stage.in_(_SHIPPED))
    rows = read_frame(conn, stmt.order_by(sh.c.shipment_id.desc()).limit(1))
    return rows.row(0, named=True) if rows.height else None


def _warehouse(
    conn: sa.Connection, case_id: int, origin: dict[str, Any] | None, warehouse: str | None
) -> str:
    """The warehouse the goods go back to: the one named (it must exist), else the parcel's."""
    if warehouse:
        w = schema.warehouses
        if conn.execute(sa.select(w.c.code).where(w.c.code == warehouse)).scalar() is None:
            known = conn.execute(sa.select(w.c.code).order_by(w.c.code)).scalars().all()
            raise BadInput("aftersales.unknown_warehouse", warehouse=warehouse, expected="、".join(known))
        return warehouse
    if origin is None:
        raise BadInput("aftersales.no_origin", case_id=case_id)
    return str(origin["warehouse_code"])


def _record(conn: sa.Connection, case_id: int, lines: pl.DataFrame, counts: pl.DataFrame) -> pl.DataFrame:
    """Add the counts to the case's lines (refused over a line's quantity); the lines received
    now with their SKU: line_no, sku, good, damaged."""
    known = lines["line_no"].to_list()
    unknown = counts.filter(~pl.col("line_no").is_in(known))
    if unknown.height:
        raise BadInput(
            "aftersales.received_bad_line",
            case_id=case_id,
            line_no=unknown["line_no"][0],
            lines="、".join(str(n) for n in known),
        )
    rows = counts.join(lines, on="line_no", how="left", maintain_order="left")
    over = rows.filter(
        pl.col("received_good") + pl.col("received_damaged") + pl.col("good") + pl.col("damaged")
        > pl.col("quantity")
    )
    if over.height:
        row = over.row(0, named=True)
        raise Refused(
            "aftersales.received_too_many",
            case_id=case_id,
            line_no=row["line_no"],
            sku=row["sku"],
            quantity=row["quantity"],
            before=row["received_good"] + row["received_damaged"],
            good=row["good"],
            damaged=row["damaged"],
        )
    al = schema.after_sale_lines
    conn.execute(
        al.update()
        .where(al.c.case_id == int(case_id), al.c.line_no == sa.bindparam("_line"))
        .values(received_good=sa.bindparam("_good"), received_damaged=sa.bindparam("_damaged")),
        [
            {
                "_line": r["line_no"],
                "_good": r["received_good"] + r["good"],
                "_damaged": r["received_damaged"] + r["damaged"],
            }
            for r in rows.iter_rows(named=True)
        ],
    )
    return rows.select("line_no", "sku", "good", "damaged")


def _send_out(
    shop: Shop,
    conn: sa.Connection,
    actor: Any,
    at: Any,
    case: dict[str, Any],
    origin: dict[str, Any] | None,
    warehouse: str,
) -> int:
    """The exchange's new item or the repaired item on its way to the buyer: a linked parcel
    of every unit received so far (new_sku, else the same SKU), from `warehouse`; its id."""
    lines = case_lines(conn, int(case["case_id"])).filter(
        pl.col("received_good") + pl.col("received_damaged") > 0
    )
    exchange = case["kind"] == str(AfterSaleKind.EXCHANGE)
    out = lines.select(
        "line_no",
        (pl.coalesce("new_sku", "sku") if exchange else pl.col("sku")).alias("sku"),
        (pl.col("received_good") + pl.col("received_damaged")).alias("quantity"),
    )
    o = schema.orders
    order_carrier = conn.execute(sa.select(o.c.carrier_code).where(o.c.order_no == case["order_no"])).scalar()
    return send_again(
        conn,
        actor,
        order_no=case["order_no"],
        lines=out,
        warehouse_code=warehouse,
        carrier_code=(origin or {}).get("carrier_code") or order_carrier or shop.config.default_carrier,
        ship_method=(origin or {}).get("ship_method") or "self_arranged",
        at=at,
        reason=t(
            "aftersales.send_reason", case_id=case["case_id"], kind=t(f"after_sale_kind.{case['kind']}")
        ),
        after_sale_id=int(case["case_id"]),
    )


def receive(
    shop: Shop,
    case_id: int,
    received: Any,
    *,
    warehouse: str | None = None,
    refund: bool = False,
    expected_version: int | None = None,
    notify: bool = True,
) -> dict[str, Any]:
    """Check the returned goods in: `received` is a list of {line_no, good, damaged} (or a frame);
    good units back on hand, damaged ones into damaged goods, in `warehouse` or the one the
    parcel left from. A return waits for `refund` (or is refunded now with refund=True); an
    exchange or repair sends its item out as a linked parcel and completes. The case with
    received (good, damaged units), warehouse, linked_shipment_id, order_closed, notices."""
    actor = require(shop.actor, "receive_returns")
    at = clock.now()
    with shop.store.write() as conn:
        _, case = lock_case(conn, case_id)
        check_version(conn, case, expected_version)
        kind = case["kind"]
        if kind == str(AfterSaleKind.REFUND):
            raise Refused("aftersales.not_returning", case_id=case_id, kind=t(f"after_sale_kind.{kind}"))
        if case["refund_status"] == str(RefundStatus.WAIT_BUYER_RETURN_GOODS):
            apply(conn, "after_sale", int(case_id), "goods_returned", actor, now=at)
        elif case["refund_status"] != str(RefundStatus.WAIT_SELLER_CONFIRM_GOODS):
            raise Refused(
                "aftersales.not_awaiting_goods",
                case_id=case_id,
                state=label("after_sale", "refund_status", case["refund_status"]),
            )
        counts = _counts(int(case_id), received)
        got = _record(conn, int(case_id), case_lines(conn, int(case_id)), counts)
        origin = _origin(conn, case, got["line_no"].to_list())
        into = _warehouse(conn, int(case_id), origin, warehouse)
        units = take_back(
            conn,
            got.with_columns(
                pl.lit(into).alias("warehouse_code"),
                pl.lit(case["order_no"]).alias("order_no"),
                pl.lit(origin["shipment_id"] if origin else None, pl.Int64).alias("shipment_id"),
            ),
            actor,
            at=at,
            source=f"after_sale:{int(case_id)}",
            reason=t("aftersales.return_reason", case_id=case_id),
        )
        summary = f"{units['good']}/{units['damaged']}"
        write_case(conn, actor, at, int(case_id), "receive", {"received_at": at})
        audit_fields(conn, actor, at, int(case_id), "receive", [("received", None, summary)], into)
        extra: dict[str, Any] = {"received": units, "warehouse": into, "order_closed": False}
        steps: list[tuple[str, dict[str, Any]]] = [("received", {"units": units["good"] + units["damaged"]})]
        if kind in (str(AfterSaleKind.EXCHANGE), str(AfterSaleKind.REPAIR)):
            sid = _send_out(shop, conn, actor, at, case, origin, into)
            write_case(
                conn,
                actor,
                at,
                int(case_id),
                "receive",
                {"linked_shipment_id": sid},
                audited=("linked_shipment_id",),
            )
            apply(conn, "after_sale", int(case_id), "complete", actor, now=at)
            write_case(conn, actor, at, int(case_id), "complete", {"closed_at": at}, bump=False)
            steps.append((f"{kind}_sent", {}))
        elif refund:
            done = refund_in(conn, actor, at, int(case_id))
            extra["order_closed"] = done["order_closed"]
            steps.append(("refunded", {"amount": yuan(done["amount_fen"])}))
        result = case_dict(conn, int(case_id), **extra)
        notices = (
            sum(queue_step(conn, actor, at, result, step, **params) for step, params in steps)
            if notify
            else 0
        )
    return {**result, "notices": notices}
