"""`kit refund` and `kit aftersale`: the after-sales desk on the command line (S2, S3, S13, S24d).

`kit refund` lists the refund-only cases, imports the platform's refund export, opens a refund,
and agrees, pays, refuses, closes or reopens one; `--left ORDER` says what an order still has
refundable. `kit aftersale` does the same for returns, exchanges and repairs: open one with its
lines, agree, the buyer's parcel sent back, the goods checked in, take a case over, show one
with its lines and trail. Amounts are typed and shown in yuan with two decimals.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import click
import polars as pl

from kit import aftersales
from kit.aftersales.imports import PLATFORMS, import_refunds
from kit.cli.output import common_options, emit_json, pad, say
from kit.cli.review import open_shop
from kit.errors import BadInput
from kit.i18n import catalogue, current_lang, t
from kit.models import AfterSaleKind, AfterSaleReason, RefundStatus

__all__ = ["aftersale", "refund"]

STATUSES = [str(s) for s in RefundStatus]
REASONS = [str(r) for r in AfterSaleReason]
GOODS_KINDS = [str(AfterSaleKind.RETURN), str(AfterSaleKind.EXCHANGE), str(AfterSaleKind.REPAIR)]


def yuan(fen: int | None) -> str:
    """Fen as yuan with two decimals ("12.50")."""
    return f"{(fen or 0) / 100:.2f}"


def to_fen(text: str, option: str) -> int:
    """Yuan typed by staff ("12.5", "12.50", "￥12") as fen; BadInput naming the option otherwise."""
    cleaned = str(text).strip().lstrip("￥¥").removesuffix("元").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise BadInput("cli_aftersales.bad_amount", option=option, value=text) from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise BadInput("cli_aftersales.bad_amount", option=option, value=text)
    return int(value * 100)


def _numbers(text: str, option: str, key: str, sizes: tuple[int, ...]) -> list[str]:
    """A colon-separated value split in its parts; BadInput with the option's form otherwise."""
    parts = [p.strip() for p in str(text).split(":")]
    if len(parts) not in sizes or any(p == "" for p in parts):
        raise BadInput(key, option=option, value=text)
    return parts


def case_lines(values: tuple[str, ...]) -> list[dict[str, Any]]:
    """--line LINE_NO:QTY[:NEW_SKU] as lines of a case."""
    lines = []
    for value in values:
        parts = _numbers(value, "--line", "cli_aftersales.bad_line", (2, 3))
        if not (parts[0].isdigit() and parts[1].isdigit()):
            raise BadInput("cli_aftersales.bad_line", option="--line", value=value)
        lines.append(
            {
                "line_no": int(parts[0]),
                "quantity": int(parts[1]),
                "new_sku": parts[2] if len(parts) == 3 else None,
            }
        )
    return lines


def received_lines(values: tuple[str, ...]) -> list[dict[str, int]]:
    """--receive LINE_NO:GOOD[:DAMAGED] as the units checked in."""
    out = []
    for value in values:
        parts = _numbers(value, "--receive", "cli_aftersales.bad_receive", (2, 3))
        if not all(p.isdigit() for p in parts):
            raise BadInput("cli_aftersales.bad_receive", option="--receive", value=value)
        out.append(
            {
                "line_no": int(parts[0]),
                "good": int(parts[1]),
                "damaged": int(parts[2]) if len(parts) == 3 else 0,
            }
        )
    return out


def _plain(value: Any) -> Any:
    """A case's value as JSON takes it (frames as lists of rows)."""
    return value.to_dicts() if isinstance(value, pl.DataFrame) else value


def _case_json(case: dict[str, Any]) -> dict[str, Any]:
    """A case dict ready for emit_json."""
    return {k: _plain(v) for k, v in case.items()}


def _row(r: dict[str, Any]) -> str:
    """One case as a line of the list."""
    return t(
        "cli_aftersales.row",
        case_id=r["case_id"],
        order_no=r["order_no"],
        kind=pad(r["kind_label"], 8),
        status=pad(r["status_label"], 30),
        amount=yuan(r["amount_fen"]),
        reason=r["reason_label"],
        refund_id=r["refund_id"] or "-",
        owner=r["owner"] or "-",
        hours=r["age_hours"],
    )


