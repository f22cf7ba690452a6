"""XLSX workbooks read as tables of text, and the newer per-line Tmall export read from one.

The Tmall export has one "order_line" row per 子订单, each carrying its order's receiver,
times and totals. Of several sheets, the one whose header row has 主订单编号, 子订单编号
and 订单状态 is read; none or several → BadInput naming the sheets (pass sheet=).

Amounts, in fen. Line columns: price_fen = 商品价格, amount_fen = 买家应付货款 (the line's
payable after its discount), line_discount_fen = 商品价格 × 购买数量 − 买家应付货款.
Order columns, the same on every row of an order (summed over its rows, null when any
row's amount is unreadable): payable_fen = Σ 买家应付货款 + 买家应付邮费, paid_fen =
Σ 买家实付金额, total_fen = Σ 商品价格 × 购买数量 + 买家应付邮费, discount_fen = total − payable.
trade_status is the order's state from its lines' 订单状态: their common state, else the
state of the lines still open (closed lines left out); lines partly shipped →
SELLER_CONSIGNED_PART; all closed → TRADE_CLOSED (TRADE_CLOSED_BY_TAOBAO when all are).
"""

from __future__ import annotations

from collections.abc import Callable

import fastexcel
import polars as pl

from kit.errors import BadInput
from kit.intake import parse as p
from kit.intake.encoding import Table, unique_names
from kit.models.states import TradeStatus as S

REQUIRED = (("主订单编号",), ("子订单编号",), ("订单状态",))
MEMO = ("卖家备注", "商家备注", "订单备注")
PAID = ("买家实付金额", "买家实际支付金额")
KNOWN = ("子订单编号", "主订单编号", "商品标题", "宝贝标题", "商品价格", "购买数量",
         "外部系统编号", "商家编码", "商品属性", "订单状态", "买家会员名", "买家应付货款",
         "买家实付金额", "买家实际支付金额", "买家应付邮费", "收货人姓名", "收货地址", "联系手机",
         "联系电话", "订单创建时间", "订单付款时间", "物流单号", "物流公司",
         "买家留言", *MEMO, "支付方式", "运送方式")
RANK = [S.WAIT_BUYER_PAY, S.PAID_FORBID_CONSIGN, S.WAIT_SELLER_SEND_GOODS, S.SELLER_CONSIGNED_PART,
        S.WAIT_BUYER_CONFIRM_GOODS, S.TRADE_BUYER_SIGNED, S.TRADE_FINISHED]


def _sheet(data: bytes, source: str, sheet: int, dtype: str, n_rows: int | None = None) -> pl.DataFrame:
    """One sheet with no header, every cell read as `dtype` (string, or boolean: numbers only)."""
    options: dict = {"dtypes": dtype, **({"n_rows": n_rows} if n_rows else {})}
    try:
        return pl.read_excel(data, sheet_id=sheet + 1, has_header=False, drop_empty_rows=False,
                             drop_empty_cols=False, raise_if_empty=False, read_options=options)
    except Exception as exc:  # calamine's errors: not a zip, not a workbook, a damaged sheet
        raise BadInput("intake.bad_workbook", file=source, error=str(exc).splitlines()[0][:200]) from None


def sheet_heads(data: bytes, source: str, rows: int = 10) -> dict[str, list[list[str]]]:
    """The first rows of every sheet as text, to find the header row and the right sheet."""
    try:
        names = list(fastexcel.read_excel(data).sheet_names)
    except Exception as exc:  # calamine's errors: not a zip, not a workbook, encrypted
        raise BadInput("intake.bad_workbook", file=source, error=str(exc).splitlines()[0][:200]) from None
    out = {}
    for i, name in enumerate(names):  # a loop over sheets
        frame = _sheet(data, source, i, "string", rows)
        out[name] = [["" if v is None else str(v) for v in frame.row(r)] for r in range(frame.height)]
    return out


def xlsx_table(data: bytes, source: str, sheet: int, header_row: int,
               numeric: tuple[str, ...] = ()) -> Table:
    """One sheet as a Table, header on `header_row` (0-based); empty rows are not data rows.

    For the headers in `numeric`, a Boolean column "\x00num:<header, stripped>" tells which
    cells were numbers rather than text (Excel keeps only 15 significant digits of a number).
    """
    frame = _sheet(data, source, sheet, "string").with_columns(pl.all().cast(pl.String).fill_null(""))
    written = [str(v) for v in frame.row(header_row)] if frame.height > header_row else []
    while written and not written[-1].strip():
        written = written[:-1]
    headers = unique_names(written)
    cols = frame.columns[: len(headers)]
    body = frame.select(cols).rename(dict(zip(cols, headers, strict=True)))
    wanted = [h for h in headers if h.strip() in {n.strip() for n in numeric}]
    if wanted:
        flags = _sheet(data, source, sheet, "boolean")
        body = body.with_columns(flags.get_column(cols[headers.index(h)]).is_not_null()
                                 .alias(f"\x00num:{h.strip()}") for h in wanted)
    body = body.slice(header_row + 1)
    if headers:
        body = body.filter(pl.any_horizontal(pl.col(headers) != ""))
    return Table(source, headers, body.with_columns(pl.lit(None, pl.String).alias("\x00extra")), None)


def header_row(rows: list[list[str]]) -> int | None:
    """The first of a sheet's top rows that holds every required header, or None."""
    for i, row in enumerate(rows):
        names = {v.strip() for v in row}
        if all(any(n in names for n in alts) for alts in REQUIRED):
            return i
    return None


def is_tmall(heads: dict[str, list[list[str]]]) -> bool:
    """True when some sheet's top rows hold 主订单编号 (the per-line Tmall export)."""
    return any("主订单编号" in {v.strip() for v in row} for rows in heads.values() for row in rows)


