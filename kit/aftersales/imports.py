"""The platform's refund export (Taobao 退款管理) imported in one transaction (S2, S3, S24d).

Every row of the file ends in exactly one of:

- imported: a new after-sale case for the platform's refund number (退款编号), opened with the
  buyer's reason and moved through the lifecycle to the status the export shows;
- updated: the case with that refund number (or the one open case of the same order and kind
  that staff opened before the refund number was known) moved on to the exported status;
- duplicate: the case already stands where the export says;
- quarantined: kept in the quarantine table with its reasons and original text (an unknown
  order, status or reason text, an unreadable amount, more than the order still has to refund,
  a status the case cannot reach from where it stands).

The file is read and classified whole-column; the cases of its refund numbers and orders are
read once each. Moves go through kit.lifecycle as the import's system job, with their audit
rows; a refund reaching SUCCESS goes through kit.aftersales.cases.refund_in, so it has the
effects a refund by staff has (a full refund before shipment cancels the fulfilment).
"""

from __future__ import annotations

import json
from collections import deque
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock, lifecycle
from kit.aftersales.cases import open_in, refund_in
from kit.aftersales.limits import DEAD, RETURNING, SHIPPED
from kit.aftersales.records import lock_case, write_case
from kit.errors import BadInput, KitError
from kit.i18n import t
from kit.intake import parse
from kit.intake.encoding import Table, csv_table, json_text, read_bytes, to_utf8
from kit.intake.readers import WORKBOOK_MAGIC, WORKBOOK_SUFFIXES
from kit.intake.tmall import choose_sheet, sheet_heads, xlsx_table
from kit.models import (
    AfterSaleKind,
    AfterSaleReason,
    PaymentMethod,
    RefundStatus,
    Role,
    StaffMember,
    TradeStatus,
)
from kit.permissions import require
from kit.stock.ledger import new_batch
from kit.store import schema
from kit.store.frames import read_by_keys

__all__ = [
    "HEADERS",
    "OUTCOMES",
    "PLATFORMS",
    "REASON_WORDS",
    "STATUS_TEXT",
    "import_refunds",
    "read_refunds",
    "refund_path",
]

OUTCOMES = ("imported", "updated", "duplicates", "quarantined")
PLATFORMS = ("taobao", "tmall")  # Tmall's refund export is Taobao's
RS, AK = RefundStatus, AfterSaleKind

# the export's columns (the first spelling is the one messages name), by the name the kit uses
HEADERS: dict[str, tuple[str, ...]] = {
    "refund_id": ("退款编号", "退款单号", "退款ID", "退款id"),
    "order_no": ("订单编号", "订单号", "主订单编号", "交易编号"),
    "amount": ("退款金额", "买家退款金额", "申请退款金额", "退款金额(元)", "退款金额（元）"),
    "status": ("退款状态", "售后状态"),
    "reason": ("退款原因", "售后原因", "买家退款原因"),
    "needs_return": ("是否需要退货", "是否退货", "需要退货"),
    "applied_at": ("申请时间", "退款申请时间", "买家申请退款时间", "退款创建时间"),
    "carrier": ("买家退货物流公司", "退货物流公司"),
    "tracking_no": ("退货运单号", "买家退货运单号", "退货物流单号"),
}
REQUIRED = ("refund_id", "order_no", "amount", "status")

# 退款状态 as the seller backend writes it (and the kit's own labels) → RefundStatus code
STATUS_TEXT: dict[str, str] = {
    "买家已经申请退款，等待卖家同意": RS.WAIT_SELLER_AGREE,
    "买家已申请退款，等待卖家同意": RS.WAIT_SELLER_AGREE,
    "买家已申请，等待卖家同意": RS.WAIT_SELLER_AGREE,
    "等待卖家同意": RS.WAIT_SELLER_AGREE,
    "卖家已经同意退款，等待买家退货": RS.WAIT_BUYER_RETURN_GOODS,
    "卖家已同意退款，等待买家退货": RS.WAIT_BUYER_RETURN_GOODS,
    "卖家已同意，等待买家退货": RS.WAIT_BUYER_RETURN_GOODS,
    "等待买家退货": RS.WAIT_BUYER_RETURN_GOODS,
    "买家已经退货，等待卖家确认收货": RS.WAIT_SELLER_CONFIRM_GOODS,
    "买家已退货，等待卖家确认收货": RS.WAIT_SELLER_CONFIRM_GOODS,
    "等待卖家确认收货": RS.WAIT_SELLER_CONFIRM_GOODS,
    "退款成功": RS.SUCCESS,
    "退款关闭": RS.CLOSED,
    "卖家拒绝退款": RS.SELLER_REFUSE_BUYER,
    "卖家已拒绝退款": RS.SELLER_REFUSE_BUYER,
}
STATUS_CODES: dict[str, str] = {**{k: str(v) for k, v in STATUS_TEXT.items()}, **{str(s): str(s) for s in RS}}