def _action_label(action: str) -> str:
    """An audit action's name for staff (the code itself when the catalogue has none)."""
    return catalogue(current_lang()).get(f"action.{action}", action)


def _show(case: dict[str, Any]) -> list[str]:
    """A case with its lines and audit trail, as lines of text."""
    out = [
        t(
            "cli_aftersales.show_head",
            case_id=case["case_id"],
            order_no=case["order_no"],
            kind=case["kind_label"],
            status=case["status_label"],
            amount=yuan(case["amount_fen"]),
            reason=case["reason_label"],
            owner=case["owner"] or "-",
            refund_id=case["refund_id"] or "-",
            left=yuan(case["refundable_fen"]),
        )
    ]
    if case.get("note"):
        out.append(t("cli_aftersales.show_note", note=case["note"]))
    for line in case["lines"].iter_rows(named=True):
        out.append(
            t(
                "cli_aftersales.show_line",
                line_no=line["line_no"],
                sku=line["sku"],
                title=line["title"] or "-",
                quantity=line["quantity"],
                new_sku=line["new_sku"] or "-",
                good=line["received_good"],
                damaged=line["received_damaged"],
            )
        )
    for step in case["audit"].iter_rows(named=True):
        change = f"{step['from_state'] or '-'} → {step['to_state'] or '-'}" if step["field"] else ""
        out.append(
            t(
                "cli_aftersales.show_step",
                at=step["at"].strftime("%Y-%m-%d %H:%M"),
                actor=step["actor"],
                action=_action_label(step["action"]),
                change=change,
                reason=step["reason"] or "",
            )
        )
    return out


def _finish(payload: dict[str, Any], lines: list[str], as_json: bool, rows: list[str] | None = None) -> None:
    """Print the result: the JSON object, or the rows on stdout and the messages on stderr."""
    if as_json:
        emit_json(payload)
    else:
        for row in rows or []:
            click.echo(row)
    for line in lines:
        say(line)


def _one_action(flags: dict[str, bool], case_id: int | None) -> str | None:
    """The one case action asked for (BadInput when several), checking CASE is given for it."""
    chosen = [name for name, on in flags.items() if on]
    if len(chosen) > 1:
        raise BadInput("cli_aftersales.one_action", actions="、".join(f"--{c}" for c in chosen))
    if chosen and case_id is None:
        raise BadInput("cli_aftersales.case_needed", action=f"--{chosen[0]}")
    if not chosen and case_id is not None:
        raise BadInput("cli_aftersales.case_without_action", case_id=case_id)
    return chosen[0] if chosen else None


def _case_done(case: dict[str, Any], action: str) -> str:
    """What a case action did, in words."""
    return t(
        f"cli_aftersales.done_{action}",
        case_id=case["case_id"],
        order_no=case["order_no"],
        status=RefundStatus(case["refund_status"]).label,
        amount=yuan(case.get("amount_fen")),
        owner=case.get("owner") or "-",
    )


def _listing(frame: pl.DataFrame, as_json: bool) -> tuple[dict[str, Any], list[str], list[str]]:
    """A list of cases: the payload, the rows and the count line."""
    rows = [_row(r) for r in frame.iter_rows(named=True)]
    return (
        {"ok": True, "count": frame.height, "cases": frame.to_dicts()},
        [t("cli_aftersales.listed", count=frame.height)],
        rows,
    )


def _statuses(show_all: bool, status: str | None) -> dict[str, Any]:
    """The filter of a list: one status, every case, or (by default) those still open."""
    if status:
        return {"status": status}
    return {} if show_all else {"open_only": True}


