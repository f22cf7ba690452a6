"""The 异常与售后 exceptions and after-sales desk (after-sales, logistics, supervisor; S21, S2, S3, S4,
S13, S24d): the parcels that need a person (tracking alerts), one case per delivery problem (lost,
damaged, wrong address, refused) with its age and who holds it, and the buyers' after-sale cases
(refund, return, exchange, repair) in Taobao's refund codes.

`AfterSalesDeskModel` reads through kit.tracking, kit.exceptions and kit.aftersales and calls one
service per action. Which buttons the selected case offers comes from the lifecycle table (the
changes its state allows the acting role, with the kind guards evaluated on the case) and
kit.permissions; the services check again. Amounts are typed in yuan. CSS classes are listed in
kit.ui.aftersales_view.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import polars as pl
from traitlets import Dict, Enum, List, Unicode, observe

from kit import aftersales, exceptions, lifecycle, tracking
from kit.errors import BadInput
from kit.i18n import t
from kit.models import AfterSaleKind, AfterSaleReason, ExceptionKind, ExceptionState, RefundStatus, Role
from kit.permissions import ACTIONS
from kit.shop import Shop
from kit.ui.columns import labels, when
from kit.ui.session import DeskModel
from kit.ui.table import Column, TableModel

__all__ = [
    "CASE_ACTIONS",
    "EXCEPTION_ACTIONS",
    "KPIS",
    "VIEWS",
    "AfterSalesDeskModel",
    "aftersales_desk",
    "parse_yuan",
]

VIEWS = ("exceptions", "cases", "alerts")  # what the desk's table shows
KPIS = ("alerts", "exceptions_open", "exceptions_mine", "cases_open", "cases_goods", "oldest_hours")
# the buttons a selected row may offer, in the order they are shown
EXCEPTION_ACTIONS = (
    "take",
    "claim",
    "answer",
    "reship",
    "refund",
    "correct_address",
    "resolve",
    "receive_return",
    "close_case",
)
ADDRESS_FIELDS = ("receiver_name", "receiver_mobile", "province", "city", "district", "address_detail")
CASE_ACTIONS = ("take", "agree", "refund", "refuse", "goods_returned", "receive", "reopen", "close_case")
ALERT_ACTIONS = ("open_exception", "open_from_alerts")
_ENTITY = {"exceptions": "exception", "cases": "after_sale"}
_KEYS = {"exceptions": "case_id", "cases": "case_id", "alerts": "shipment_id"}
_OPEN_KINDS = {"lost": "lost", "damaged": "damaged", "refused": "refused", "returned": "refused"}


def parse_yuan(text: Any, *, required: bool = True) -> int | None:
    """An amount typed in yuan ("12.5", "12.50元") as fen; None when empty and not required."""
    raw = str(text if text is not None else "").strip().replace("元", "").replace("¥", "").replace(",", "")
    if not raw:
        if required:
            raise BadInput("aftersales_desk.amount_needed")
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BadInput("aftersales_desk.bad_amount", value=str(text)) from None
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise BadInput("aftersales_desk.bad_amount", value=str(text))
    return int(value * 100)


def _yuan(column: str) -> pl.Expr:
    return (pl.col(column).cast(pl.Float64).fill_null(0) / 100).round(2)


def exception_columns() -> list[Column]:
    """Delivery exception cases (S21): kind, state, parcel, who holds it and for how long."""
    c = "aftersales_desk.col_"
    return [
        Column(t(c + "case"), pl.col("case_id"), 60, "d"),
        Column(t(c + "kind"), labels("kind", ExceptionKind), 80),
        Column(t(c + "state"), labels("state", ExceptionState), 110),
        Column(t(c + "order_no"), pl.col("order_no"), 160),
        Column(t(c + "tracking_no"), pl.col("tracking_no").fill_null(""), 140),
        Column(t(c + "owner"), pl.col("owner").fill_null(""), 90),
        Column(t(c + "age_hours"), pl.col("age_hours").cast(pl.Float64), 110, ",.1f"),
        Column(t(c + "claim"), _yuan("claim_fen"), 100, ",.2f"),
        Column(t(c + "note"), pl.coalesce(pl.col("task"), pl.col("description"), pl.lit("")), 260),
    ]


def case_columns() -> list[Column]:
    """After-sale cases (S24d): kind, refund status, reason, amount, who holds it and for how long."""
    c = "aftersales_desk.col_"
    return [
        Column(t(c + "case"), pl.col("case_id"), 60, "d"),
        Column(t(c + "order_no"), pl.col("order_no"), 160),
        Column(t(c + "kind"), labels("kind", AfterSaleKind), 80),
        Column(t(c + "status"), labels("refund_status", RefundStatus), 170),
        Column(t(c + "reason"), labels("reason", AfterSaleReason), 110),
        Column(t(c + "amount"), _yuan("amount_fen"), 110, ",.2f"),
        Column(t(c + "owner"), pl.col("owner").fill_null(""), 90),
        Column(t(c + "age_hours"), pl.col("age_hours").cast(pl.Float64), 110, ",.1f"),
        Column(t(c + "return_no"), pl.col("return_tracking_no").fill_null(""), 140),
    ]


def alert_columns() -> list[Column]:
    """Parcels that need a person (kit.tracking.alerts): kind, since when, what the carrier said."""
    c = "aftersales_desk.col_"
    return [
        Column(t(c + "shipment"), pl.col("shipment_id"), 70, "d"),
        Column(t(c + "order_no"), pl.col("order_no"), 160),
        Column(
            t(c + "alert"),
            pl.col("kind").replace_strict(
                {k: t(f"tracking_alert.{k}") for k in tracking.ALERT_KINDS},
                default=pl.col("kind"),
                return_dtype=pl.String,
            ),
            90,
        ),
        Column(t(c + "tracking_no"), pl.col("tracking_no").fill_null(""), 140),
        Column(t(c + "since"), when("since"), 100),
        Column(t(c + "note"), pl.col("detail").fill_null(""), 320),
    ]


def _passes(entity: str, action: str, kind: str) -> bool:
    """Whether a case of `kind` passes the kind guards of the transition (they read `kind` only)."""
    row = pl.DataFrame({"kind": [kind]})
    return all(row.select(g.refusal()).item() is None for g in lifecycle.transition(entity, action).guards)


class AfterSalesDeskModel(DeskModel):
    """What the exceptions and after-sales desk shows and offers, each action one service call."""

    view = Enum(VIEWS, default_value="exceptions", help="which list the table shows")
    offered = List(Unicode(), help="the actions the selected row offers the acting person")
    chosen = Dict(help="the selected row of the list shown (empty when none or several)")

    def __init__(self, shop: Shop | None = None, **kwargs: Any) -> None:
        super().__init__(shop, **kwargs)
        searched = tuple(t(f"aftersales_desk.col_{c}") for c in ("order_no", "tracking_no", "owner", "case"))
        columns = {"exceptions": exception_columns(), "cases": case_columns(), "alerts": alert_columns()}
        self.tables = {v: TableModel(columns[v], key=_KEYS[v], search=searched) for v in VIEWS}
        for table in self.tables.values():
            table.observe(self._pick, names="selected")
        self._allow()

    # --- who acts and what they may do -----------------------------------------------------

    def _may(self, role: Role) -> list[str]:
        may = {
            "open_exception": role in ACTIONS["open_exception"],
            "open_from_alerts": role in ACTIONS["open_exception"],
            "take_exception": role in ACTIONS["handle_exception"],
            "take_case": role in ACTIONS["open_after_sale"] and role is not Role.PRESALE,
            "receive": role in ACTIONS["receive_returns"],
            "import_refunds": role in ACTIONS["import_refunds"],
        }
        moves = {
            f"{tr.entity}.{tr.action}"
            for tr in lifecycle.TRANSITIONS
            if tr.entity in ("exception", "after_sale") and role in tr.roles
        }
        return sorted({k for k, ok in may.items() if ok} | moves)

    @observe("view", "allowed")
    def _pick(self, _change: object = None) -> None:
        """The selected row of the list shown and what it offers (one row: several are not acted on)."""
        if not self.tables:
            return
        table = self.tables[self.view]
        row: dict[str, Any] = {}
        if len(table.selected) == 1 and table.frame.height:
            key = table.selected[0]
            found = table.frame.filter(pl.col(table.key).cast(pl.String) == key)
            row = found.row(0, named=True) if found.height else {}
        self.chosen = row
        self.offered = self._offers(row)

    def _offers(self, row: dict[str, Any]) -> list[str]:
        allowed = set(self.allowed)
        if self.view == "alerts":
            return [a for a in ALERT_ACTIONS if a in allowed and (row or a == "open_from_alerts")]
        if not row:
            return []
        entity = _ENTITY[self.view]
        field = "state" if entity == "exception" else "refund_status"
        role = self.role
        moves = {
            tr.action
            for tr in lifecycle.transitions_for(entity, str(row[field]), role)
            if _passes(entity, tr.action, str(row["kind"]))
        }
        if entity == "exception":
            take = "take_exception" in allowed and str(row["state"]) not in ("resolved", "closed")
            return [a for a in EXCEPTION_ACTIONS if (a == "take" and take) or a in moves]
        status = str(row["refund_status"])
        waiting_goods = status == str(RefundStatus.WAIT_SELLER_CONFIRM_GOODS) and not row.get("received_at")
        offers = {
            "take": "take_case" in allowed and status not in ("SUCCESS", "CLOSED"),
            "agree": "agree_return" in moves or ("refund" in moves and status == "WAIT_SELLER_AGREE"),
            # refund only is paid by agreeing; a return once its goods are checked in
            "refund": "refund" in moves
            and status == str(RefundStatus.WAIT_SELLER_CONFIRM_GOODS)
            and not waiting_goods,
            "refuse": "refuse" in moves,
            "goods_returned": "goods_returned" in moves,
            "receive": waiting_goods and "receive" in allowed and str(row["kind"]) != "refund",
            "reopen": "reopen" in moves,
            "close_case": "close_case" in moves,
        }
        return [a for a in CASE_ACTIONS if offers[a]]

    # --- reading ---------------------------------------------------------------------------

    def _read(self) -> bool:
        shop = self.require_shop()
        self.tables["exceptions"].frame = exceptions.cases(shop, open_only=True)
        self.tables["cases"].frame = aftersales.cases(shop, open_only=True)
        alerts = tracking.alerts(shop)
        self.tables["alerts"].frame = alerts
        me = shop.actor.name if shop.actor is not None else None
        xs, cs = self.tables["exceptions"].frame, self.tables["cases"].frame
        ages = [f["age_hours"].max() for f in (xs, cs) if f.height]
        self.counts = {
            "alerts": alerts.height,
            "exceptions_open": xs.height,
            "exceptions_mine": xs.filter(pl.col("owner") == me).height if me else 0,
            "cases_open": cs.height,
            "cases_goods": cs.filter(
                pl.col("refund_status") == str(RefundStatus.WAIT_SELLER_CONFIRM_GOODS)
            ).height,
            "oldest_hours": round(float(max(ages)), 1) if ages else 0,
        }
        self._pick()
        return True

    # --- actions ---------------------------------------------------------------------------

    def act(
        self, action: str, amount: Any = "", text: str = "", address: dict[str, str] | None = None
    ) -> bool:
        """Run `action` on the selected row of the list shown (amount in yuan, text: evidence,
        answer, reason or note, address: the buyer's right one, as the action needs); one
        service call, then read again."""
        return self.attempt(self._act, action, amount, text, address) is not None

    def _act(
        self, action: str, amount: Any, text: str, address: dict[str, str] | None = None
    ) -> dict[str, Any]:
        if action not in self.offered:
            raise BadInput("aftersales_desk.not_offered", action=t(f"aftersales_desk.button_{action}"))
        shop = self.require_shop()
        text = (text or "").strip()
        if self.view == "alerts":
            return self._finish(self._alert_action(shop, action))
        key = int(self.chosen["case_id"])
        if action == "correct_address":
            given = {f: (address or {}).get(f, "").strip() for f in ADDRESS_FIELDS}
            return self._finish(
                exceptions.correct_address(shop, key, given, expected_version=self.chosen.get("version"))
            )
        calls = self._exception_calls() if self.view == "exceptions" else self._case_calls()
        return self._finish(calls[action](shop, key, amount, text))

    def _exception_calls(self) -> dict[str, Callable[[Shop, int, Any, str], dict[str, Any]]]:
        version = self.chosen.get("version")
        return {
            "take": lambda s, k, a, x: exceptions.take(s, k),
            "claim": lambda s, k, a, x: exceptions.claim(
                s, k, amount_fen=parse_yuan(a), evidence=self._need(x), expected_version=version
            ),
            "answer": lambda s, k, a, x: exceptions.answer(
                s,
                k,
                text=self._need(x),
                compensation_fen=parse_yuan(a, required=False) or 0,
                expected_version=version,
            ),
            "reship": lambda s, k, a, x: exceptions.reship(s, k, expected_version=version),
            "refund": lambda s, k, a, x: exceptions.refund(
                s, k, amount_fen=parse_yuan(a, required=False), expected_version=version
            ),
            "resolve": lambda s, k, a, x: exceptions.resolve(s, k, note=x or None, expected_version=version),
            "receive_return": lambda s, k, a, x: exceptions.receive_return(s, k, expected_version=version),
            "close_case": lambda s, k, a, x: exceptions.close(s, k, self._need(x), expected_version=version),
        }

    def _case_calls(self) -> dict[str, Callable[[Shop, int, Any, str], dict[str, Any]]]:
        version = self.chosen.get("version")
        return {
            "take": lambda s, k, a, x: aftersales.take(s, k),
            "agree": lambda s, k, a, x: aftersales.agree(s, k, expected_version=version),
            "refund": lambda s, k, a, x: aftersales.refund(
                s, k, amount_fen=parse_yuan(a, required=False), expected_version=version
            ),
            "refuse": lambda s, k, a, x: aftersales.refuse(s, k, self._need(x), expected_version=version),
            "goods_returned": lambda s, k, a, x: aftersales.goods_sent_back(s, k, tracking_no=x or None),
            "receive": lambda s, k, a, x: aftersales.receive(s, k, self._all_good(s, k)),
            "reopen": lambda s, k, a, x: aftersales.reopen(s, k),
            "close_case": lambda s, k, a, x: aftersales.close(s, k, self._need(x), expected_version=version),
        }

    def _alert_action(self, shop: Shop, action: str) -> dict[str, Any]:
        if action == "open_from_alerts":
            return exceptions.open_from_alerts(shop)
        row = self.chosen
        kind = _OPEN_KINDS.get(str(row["kind"]))
        if kind is None:
            raise BadInput("aftersales_desk.alert_not_a_case", alert=t(f"tracking_alert.{row['kind']}"))
        return exceptions.open_case(shop, int(row["shipment_id"]), kind, description=row.get("detail"))

    @staticmethod
    def _need(text: str) -> str:
        if not text:
            raise BadInput("aftersales_desk.text_needed")
        return text

    @staticmethod
    def _all_good(shop: Shop, case_id: int) -> list[dict[str, int]]:
        """Every unit of the case's lines back in good order (the desk's one-click check-in)."""
        lines = aftersales.case(shop, case_id)["lines"]
        return [
            {"line_no": int(r["line_no"]), "good": int(r["quantity"]), "damaged": 0}
            for r in lines.iter_rows(named=True)
        ]

    def _finish(self, result: dict[str, Any]) -> dict[str, Any]:
        self._read()
        self.show_info(t("aftersales_desk.done"))
        return result

    def import_refunds(self, name: str, data: bytes) -> bool:
        """Import the platform's refund export (an uploaded file) and say what became of each row."""
        return self.attempt(self._import_refunds, name, data) is not None

    def _import_refunds(self, name: str, data: bytes) -> dict[str, Any]:
        from kit.aftersales.imports import import_refunds

        suffix = Path(name or "refunds.csv").suffix or ".csv"
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"refunds{suffix}"
            path.write_bytes(data)
            done = import_refunds(self.require_shop(), path)
        self._read()
        self.show_info(
            t(
                "aftersales_desk.imported",
                imported=done["imported"],
                updated=done["updated"],
                duplicates=done["duplicates"],
                quarantined=done["quarantined"],
            )
        )
        return done


def aftersales_desk(shop: Shop | None = None) -> Any:
    """The exceptions and after-sales desk for a dashboard cell: open the shop (unless given), read, draw."""
    from kit.ui.aftersales_view import AfterSalesDesk

    model = AfterSalesDeskModel(shop)
    model.refresh()
    return AfterSalesDesk(model)