# 退款原因 → reason code: the first pattern that matches, in this order (the buyer's own
# mistake before the shop's: "尺码拍错" is changed_mind, not not_as_described)
REASON_WORDS: tuple[tuple[str, str], ...] = (
    (r"未按约定时间发货|未按时发货|延迟发货|超时未发货|发货太慢", AfterSaleReason.LATE_SHIPMENT),
    (r"拒收|拒签", AfterSaleReason.REFUSED_DELIVERY),
    (r"丢件|丢失|未收到|没收到|没有收到", AfterSaleReason.LOST),
    (r"破损|损坏|压坏|碎了|摔坏", AfterSaleReason.DAMAGED),
    (r"发错|错发|少件|漏发|少发|缺件", AfterSaleReason.WRONG_ITEM),
    (r"质量", AfterSaleReason.QUALITY),
    (r"七天无理由|7天无理由|无理由|不想要|拍错|多拍|不喜欢", AfterSaleReason.CHANGED_MIND),
    (r"与描述不符|描述不符|尺码|颜色|色差|规格|大小", AfterSaleReason.NOT_AS_DESCRIBED),
)
YES = ("是", "需要", "y", "yes", "true", "1", "退货")
NO = ("否", "不需要", "n", "no", "false", "0", "不退货", "")
GOODS_STATUSES = (str(RS.WAIT_BUYER_RETURN_GOODS), str(RS.WAIT_SELLER_CONFIRM_GOODS))
CASE_COLUMNS = [
    "case_id",
    "order_no",
    "kind",
    "refund_status",
    "amount_fen",
    "refund_id",
    "version",
    "return_carrier",
    "return_tracking_no",
]
c = pl.col


# --- reading the file ------------------------------------------------------------------------


def _refund_header_row(rows: list[list[str]]) -> int | None:
    """The first of a sheet's top rows that names the refund number and the order number."""
    for i, row in enumerate(rows):
        names = {v.strip() for v in row}
        if names & set(HEADERS["refund_id"]) and names & set(HEADERS["order_no"]):
            return i
    return None


def _table(path: str | Path, source: str, max_bytes: int) -> Table:
    """The export as a table of text: a CSV (UTF-8 or GBK / GB18030) or a workbook's sheet."""
    data = read_bytes(path, source, max_bytes)
    if Path(path).suffix.lower() in WORKBOOK_SUFFIXES or data.startswith(WORKBOOK_MAGIC):
        heads = sheet_heads(data, source)
        sheet, header = choose_sheet(heads, source, None, _refund_header_row)
        return xlsx_table(data, source, sheet, header)
    utf8, cut = to_utf8(data, source)
    return csv_table(utf8, source, cut)


def _pick(pair: parse.Pair) -> pl.Expr:
    """A parser's fast reading, else its slow one."""
    fast, slow = pair
    return fast if slow is None else pl.coalesce(fast, slow)


def _reason_code(text: pl.Expr) -> pl.Expr:
    """The reason code of the buyer's words (a code itself is taken as it is); null when none fits."""
    codes = [str(r) for r in AfterSaleReason]
    out = pl.when(text.is_in(codes)).then(text)
    for pattern, code in REASON_WORDS:
        out = out.when(text.str.contains(pattern)).then(pl.lit(str(code)))
    return out.otherwise(pl.lit(None, dtype=pl.String))