@click.command()
@common_options
@click.argument("case_id", type=int, required=False, metavar="[CASE]")
@click.option("--all", "show_all", is_flag=True, help="List every refund, not only the open ones.")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="List the refunds in this status.")
@click.option(
    "--import",
    "import_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="The platform's refund export (退款管理: CSV in UTF-8 or GBK, or XLSX).",
)
@click.option(
    "--platform",
    type=click.Choice(PLATFORMS),
    default="taobao",
    show_default=True,
    help="With --import: whose export it is.",
)
@click.option(
    "--open", "open_order", default=None, metavar="ORDER", help="Open a refund (no goods back) of ORDER."
)
@click.option("--amount", default=None, metavar="YUAN", help="With --open: the money asked for, in yuan.")
@click.option("--reason", type=click.Choice(REASONS), default=None, help="With --open: why the buyer asks.")
@click.option("--note", default=None, help="With --open: the buyer's words.")
@click.option("--agree", is_flag=True, help="CASE: agree (a refund is paid at once).")
@click.option(
    "--pay",
    default=None,
    is_flag=False,
    flag_value="",
    metavar="[YUAN]",
    help="CASE: refund it (the amount asked for, or YUAN).",
)
@click.option("--refuse", default=None, metavar="REASON", help="CASE: refuse the request, with the reason.")
@click.option(
    "--close", "close_reason", default=None, metavar="REASON", help="CASE: close it, with the reason."
)
@click.option("--reopen", is_flag=True, help="CASE: take a refused request up again.")
@click.option("--show", is_flag=True, help="CASE: the case with its trail.")
@click.option("--left", "left_order", default=None, metavar="ORDER", help="What ORDER still has refundable.")
def refund(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    case_id: int | None,
    show_all: bool,
    status: str | None,
    import_path: str | None,
    platform: str,
    open_order: str | None,
    amount: str | None,
    reason: str | None,
    note: str | None,
    agree: bool,
    pay: str | None,
    refuse: str | None,
    close_reason: str | None,
    reopen: bool,
    show: bool,
    left_order: str | None,
) -> None:
    """Refunds (仅退款): list, import the platform's refunds, open, agree, pay, refuse, close, reopen."""
    action = _one_action(
        {
            "agree": agree,
            "pay": pay is not None,
            "refuse": refuse is not None,
            "close": close_reason is not None,
            "reopen": reopen,
            "show": show,
        },
        case_id,
    )
    if open_order and (amount is None or reason is None):
        raise BadInput("cli_aftersales.open_refund_needs")
    with open_shop(db, config_path, actor) as shop:
        if import_path:
            done = import_refunds(shop, import_path, platform=platform)
            lines = [r["message"] for r in done["quarantined_rows"]]
            lines.append(
                t(
                    "cli_aftersales.imported",
                    file=import_path,
                    rows=done["rows"],
                    imported=done["imported"],
                    updated=done["updated"],
                    duplicates=done["duplicates"],
                    quarantined=done["quarantined"],
                    batch_id=done["batch_id"],
                )
            )
            return _finish({"ok": True, "import": done}, lines, as_json)
        if open_order:
            case = aftersales.open_case(
                shop,
                open_order,
                str(AfterSaleKind.REFUND),
                reason,
                amount_fen=to_fen(amount or "", "--amount"),
                note=note,
            )
            return _finish({"ok": True, "case": _case_json(case)}, [_case_done(case, "open")], as_json)
        if left_order:
            left = aftersales.refundable(shop, left_order)
            return _finish(
                {"ok": True, "order_no": left_order, "refundable_fen": left, "refundable": yuan(left)},
                [t("cli_aftersales.left", order_no=left_order, amount=yuan(left))],
                as_json,
            )
        if action is not None and case_id is not None:
            return _case_action(
                shop,
                case_id,
                action,
                as_json,
                reason_text=refuse or close_reason,
                amount_fen=to_fen(pay, "--pay") if pay else None,
            )
        frame = aftersales.cases(shop, kind=str(AfterSaleKind.REFUND), **_statuses(show_all, status))
        payload, lines, rows = _listing(frame, as_json)
    _finish(payload, lines, as_json, rows)


def _case_action(
    shop: Any,
    case_id: int,
    action: str,
    as_json: bool,
    *,
    reason_text: str | None = None,
    amount_fen: int | None = None,
    **more: Any,
) -> None:
    """Run one action on one case and print what it did."""
    if action == "show":
        case = aftersales.case(shop, case_id)
        payload = {"ok": True, "case": _case_json(case)}
        return _finish(payload, [], as_json, _show(case))
    calls = {
        "agree": lambda: aftersales.agree(shop, case_id),
        "pay": lambda: aftersales.refund(shop, case_id, amount_fen=amount_fen),
        "refuse": lambda: aftersales.refuse(shop, case_id, reason_text or ""),
        "close": lambda: aftersales.close(shop, case_id, reason_text or ""),
        "reopen": lambda: aftersales.reopen(shop, case_id),
        "take": lambda: aftersales.take(shop, case_id),
        "sent_back": lambda: aftersales.goods_sent_back(
            shop, case_id, carrier=more.get("carrier"), tracking_no=more.get("number")
        ),
        "receive": lambda: aftersales.receive(
            shop, case_id, more["received"], warehouse=more.get("warehouse")
        ),
    }
    case = calls[action]()
    paid_at_once = action == "agree" and case["refund_status"] == str(RefundStatus.SUCCESS)
    lines = [_case_done(case, "pay" if paid_at_once else action)]
    if case.get("order_closed"):
        lines.append(t("cli_aftersales.order_closed", order_no=case["order_no"]))
    return _finish({"ok": True, "case": _case_json(case)}, lines, as_json)