def choose_sheet(heads: dict[str, list[list[str]]], source: str, sheet: str | None,
                 find: Callable[[list[list[str]]], int | None] = header_row) -> tuple[int, int]:
    """(sheet index, header row) to read: the named sheet, else the only one that fits."""
    names = list(heads)
    if sheet is not None:
        if sheet not in heads:
            raise BadInput("intake.no_sheet", file=source, sheet=sheet, sheets="、".join(names))
        return names.index(sheet), find(heads[sheet]) or 0
    if len(names) == 1:
        return 0, find(heads[names[0]]) or 0
    fits = [(i, find(heads[n])) for i, n in enumerate(names) if find(heads[n]) is not None]
    if len(fits) != 1:
        key = "intake.sheet_none" if not fits else "intake.sheet_ambiguous"
        raise BadInput(key, file=source, sheets="、".join(names),
                       fitting="、".join(names[i] for i, _ in fits) or "—")
    return fits[0][0], fits[0][1] or 0


def _order_status(plan: p.Plan, order: pl.Expr) -> pl.Expr:
    """The order's state from its lines' states (see the module docstring)."""
    st = plan.value("line_status")
    rank = st.replace_strict({str(s): i for i, s in enumerate(RANK)}, default=None, return_dtype=pl.Int64)
    open_min = rank.min().over(order)
    shipped = (rank >= RANK.index(S.WAIT_BUYER_CONFIRM_GOODS)).any().over(order)
    waiting = rank.is_in([RANK.index(S.WAIT_SELLER_SEND_GOODS), RANK.index(S.SELLER_CONSIGNED_PART)]) \
        .any().over(order)
    by_taobao = (st == S.TRADE_CLOSED_BY_TAOBAO).all().over(order)
    unknown = st.is_null().any().over(order)
    return (pl.when(unknown | order.is_null()).then(None)
            .when(open_min.is_null() & by_taobao).then(pl.lit(str(S.TRADE_CLOSED_BY_TAOBAO)))
            .when(open_min.is_null()).then(pl.lit(str(S.TRADE_CLOSED)))
            .when(shipped & waiting).then(pl.lit(str(S.SELLER_CONSIGNED_PART)))
            .otherwise(open_min.replace_strict({i: str(s) for i, s in enumerate(RANK)}, default=None,
                                               return_dtype=pl.String)))


def _order_sum(x: pl.Expr, order: pl.Expr) -> pl.Expr:
    """The sum of x over the order's rows; null when a row's x is null or the order unknown."""
    return pl.when(order.is_not_null() & (x.null_count().over(order) == 0)).then(x.sum().over(order))


def rows(data: bytes, source: str, heads: dict[str, list[list[str]]], sheet: str | None) -> pl.DataFrame:
    """The per-line XLSX's rows as intake rows of kind "order_line"."""
    index, head = choose_sheet(heads, source, sheet)
    table = xlsx_table(data, source, index, head, numeric=("主订单编号", "子订单编号"))
    p.require(table, REQUIRED)
    plan = p.Plan(table, "order_line")
    cell, value = plan.cell, plan.value
    plan.order_no("主订单编号")
    plan.parse("sub_order_no", lambda x: p.order_no(x, plan.numeric("子订单编号")), "子订单编号",
               code="bad_order_no")
    plan.set("title", p.text(cell("商品标题", "宝贝标题")))
    plan.parse("price_fen", p.amount_fen, "商品价格", code="bad_amount")
    plan.parse("quantity", p.quantity, "购买数量", code="bad_quantity")
    plan.set("sku", pl.coalesce(p.text(cell("商家编码")), p.text(cell("外部系统编号"))))
    plan.set("spec", p.text(cell("商品属性")))
    plan.parse("line_status", p.status, "订单状态", code="unknown_status", required=True)
    plan.set("buyer_nick", p.text(cell("买家会员名")))
    plan.set("receiver_name", p.text(cell("收货人姓名")))
    plan.parse("receiver_mobile", p.mobile, "联系手机")
    plan.set("receiver_phone", p.phone(cell("联系电话")))
    plan.address("收货地址")
    plan.set("payment_method", p.payment_method(cell("支付方式"), cell("运送方式")))
    plan.parse("amount_fen", p.amount_fen, "买家应付货款", code="bad_amount")
    plan.parse("line_paid", p.amount_fen, *PAID, code="bad_amount")
    plan.parse("post_fee_fen", p.amount_fen, "买家应付邮费", code="bad_amount")
    plan.parse("created_at", p.moment, "订单创建时间", code="bad_date")
    plan.parse("paid_at", p.moment, "订单付款时间", code="bad_date")
    plan.set("buyer_message", p.text(cell("买家留言")))
    plan.set("seller_memo", p.text(cell(*MEMO)))
    plan.set("carrier_name", p.text(cell("物流公司")))
    plan.parse("tracking_no", p.tracking_no, "物流单号")
    order, post = value("order_no"), value("post_fee_fen").fill_null(0)
    listed = value("price_fen") * value("quantity")
    payable = _order_sum(value("amount_fen"), order) + post
    total = _order_sum(listed, order) + post
    amount = value("amount_fen")
    plan.derive("line_discount_fen", pl.when(listed >= amount).then(listed - amount))
    plan.derive("payable_fen", payable)
    plan.derive("total_fen", total)
    plan.derive("discount_fen", pl.when(total >= payable).then(total - payable))
    plan.derive("paid_fen", _order_sum(value("line_paid"), order))
    plan.derive("trade_status", _order_status(plan, order))
    return plan.frame(plan.extra(KNOWN))