def read_refunds(path: str | Path, *, max_bytes: int = 1 << 30) -> pl.DataFrame:
    """The export's rows, parsed whole-column: row_no, refund_id, order_no, amount_fen, status,
    reason, reason_text, kind, applied_at, carrier, tracking_no, problems (codes "code:column")
    and raw (JSON of the row as written). BadInput when a required column is missing."""
    source = Path(path).name
    table = _table(path, source, max_bytes)
    found = {name: parse.find(table, *names) for name, names in HEADERS.items()}
    missing = [HEADERS[n][0] for n in REQUIRED if found[n] is None]
    if missing:
        raise BadInput(
            "refund_import.missing_columns",
            file=source,
            columns="、".join(missing),
            found="、".join(h.strip() for h in table.headers) or "-",
        )

    def cell(name: str) -> pl.Expr:
        return c(found[name]).fill_null("") if found[name] is not None else pl.lit("")

    def label(name: str) -> str:
        return (found[name] or HEADERS[name][0]).strip()

    status_text = cell("status").str.replace_all(r"\s", "").str.replace_all(",", "，", literal=True)
    reason_text = parse.text(cell("reason"))
    answer = cell("needs_return").str.strip_chars().str.to_lowercase()
    values = table.cells.select(
        parse.text(parse.unwrap(cell("refund_id"))).alias("refund_id"),
        _pick(parse.order_no(cell("order_no"), None)).alias("order_no"),
        _pick(parse.amount_fen(cell("amount"))).alias("amount_fen"),
        status_text.replace_strict(STATUS_CODES, default=None, return_dtype=pl.String).alias("status"),
        reason_text.alias("reason_text"),
        _reason_code(reason_text).alias("reason"),
        pl.when(answer.is_in(YES))
        .then(pl.lit(True))
        .when(answer.is_in(NO))
        .then(pl.lit(False))
        .alias("needs_return"),
        (answer == "").alias("_no_answer"),
        _pick(parse.moment(cell("applied_at"))).alias("applied_at"),
        (cell("applied_at").str.strip_chars() == "").alias("_no_time"),
        parse.text(cell("carrier")).alias("carrier"),
        parse.text(parse.unwrap(cell("tracking_no"))).alias("tracking_no"),
        (cell("order_no").str.strip_chars() == "").alias("_no_order"),
    )
    values = values.with_columns(
        pl.when(
            c("needs_return")
            | (c("_no_answer") & (c("status").is_in(GOODS_STATUSES) | c("tracking_no").is_not_null()))
        )
        .then(pl.lit(str(AK.RETURN)))
        .otherwise(pl.lit(str(AK.REFUND)))
        .alias("kind"),
    )
    checks = [
        (c("refund_id").is_null(), f"missing_refund_id:{label('refund_id')}"),
        (c("order_no").is_null() & c("_no_order"), f"missing_order_no:{label('order_no')}"),
        (c("order_no").is_null() & ~c("_no_order"), f"bad_order_no:{label('order_no')}"),
        (c("amount_fen").is_null() | (c("amount_fen") < 0), f"bad_amount:{label('amount')}"),
        (c("status").is_null(), f"unknown_status:{label('status')}"),
        (c("reason").is_null(), f"unknown_reason:{label('reason')}"),
        (c("needs_return").is_null() & ~c("_no_answer"), f"bad_needs_return:{label('needs_return')}"),
        (c("applied_at").is_null() & ~c("_no_time"), f"bad_date:{label('applied_at')}"),
    ]
    problems = pl.concat_list([pl.when(bad).then(pl.lit(code)) for bad, code in checks]).list.drop_nulls()
    raw = json_text(table.cells, {h: h for h in table.headers})
    short, long = table.ragged()
    rows = values.with_columns(problems.alias("problems")).hstack(
        [table.cells.select(raw.alias("raw")).to_series(), short.alias("_short"), long.alias("_long")]
    )
    rows = rows.with_columns(
        pl.concat_list(
            [
                pl.when(c("_short")).then(pl.lit("short_row")),
                pl.when(c("_long")).then(pl.lit("long_row")),
                c("problems"),
            ]
        )
        .list.drop_nulls()
        .alias("problems"),
    )
    return rows.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row_no"),
        pl.lit(source).alias("source"),
        "refund_id",
        "order_no",
        "amount_fen",
        "status",
        "reason",
        "reason_text",
        "kind",
        "applied_at",
        "carrier",
        "tracking_no",
        "problems",
        "raw",
    )


# --- the way from one refund status to another -----------------------------------------------


@cache
def _graph(kind: str) -> dict[str, list[tuple[str, str]]]:
    """Refund status moves the import's system job may make on a case of this kind: from →
    [(action, to)]. `complete` (an exchange or repair sent back out) is staff's work."""
    probe = pl.DataFrame({"kind": [kind]})
    graph: dict[str, list[tuple[str, str]]] = {}
    for tr in lifecycle.TRANSITIONS:
        if tr.entity != "after_sale" or Role.SYSTEM not in tr.roles or tr.action == "complete":
            continue
        if any(probe.select(g.refusal()).item() is not None for g in tr.guards):
            continue
        for source in sorted(tr.sources):
            graph.setdefault(source, []).append((tr.action, tr.target))
    return graph