@click.command()
@common_options
@click.argument("case_id", type=int, required=False, metavar="[CASE]")
@click.option(
    "--kind",
    type=click.Choice(GOODS_KINDS),
    default=None,
    help="With --open: the kind of case (required); else list only this kind.",
)
@click.option("--all", "show_all", is_flag=True, help="List every case, not only the open ones.")
@click.option(
    "--open", "open_order", default=None, metavar="ORDER", help="Open a return, exchange or repair."
)
@click.option("--reason", type=click.Choice(REASONS), default=None, help="With --open: why the buyer asks.")
@click.option(
    "--line",
    "lines",
    multiple=True,
    metavar="LINE_NO:QTY[:NEW_SKU]",
    help="With --open: an order line and its units (an exchange may name the new SKU); repeatable.",
)
@click.option("--amount", default=None, metavar="YUAN", help="With --open: the money to refund (a return).")
@click.option("--note", default=None, help="With --open: the buyer's words.")
@click.option("--agree", is_flag=True, help="CASE: agree; the buyer is told where to send the goods.")
@click.option("--sent-back", "sent_back", is_flag=True, help="CASE: the buyer sent the goods back.")
@click.option("--carrier", default=None, help="With --sent-back: the buyer's carrier.")
@click.option("--number", default=None, help="With --sent-back: the buyer's tracking number.")
@click.option(
    "--receive",
    "received",
    multiple=True,
    metavar="LINE_NO:GOOD[:DAMAGED]",
    help="CASE: the goods checked in, good and damaged units per line; repeatable.",
)
@click.option(
    "--warehouse", default=None, help="With --receive: where the goods are put (default: where they left)."
)
@click.option("--take", is_flag=True, help="CASE: take the case over.")
@click.option("--show", is_flag=True, help="CASE: the case with its lines and trail.")
def aftersale(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    case_id: int | None,
    kind: str | None,
    show_all: bool,
    open_order: str | None,
    reason: str | None,
    lines: tuple[str, ...],
    amount: str | None,
    note: str | None,
    agree: bool,
    sent_back: bool,
    carrier: str | None,
    number: str | None,
    received: tuple[str, ...],
    warehouse: str | None,
    take: bool,
    show: bool,
) -> None:
    """Returns, exchanges and repairs (退货 / 换货 / 维修): list, open, agree, goods back, check in."""
    action = _one_action(
        {"agree": agree, "sent-back": sent_back, "receive": bool(received), "take": take, "show": show},
        case_id,
    )
    if open_order and (kind is None or reason is None or not lines):
        raise BadInput("cli_aftersales.open_goods_needs")
    wanted = case_lines(lines)
    counts = received_lines(received)
    with open_shop(db, config_path, actor) as shop:
        if open_order:
            case = aftersales.open_case(
                shop,
                open_order,
                kind or "",
                reason or "",
                lines=wanted,
                amount_fen=to_fen(amount, "--amount") if amount else 0,
                note=note,
            )
            return _finish({"ok": True, "case": _case_json(case)}, [_case_done(case, "open")], as_json)
        if action is not None and case_id is not None:
            return _case_action(
                shop,
                case_id,
                action.replace("-", "_"),
                as_json,
                carrier=carrier,
                number=number,
                received=counts,
                warehouse=warehouse,
            )
        frame = aftersales.cases(shop, kind=kind, **_statuses(show_all, None))
        if kind is None:
            frame = frame.filter(pl.col("kind") != str(AfterSaleKind.REFUND))
        payload, messages, rows = _listing(frame, as_json)
    _finish(payload, messages, as_json, rows)