def refund_path(kind: str, source: str, target: str) -> list[str] | None:
    """The shortest list of lifecycle actions taking a case of `kind` from one refund status
    to another ([] when it is there already); None when there is no way."""
    queue, seen = deque([(source, [])]), {source}
    while queue:
        state, path = queue.popleft()
        if state == target:
            return path
        for action, nxt in _graph(kind).get(state, []):
            if nxt not in seen:
                seen.add(nxt)
                queue.append((nxt, [*path, action]))
    return None


# --- classifying the rows against the shop ---------------------------------------------------


def _with_problem(rows: pl.DataFrame, bad: pl.Expr, code: str) -> pl.DataFrame:
    """Add the problem `code` to the rows without one yet where `bad` holds."""
    hit = (c("problems").list.len() == 0) & bad.fill_null(False)
    return rows.with_columns(
        pl.when(hit)
        .then(pl.concat_list([c("problems"), pl.lit([code])]))
        .otherwise(c("problems"))
        .alias("problems")
    )


def _classify(
    rows: pl.DataFrame, orders: pl.DataFrame, by_refund: pl.DataFrame, by_order: pl.DataFrame
) -> pl.DataFrame:
    """Each row with its case (case_id, or null for a new one), where it stands (from_status),
    the case's kind, whether an open case is adopted, and its problems; whole-column."""
    ok = c("problems").list.len() == 0
    # a refund number written twice: the first row counts, an identical later one is a duplicate
    rows = (
        rows.with_columns(
            (ok & c("refund_id").is_not_null()).alias("_ok"),
        )
        .with_columns(
            (c("_ok") & c("refund_id").is_first_distinct().over("_ok")).alias("_first"),
        )
        .with_columns(
            c("status").filter(c("_first")).first().over("refund_id").alias("_first_status"),
        )
    )
    rows = _with_problem(
        rows, c("_ok") & ~c("_first") & (c("status") != c("_first_status")), "repeated_refund_id"
    )
    rows = rows.with_columns(
        (c("_ok") & ~c("_first") & (c("problems").list.len() == 0)).alias("_repeat"),
    )
    # the order, and the case of the refund number
    rows = rows.join(orders.select("order_no", c("paid_fen").alias("_paid")), on="order_no", how="left")
    rows = _with_problem(rows, c("_paid").is_null() & c("order_no").is_not_null(), "unknown_order")
    rows = rows.join(
        by_refund.select(
            "refund_id",
            "case_id",
            c("order_no").alias("_case_order"),
            c("kind").alias("_case_kind"),
            c("refund_status").alias("_case_status"),
        ),
        on="refund_id",
        how="left",
    )
    rows = _with_problem(
        rows, c("case_id").is_not_null() & (c("_case_order") != c("order_no")), "other_order"
    )
    # a case staff opened before the platform's number was known: the one open case of the
    # order and kind without a number, when the file has one new refund for that order and kind
    waiting = by_order.filter(c("refund_id").is_null() & ~c("refund_status").is_in([*DEAD, str(RS.SUCCESS)]))
    single = (
        waiting.group_by("order_no", "kind")
        .agg(c("case_id").first().alias("_adopt"), pl.len().alias("_n"))
        .filter(c("_n") == 1)
    )
    fresh = (c("problems").list.len() == 0) & ~c("_repeat") & c("case_id").is_null()
    rows = rows.with_columns(fresh.alias("_fresh")).with_columns(
        pl.len().over("_fresh", "order_no", "kind").alias("_fresh_n")
    )
    rows = rows.join(single.drop("_n"), on=["order_no", "kind"], how="left").with_columns(
        pl.when(c("_fresh") & (c("_fresh_n") == 1)).then(c("_adopt")).alias("_adopt")
    )
    adopted = by_order.select(
        c("case_id").alias("_adopt"),
        c("kind").alias("_adopt_kind"),
        c("refund_status").alias("_adopt_status"),
    )
    rows = rows.join(adopted, on="_adopt", how="left").with_columns(
        c("case_id").fill_null(c("_adopt")).alias("case_id"),
        c("_case_kind").fill_null(c("_adopt_kind")).fill_null(c("kind")).alias("case_kind"),
        c("_case_status")
        .fill_null(c("_adopt_status"))
        .fill_null(pl.lit(str(RS.WAIT_SELLER_AGREE)))
        .alias("from_status"),
        c("_adopt").is_not_null().alias("adopted"),
    )
    return rows


def _paths(rows: pl.DataFrame) -> pl.DataFrame:
    """The rows with `path` (list of actions, null when the exported status cannot be reached)."""
    combos = rows.filter(c("problems").list.len() == 0).select("case_kind", "from_status", "status").unique()
    found = [refund_path(k, f, s) for k, f, s in combos.iter_rows()]  # a loop over distinct moves
    table = combos.with_columns(pl.Series("path", found, dtype=pl.List(pl.String)))
    rows = rows.join(table, on=["case_kind", "from_status", "status"], how="left")
    return _with_problem(rows, c("path").is_null(), "unreachable")


def _paid(orders: pl.DataFrame) -> pl.Expr:
    """What the buyer has paid (kit.aftersales.limits.paid_fen, whole-column): a COD order its
    payable once signed for, else nothing; an online order its paid amount."""
    signed = c("trade_status").is_in([str(TradeStatus.TRADE_BUYER_SIGNED), str(TradeStatus.TRADE_FINISHED)])
    return (
        pl.when(c("payment_method") == str(PaymentMethod.COD))
        .then(pl.when(signed).then(c("payable_fen")).otherwise(0))
        .otherwise(c("paid_fen").fill_null(0))
    )


def _amounts(rows: pl.DataFrame, by_order: pl.DataFrame) -> pl.DataFrame:
    """Rows asking more than the order still has refundable get over_refundable, in the order
    the rows are written: cases going to CLOSED or SELLER_REFUSE_BUYER first (they free their
    money), then the others (existing cases before new ones, in row order). Refundable is paid
    less the live cases of the order (kit.aftersales.limits) as they stand at that moment."""
    counted = (c("problems").list.len() == 0) & ~c("_repeat")
    listed = rows.filter(counted & c("case_id").is_not_null())["case_id"].to_list()
    held = (
        by_order.filter(~c("refund_status").is_in(DEAD) & ~c("case_id").is_in(listed))
        .group_by("order_no")
        .agg(c("amount_fen").sum().alias("_held"))
    )
    live = counted & ~c("status").is_in(DEAD)
    rows = (
        rows.join(held, on="order_no", how="left")
        .with_columns(
            c("_held").fill_null(0),
            pl.when(live).then(c("amount_fen")).otherwise(0).alias("_asks"),
            pl.when(counted & c("case_id").is_not_null() & ~c("from_status").is_in(DEAD) & live)
            .then(c("amount_fen"))
            .otherwise(0)
            .alias("_live_before"),
        )
        .with_columns(
            c("_asks")
            .cum_sum()
            .over("order_no", order_by=[c("case_id").is_null(), c("row_no")])
            .alias("_asked"),
            c("_live_before").sum().over("order_no").alias("_live_before"),
        )
        .with_columns(
            pl.when(live)
            .then(c("_paid") - c("_held") - c("_asked") + c("_asks"))
            .when(c("case_id").is_null())
            .then(c("_paid") - c("_held") - c("_live_before"))
            .alias("refundable_fen"),
        )
    )
    over = counted & c("refundable_fen").is_not_null() & (c("amount_fen") > c("refundable_fen"))
    rows = _with_problem(rows, over, "over_refundable")
    nothing = (
        counted
        & (c("status") == str(RS.SUCCESS))
        & (c("amount_fen") == 0)
        & (c("from_status") != c("status"))
    )
    return _with_problem(rows, nothing, "nothing_to_refund")


def _returnable(conn: sa.Connection, order_nos: list[str], by_order: pl.DataFrame) -> pl.DataFrame:
    """Per order, the units a return may name (kit.aftersales.limits.check_lines): shipped in
    parcels handed over or confirmed, less those in the order's live return, exchange or repair
    cases; as order_no, lines (list of {line_no, quantity})."""
    sl = read_by_keys(
        conn, schema.shipment_lines, ["shipment_id", "order_no", "line_no", "quantity"], "order_no", order_nos
    )
    sh = read_by_keys(
        conn, schema.shipments, ["shipment_id", "stage"], "shipment_id", sl["shipment_id"].unique().to_list()
    )
    shipped = (
        sl.join(sh.filter(c("stage").is_in(SHIPPED)), on="shipment_id")
        .group_by("order_no", "line_no")
        .agg(c("quantity").sum().alias("shipped"))
    )
    live = by_order.filter(c("kind").is_in(RETURNING) & ~c("refund_status").is_in(DEAD))
    taken = (
        read_by_keys(
            conn,
            schema.after_sale_lines,
            ["case_id", "line_no", "quantity"],
            "case_id",
            live["case_id"].to_list(),
        )
        .join(live.select("case_id", "order_no"), on="case_id")
        .group_by("order_no", "line_no")
        .agg(c("quantity").sum().alias("taken"))
    )
    left = (
        shipped.join(taken, on=["order_no", "line_no"], how="left")
        .with_columns((c("shipped") - c("taken").fill_null(0)).alias("quantity"))
        .filter(c("quantity") > 0)
        .sort("order_no", "line_no")
    )
    return left.group_by("order_no").agg(
        pl.struct(c("line_no").cast(pl.Int64), c("quantity").cast(pl.Int64)).alias("lines")
    )


def _outcomes(rows: pl.DataFrame) -> pl.DataFrame:
    """Each row's outcome from its problems, case and path."""
    return rows.with_columns(
        pl.when(c("problems").list.len() > 0)
        .then(pl.lit("quarantined"))
        .when(c("_repeat"))
        .then(pl.lit("duplicates"))
        .when(c("case_id").is_null())
        .then(pl.lit("imported"))
        .when((c("path").list.len() == 0) & ~c("adopted"))
        .then(pl.lit("duplicates"))
        .otherwise(pl.lit("updated"))
        .alias("outcome")
    )


# --- writing -----------------------------------------------------------------------------------


def _note(row: dict[str, Any]) -> str:
    """The case's note: the platform's refund number, the buyer's words and when they asked."""
    applied = row["applied_at"].strftime("%Y-%m-%d %H:%M") if row["applied_at"] else "-"
    return t(
        "refund_import.note", refund_id=row["refund_id"], reason=row["reason_text"] or "-", applied_at=applied
    )


def _write_row(
    conn: sa.Connection, row: dict[str, Any], system: StaffMember, moment: datetime, batch_id: int
) -> tuple[int, bool]:
    """One refund row written: its case opened (or given the platform's number), its return parcel
    noted, and walked along its path; (case_id, whether a refund closed the order's trade)."""
    case_id = row["case_id"]
    if case_id is None:
        case_id = open_in(
            conn,
            system,
            moment,
            order_no=row["order_no"],
            kind=row["case_kind"],
            reason=row["reason"],
            amount_fen=row["amount_fen"],
            lines=row["lines"] if row["case_kind"] in RETURNING else None,
            refund_id=row["refund_id"],
            note=_note(row),
        )
    values: dict[str, Any] = {}
    if row["adopted"]:
        values["refund_id"] = row["refund_id"]
    if row["tracking_no"] and not row["_had_tracking"]:
        values |= {"return_carrier": row["carrier"], "return_tracking_no": row["tracking_no"]}
    if values:
        lock_case(conn, case_id)
        write_case(
            conn,
            system,
            moment,
            case_id,
            "import_update",
            values,
            audited=tuple(values),
            reason=t("refund_import.batch", batch_id=batch_id),
        )
    why = t("refund_import.platform_says", status=RefundStatus(row["status"]).label)
    closed = False
    for action in row["path"]:
        if action == "refund":
            done = refund_in(conn, system, moment, case_id, amount_fen=row["amount_fen"])
            closed = closed or bool(done.get("order_closed"))
        else:
            lifecycle.apply(conn, "after_sale", case_id, action, system, reason=why, now=moment)
    return int(case_id), closed


def _write(
    conn: sa.Connection, rows: pl.DataFrame, system: StaffMember, moment: datetime, batch_id: int
) -> tuple[dict[int, int], dict[int, str], list[str]]:
    """Write the imported and updated rows, each in its own savepoint, cases that free money
    first: (row_no → case_id, row_no → why kit.aftersales or the lifecycle refused it, the orders
    whose trade a refund closed). A refused row leaves nothing behind."""
    todo = rows.filter(c("outcome").is_in(["imported", "updated"])).sort(
        ~c("status").is_in(DEAD), c("case_id").is_null(), "row_no"
    )
    written, refused, closed = {}, {}, []
    for row in todo.iter_rows(named=True):  # kit.aftersales opens and refunds one case at a time
        try:
            with conn.begin_nested():
                written[row["row_no"]], was_closed = _write_row(conn, row, system, moment, batch_id)
        except KitError as exc:
            refused[row["row_no"]] = exc.message
            continue
        if was_closed:
            closed.append(row["order_no"])
    return written, refused, closed


def _why(code: str, row: dict[str, Any], cells: dict[str, Any]) -> str:
    """One problem of a quarantined row in words: the column, its text, and the fix."""
    name, _, column = code.partition(":")
    params = {
        "column": column or "-",
        "value": "" if cells.get(column) is None else str(cells[column]),
        "refund_id": row.get("refund_id") or "-",
        "order_no": row.get("order_no") or "-",
        "amount": f"{(row.get('amount_fen') or 0) / 100:.2f}",
        "left": f"{max(row.get('refundable_fen') or 0, 0) / 100:.2f}",
        "current": RefundStatus(row["from_status"]).label if row.get("from_status") else "-",
        "target": RefundStatus(row["status"]).label if row.get("status") else "-",
        "message": row.get("_message") or "",
        "reasons": "、".join(f"{r.label}" for r in AfterSaleReason),
    }
    return t(f"refund_import.why_{name}", **params)


def _quarantine(conn: sa.Connection, held: pl.DataFrame, batch_id: int, moment: datetime) -> list[dict]:
    """Keep the quarantined rows with their reasons and original text (a row already waiting
    there from an earlier import of the same file is not kept twice); return them as dicts."""
    out = []
    for row in held.iter_rows(named=True):  # quarantined rows only: their messages, in words
        cells = json.loads(row["raw"]) if row["raw"] else {}
        texts = [_why(code, row, cells) for code in dict.fromkeys(row["problems"])]
        out.append(
            {
                "row_no": row["row_no"],
                "refund_id": row["refund_id"],
                "order_no": row["order_no"],
                "reasons": list(row["problems"]),
                "raw": row["raw"],
                "source": row["source"],
                "message": t("refund_import.row", row_no=row["row_no"], reasons="；".join(texts)),
            }
        )
    if not out:
        return out
    q = schema.quarantine
    waiting = {
        r
        for (r,) in conn.execute(
            sa.select(q.c.raw).where(
                q.c.status == "open", q.c.row_kind == "refund", q.c.source == out[0]["source"]
            )
        )
    }
    fresh = [r for r in out if r["raw"] not in waiting]
    if fresh:
        conn.execute(
            q.insert(),
            [
                {
                    "batch_id": batch_id,
                    "source": r["source"],
                    "row_no": r["row_no"],
                    "row_kind": "refund",
                    "order_no": r["order_no"],
                    "reasons": "\n".join(r["reasons"]),
                    "message": r["message"],
                    "raw": r["raw"],
                    "status": "open",
                    "created_at": moment,
                }
                for r in fresh
            ],
        )
    return [
        {k: v for k, v in r.items() if k not in ("raw", "source")} | {"raw": json.loads(r["raw"])}
        for r in out
    ]


def _resolve(
    conn: sa.Connection, taken: pl.DataFrame, actor: StaffMember, batch_id: int, moment: datetime
) -> int:
    """Close the open quarantine entries of refunds this import took in (same order, the same
    refund number in their original text)."""
    q = schema.quarantine
    if taken.height == 0:
        return 0
    waiting = read_by_keys(
        conn,
        q,
        ["quarantine_id", "order_no", "row_kind", "status", "raw"],
        "order_no",
        taken["order_no"].unique().to_list(),
    )
    waiting = waiting.filter((c("row_kind") == "refund") & (c("status") == "open"))
    if waiting.height == 0:
        return 0
    hits = waiting.join(taken.select("order_no", "refund_id"), on="order_no").filter(
        c("raw").str.contains(pl.concat_str(pl.lit('"'), c("refund_id"), pl.lit('"')), literal=True)
    )
    ids = hits["quarantine_id"].unique().to_list()
    if not ids:
        return 0
    return conn.execute(
        sa.update(q)
        .where(q.c.quarantine_id.in_(ids))
        .values(status="reimported", resolved_by=actor.name, resolved_at=moment, resolved_batch_id=batch_id)
    ).rowcount


def import_refunds(
    shop: Any, path: str | Path, *, platform: str = "taobao", now: datetime | None = None
) -> dict[str, Any]:
    """Import the platform's refund export in one transaction: counts of imported, updated,
    duplicates and quarantined rows, the batch id, and the quarantined rows with their reasons."""
    actor = require(shop.actor, "import_refunds")
    if platform not in PLATFORMS:
        raise BadInput("refund_import.unknown_platform", platform=platform, platforms="、".join(PLATFORMS))
    system = StaffMember(f"system:import:{actor.name}", Role.SYSTEM)
    moment = now or clock.now()
    rows = read_refunds(path, max_bytes=shop.config.max_file_mb * 1024 * 1024)
    source = rows["source"][0] if rows.height else Path(path).name
    order_nos = rows["order_no"].drop_nulls().unique().to_list()
    refund_ids = rows["refund_id"].drop_nulls().unique().to_list()
    with shop.store.write() as conn:
        orders = read_by_keys(
            conn,
            schema.orders,
            ["order_no", "paid_fen", "payable_fen", "payment_method", "trade_status"],
            "order_no",
            order_nos,
        )
        by_refund = read_by_keys(conn, schema.after_sales, CASE_COLUMNS, "refund_id", refund_ids)
        by_order = read_by_keys(conn, schema.after_sales, CASE_COLUMNS, "order_no", order_nos)
        rows = _classify(
            rows, orders.select("order_no", _paid(orders).alias("paid_fen")), by_refund, by_order
        )
        rows = _outcomes(_amounts(_paths(rows), by_order))
        known = pl.concat([by_refund, by_order]).unique("case_id")
        rows = (
            rows.join(_returnable(conn, order_nos, by_order), on="order_no", how="left")
            .join(
                known.select("case_id", c("return_tracking_no").is_not_null().alias("_had_tracking")),
                on="case_id",
                how="left",
            )
            .with_columns(c("_had_tracking").fill_null(False))
            .sort("row_no")
        )
        batch_id = new_batch(
            conn, "refund_import", source, actor, moment, details={"platform": platform, "file": str(path)}
        )
        written, refused, closed = _write(conn, rows, system, moment, batch_id)
        rows = rows.with_columns(
            c("case_id").fill_null(c("row_no").replace_strict(written, default=None, return_dtype=pl.Int64)),
            c("row_no").replace_strict(refused, default=None, return_dtype=pl.String).alias("_message"),
        )
        if refused:  # what kit.aftersales or the lifecycle refused waits for a person
            hit = c("row_no").is_in(list(refused))
            rows = rows.with_columns(
                pl.when(hit).then(pl.lit("quarantined")).otherwise(c("outcome")).alias("outcome"),
                pl.when(hit).then(pl.lit(["refused"])).otherwise(c("problems")).alias("problems"),
            )
        held = _quarantine(conn, rows.filter(c("outcome") == "quarantined"), batch_id, moment)
        _resolve(
            conn,
            rows.filter(c("outcome") != "quarantined").select("order_no", "refund_id"),
            actor,
            batch_id,
            moment,
        )
        counts = dict(rows.group_by("outcome").len().iter_rows())
        summary = {k: int(counts.get(k, 0)) for k in OUTCOMES}
        reasons = (
            rows.filter(c("outcome") == "quarantined")
            .select(c("problems").list.eval(pl.element().str.split(":").list.first()))
            .explode("problems")
            .group_by("problems")
            .len()
            .sort("problems")
        )
        details = {
            "platform": platform,
            "file": str(path),
            "rows": rows.height,
            **summary,
            "orders_closed": closed,
            "quarantine_reasons": dict(reasons.iter_rows()),
        }
        conn.execute(
            sa.update(schema.batches)
            .where(schema.batches.c.batch_id == batch_id)
            .values(details=json.dumps(details, ensure_ascii=False))
        )
    cases = rows.filter(c("outcome").is_in(["imported", "updated"])).select(
        "row_no", "refund_id", "order_no", "case_id", "outcome", "from_status", c("status").alias("to_status")
    )
    return {
        **summary,
        "rows": rows.height,
        "batch_id": batch_id,
        "source": source,
        "balanced": rows.height == sum(summary.values()),
        "orders_closed": closed,
        "quarantine_reasons": details["quarantine_reasons"],
        "cases": cases.to_dicts(),
        "quarantined_rows": held,
    }
