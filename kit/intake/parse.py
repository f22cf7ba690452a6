"""Whole-column parsers the readers share (amounts in fen, order numbers, mobiles, dates,
Taobao addresses, statuses, quantities) and `Plan`, which builds a reader's intake frame.

Each parser gives a fast expression for the usual spelling and a slow one (regular
expressions) for the rest. Plan runs the fast one on every row and the slow one only on
the rows the fast one could not read, then names the problem of each cell that is not
empty and still unread: "<code>:<column>" in `problems` (column as written in the file,
surrounding spaces stripped). No parser guesses: what it cannot read is null.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import polars as pl

from kit.errors import BadInput
from kit.intake.encoding import Table, escapes, json_text
from kit.intake.rows import SCHEMA, conform
from kit.models.states import TradeStatus

# 订单状态 as the seller backend writes it → TradeStatus code; the codes are accepted too.
STATUS_TEXT: dict[str, str] = {
    "等待买家付款": TradeStatus.WAIT_BUYER_PAY,
    "买家已付款，等待卖家发货": TradeStatus.WAIT_SELLER_SEND_GOODS,
    "卖家已发货，等待买家确认": TradeStatus.WAIT_BUYER_CONFIRM_GOODS,
    "买家已签收": TradeStatus.TRADE_BUYER_SIGNED,
    "交易成功": TradeStatus.TRADE_FINISHED,
    "交易关闭": TradeStatus.TRADE_CLOSED,
    "交易被淘宝关闭": TradeStatus.TRADE_CLOSED_BY_TAOBAO,
    "卖家部分发货": TradeStatus.SELLER_CONSIGNED_PART,  # Tmall per-line exports
    "拼团中": TradeStatus.PAID_FORBID_CONSIGN,           # paid, shipping not yet allowed
}
STATUS_CODES: dict[str, str] = {**{k: str(v) for k, v in STATUS_TEXT.items()},
                                **{str(s): str(s) for s in TradeStatus}}
MUNICIPALITIES = {"北京": "北京市", "天津": "天津市", "上海": "上海市", "重庆": "重庆市"}
PROVINCE_ENDS = ("省", "市", "自治区", "特别行政区")
PROVINCE_SHORT = ("北京", "天津", "上海", "重庆", "台湾", "香港", "澳门")
AMOUNT = r"^\s*[￥¥]?\s*(-?)(\d{1,3}(?:,\d{3})+|\d{1,13})(?:\.(\d{1,2}))?\s*元?\s*$"
POSTCODE = r"(\s*[(（]\s*(\d{6})\s*[)）]\s*)$"
NUMBER_DIGITS = 15  # Excel keeps 15 significant digits of a number: longer ones are rounded
LOOKS_LIKE_DATA = r'^="?\d{6,}"?$|^\d{4}[-/]\d{1,2}[-/]\d{1,2}|^[￥¥]?\d+\.\d{2}$|^1\d{10}$'
Pair = tuple[pl.Expr, pl.Expr | None]  # (fast, slow) parsers of one cell
c = pl.col


def text(cell: pl.Expr) -> pl.Expr:
    """The cell with surrounding white space (full-width too) stripped; '' becomes null."""
    t = cell.str.strip_chars()
    return pl.when(t != "").then(t)


def amount_fen(cell: pl.Expr) -> Pair:
    """Yuan text in fen: 12.50, 12.5, 12, 12.50元, ￥12.50, 1,234.50; "12,50" → null."""
    t = cell.str.strip_suffix("元")
    plain = ((t.str.len_bytes() - t.str.find(".", literal=True) <= 3).fill_null(True)
             & ~t.str.contains("e", literal=True) & ~t.str.contains("E", literal=True))
    fast = pl.when(plain).then((t.cast(pl.Decimal(18, 2), strict=False) * 100).cast(pl.Int64))
    g = cell.str.extract_groups(AMOUNT)
    whole = g.struct.field("2").str.replace_all(",", "", literal=True).cast(pl.Int64, strict=False)
    cents = g.struct.field("3").str.pad_end(2, "0").cast(pl.Int64, strict=False).fill_null(0)
    return fast, pl.when(g.struct.field("1") == "-").then(-1).otherwise(1) * (whole * 100 + cents)


def fen_number(cell: pl.Expr) -> Pair:
    """Whole fen written as an integer ("1250"); anything else → null."""
    t = cell.str.strip_chars()
    return pl.when(t.str.contains(r"^-?\d{1,15}$")).then(t.cast(pl.Int64, strict=False)), None


def unwrap(cell: pl.Expr) -> pl.Expr:
    """The cell without surrounding spaces and an ="…" or leading ' wrapper."""
    return (cell.str.strip_chars().str.strip_prefix("=").str.strip_chars('"').str.strip_prefix("'")
            .str.strip_chars())


def order_no(cell: pl.Expr, numeric: pl.Expr | None = None) -> Pair:
    """Digits of an order number written ="351…", '351… or 351…; else null.

    `numeric` marks XLSX cells stored as numbers: beyond 15 digits Excel has rounded them.
    """
    quick = cell.str.strip_prefix('="').str.strip_suffix('"')
    digits = quick.cast(pl.UInt64, strict=False).is_not_null() & ~quick.str.starts_with("+")
    fast = pl.when(digits).then(quick)
    inner = unwrap(cell)
    slow = pl.when(inner.str.contains(r"^\d+$")).then(inner)
    if numeric is not None:
        rounded = numeric.fill_null(False) & (cell.str.len_bytes() > NUMBER_DIGITS)
        fast, slow = pl.when(~rounded).then(fast), pl.when(~rounded).then(slow)
    return fast, slow


def mobile(cell: pl.Expr) -> Pair:
    """A mobile without the leading ', spaces, dashes or +86; masked digits (****) kept."""
    m = cell.str.strip_prefix("'")
    fast = pl.when((m.str.len_bytes() == 11) & m.str.starts_with("1")
                   & m.cast(pl.UInt64, strict=False).is_not_null()).then(m)
    slow = cell.str.replace_all(r"[\s\-']", "").str.replace(r"^(?:\+?86|0086)(1\d{10})$", "$1")
    return fast, pl.when(slow != "").then(slow)


def phone(cell: pl.Expr) -> pl.Expr:
    """A landline as written, without the leading ' and surrounding spaces."""
    return text(cell.str.strip_chars().str.strip_prefix("'"))


def tracking_no(cell: pl.Expr) -> Pair:
    """物流单号 without "No:" (any case, full-width colon too) or an ="…" wrapper."""
    t = cell.str.strip_prefix("No:")
    fast = pl.when(~t.str.contains_any(["=", "'", '"', ":", "：", " "]) & (t != "")).then(t)
    return fast, text(unwrap(cell).str.replace(r"^(?i:no)\s*[:：]\s*", ""))


def moment(cell: pl.Expr) -> Pair:
    """A shop-local time: 2026-11-30 12:34:56, 2026-11-30 12:34, 2026/11/30 12:34:56, 2026-11-30."""
    t = cell.str.strip_chars().str.replace_all("/", "-", literal=True).str.replace("T", " ", literal=True)
    n = t.str.len_bytes()
    full = pl.when(n == 16).then(t + ":00").when(n == 10).then(t + " 00:00:00").otherwise(t)
    parse = lambda x: x.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)  # noqa: E731
    return parse(cell), parse(full)


def quantity(cell: pl.Expr) -> Pair:
    """A positive whole number of pieces; 0, 1.5 or text → null."""
    fast = cell.cast(pl.Int64, strict=False)
    t = cell.str.strip_chars()
    slow = pl.when(t.str.contains(r"^\d{1,9}$")).then(t.cast(pl.Int64, strict=False))
    return pl.when(fast > 0).then(fast), pl.when(slow > 0).then(slow)


def status(cell: pl.Expr) -> Pair:
    """Status text (or code) → TradeStatus code; unknown text → null."""
    t = cell.str.replace_all(r"\s", "").str.replace_all(",", "，", literal=True)
    code = lambda x: x.replace_strict(STATUS_CODES, default=None, return_dtype=pl.String)  # noqa: E731
    return code(cell), code(t)


def _province_ok(prov: pl.Expr) -> pl.Expr:
    """True for a province as Taobao writes it: 浙江省, 北京, 广西壮族自治区 …"""
    return pl.any_horizontal([*(prov.str.ends_with(e) for e in PROVINCE_ENDS), prov.is_in(PROVINCE_SHORT)])


def address(cell: pl.Expr, key: str = "a") -> tuple[list[dict[str, pl.Expr]], dict[str, Pair]]:
    """`省 市 区 详细地址(邮编)` → province, city, district, address_detail, postcode.

    Returns the fast path's intermediate columns (three stages) and a (fast, slow) pair per
    address column. Municipalities written 北京 become 北京市. Text that does not split into
    four parts with a province first leaves province null, the whole text in address_detail.
    """
    parts, post, detail, ok = (f"\x02{key}{x}" for x in "pdko")
    field = lambda i: c(parts).struct.field(f"field_{i}")  # noqa: E731
    tail = field(3).str.tail(8)  # "(310000)"
    closed = (tail.str.starts_with("(") & tail.str.ends_with(")")
              & tail.str.slice(1, 6).cast(pl.UInt32, strict=False).is_not_null()).fill_null(False)
    steps = [{parts: cell.str.splitn(" ", 4)},
             {post: pl.when(closed).then(tail.str.slice(1, 6)),
              detail: pl.when(closed).then(field(3).str.head(-8)).otherwise(field(3))},
             {ok: (_province_ok(field(0)) & (field(1) != "") & (field(2) != "") & (c(detail) != ""))
              .fill_null(False)}]
    fast = {"province": pl.when(ok).then(field(0).replace(MUNICIPALITIES)),
            "city": pl.when(ok).then(field(1)), "district": pl.when(ok).then(field(2)),
            "address_detail": pl.when(ok).then(c(detail)), "postcode": pl.when(ok).then(c(post))}
    t = cell.str.strip_chars().str.replace_all(r"\s+", " ").str.splitn(" ", 4)
    prov, city, dist, rest = (t.struct.field(f"field_{i}") for i in range(4))
    found = rest.str.extract_groups(POSTCODE)
    rest = rest.str.slice(0, rest.str.len_chars() - found.struct.field("1").str.len_chars().fill_null(0)) \
        .str.strip_chars()
    fine = (_province_ok(prov) & (city != "") & (dist != "") & (rest != "")).fill_null(False)
    slow = {"province": pl.when(fine).then(prov.replace(MUNICIPALITIES)),
            "city": pl.when(fine).then(city), "district": pl.when(fine).then(dist),
            "address_detail": pl.when(fine).then(rest).otherwise(text(cell)),
            "postcode": pl.when(fine).then(found.struct.field("2"))}
    return steps, {k: (fast[k], slow[k]) for k in fast}


def payment_method(*cells: pl.Expr) -> pl.Expr:
    """"cod" when any of the cells says 货到付款 (or cod), else "online"."""
    cod = pl.any_horizontal([x.str.contains(r"货到付款|(?i:^\s*cod\s*$)") for x in cells])
    return pl.when(cod.fill_null(False)).then(pl.lit("cod")).otherwise(pl.lit("online"))


def find(table: Table, *names: str) -> str | None:
    """The header as written of the first name present, spaces around headers ignored."""
    written = {h.strip(): h for h in reversed(table.headers)}
    return next((written[n] for n in names if n in written), None)


def require(table: Table, required: Iterable[tuple[str, ...]]) -> None:
    """BadInput unless every required header (any of its spellings) is in the table.

    A header row that looks like data (order numbers, dates, amounts) means the header
    row is missing; else the message names the missing header and the closest present.
    """
    present = [h.strip() for h in table.headers]
    for names in required:
        if find(table, *names) is not None:
            continue
        if any(re.search(LOOKS_LIKE_DATA, h) for h in present):
            raise BadInput("intake.no_header", file=table.source, first_row=",".join(present)[:80])
        close = difflib.get_close_matches(names[0], present, n=1, cutoff=0.4)
        raise BadInput("intake.missing_header", file=table.source, header=names[0],
                       closest=close[0] if close else "—")


# Parsers whose fast path reads only text without quotes, backslashes or control characters.
SAFE_TEXT = (amount_fen, moment, status, quantity, mobile)


@dataclass
class _Parse:
    """One parsed cell: the values it fills (fast, slow), and the problem when unread."""

    values: dict[str, Pair]
    cell: pl.Expr
    code: str | None           # "<code>:<column>", or None: unread is not a problem
    required: bool = False     # an empty cell is a problem too
    empty_code: str | None = None  # the problem of an empty cell, when it differs
    plain: int | None = None   # escapes() flag of its column when the fast parser read it all


class Plan:
    """A reader's frame: values parsed from the cells (fast, then slow on the rows left),
    values derived from them, problems, raw and extra."""

    def __init__(self, table: Table, kind: str) -> None:
        self.table, self.kind = table, kind
        self.plain: dict[str, pl.Expr] = {}
        self.steps: list[dict[str, pl.Expr]] = [{}, {}, {}]  # intermediate columns, in order
        self.parses: list[_Parse] = []
        self.derived: dict[str, pl.Expr] = {}
        self.checks: list[tuple[pl.Expr, str]] = []  # (problem where true, over values), code
        self.guard: tuple[pl.Expr, str] | None = None  # (row readable, else this problem only)
        self._flags: dict[str, int] | None = None
        self._known: dict[str, int] = {}  # escapes() flags known without a scan

    def cell(self, *names: str) -> pl.Expr:
        """The cells of the first named column present, or '' when the file has none."""
        header = find(self.table, *names)
        return c(header) if header is not None else pl.lit("")

    def label(self, *names: str) -> str:
        """The column's name for problem codes: as written, spaces around it stripped."""
        return (find(self.table, *names) or names[0]).strip()

    def has(self, *names: str) -> bool:
        """True when the file has one of the named columns."""
        return find(self.table, *names) is not None

    def numeric(self, *names: str) -> pl.Expr | None:
        """For an XLSX column read with numeric flags: True where the cell was a number."""
        flag = f"\x00num:{self.label(*names)}"
        return c(flag) if flag in self.table.cells.columns else None

    def set(self, name: str, value: pl.Expr) -> None:
        """A value computed from the cells, that needs no check."""
        self.plain[name] = value

    def derive(self, name: str, value: pl.Expr) -> None:
        """A value computed from values (see value())."""
        self.derived[name] = value

    def value(self, name: str) -> pl.Expr:
        """A value, in derive() and check() expressions."""
        return c(name)

    def check(self, bad: pl.Expr, code: str) -> None:
        """A problem found on the values (e.g. two amounts that disagree)."""
        self.checks.append((bad, code))

    def parse(self, name: str, parser: Callable[[pl.Expr], Pair], *headers: str, code: str | None = None,
              required: bool = False) -> None:
        """A value parsed from the first named column; a non-empty cell left unread is `code`."""
        has, cell = self.has(*headers), self.cell(*headers)
        problem = f"{code}:{self.label(*headers)}" if code and has else None
        plain = 0 if parser in SAFE_TEXT else None  # what it reads holds no quote, \ or control
        self.parses.append(_Parse({name: parser(cell)}, cell, problem, required and has, plain=plain))

    def order_no(self, *headers: str) -> None:
        """order_no from the first named column: missing_order_no or bad_order_no."""
        label = self.label(*headers)
        self.parses.append(_Parse({"order_no": order_no(self.cell(*headers), self.numeric(*headers))},
                                  self.cell(*headers), f"bad_order_no:{label}", True,
                                  f"missing_order_no:{label}", plain=1))  # ="…": escape, no scan

    def address(self, *headers: str) -> None:
        """The five address columns from a `省 市 区 详细地址(邮编)` column, or bad_address."""
        cell = self.cell(*headers)
        steps, pairs = address(cell, str(len(self.parses)))
        for mine, theirs in zip(self.steps, steps, strict=True):
            mine.update(theirs)
        self.parses.append(_Parse(pairs, cell, f"bad_address:{self.label(*headers)}"))

    def frame(self, extra: pl.Expr, raw: pl.Expr | None = None) -> pl.DataFrame:
        """The intake rows: the schema's columns, in order (raw from the cells unless given)."""
        t, n = self.table, self.table.cells.height
        needs = [f"\x04{i}" for i in range(len(self.parses))]
        fast = {k: pair[0] for p in self.parses for k, pair in p.values.items()}
        lazy = t.cells.lazy()
        for step in self.steps:
            if step:
                lazy = lazy.with_columns(**step)
        values = lazy.select(
            *(e.alias(k) for k, e in {**self.plain, **fast}.items()),
            *(pl.lit(True).alias(f) if p.required else (p.cell != "").alias(f)
              for f, p in zip(needs, self.parses, strict=True)),
        ).collect()
        problems: list[pl.Series] = []
        for f, p in zip(needs, self.parses, strict=True):  # a loop over columns: slow path on rows left
            first = next(iter(p.values))
            rows = (values[first].is_null() & values[f]).arg_true()
            if not rows.len():
                roots = p.cell.meta.root_names()
                if p.plain is not None and len(roots) == 1 and roots[0] in t.headers:
                    self._known[roots[0]] = p.plain
                continue
            exprs = [*((s if s is not None else pl.lit(None)).alias(k) for k, (_, s) in p.values.items()),
                     (p.cell.str.strip_chars() == "").alias("\x05empty")]
            needed = sorted({name for e in exprs for name in e.meta.root_names()})
            slow = t.cells.select(needed)[rows].select(exprs) if needed else \
                pl.DataFrame({k: [None] * rows.len() for k in p.values} | {"\x05empty": [True] * rows.len()})
            values = values.with_columns(values[k].scatter(rows, slow[k].cast(values[k].dtype))
                                         for k in p.values)
            if p.code:
                unread = slow[first].is_null() & (~slow["\x05empty"] | p.required)
                code = pl.when(slow["\x05empty"] & (p.empty_code is not None)).then(pl.lit(p.empty_code)) \
                    .otherwise(pl.lit(p.code))
                texts = pl.select(pl.when(pl.lit(unread)).then(code)).to_series()
                problems.append(pl.repeat(None, n, dtype=pl.String, eager=True).scatter(rows, texts))
        if self.guard is not None:
            ok, code = self.guard
            readable = t.cells.select(ok).to_series()
            problems = [_marks(n, ~readable, code), *(p.zip_with(readable, _marks(n)) for p in problems)]
        if t.fields is not None:
            short, long = t.ragged()
            problems = [_marks(n, short, "short_row"), _marks(n, long, "long_row"), *problems]
        if self.derived:
            values = values.with_columns(**self.derived)
        if self.checks:
            found = values.select(pl.when(bad).then(pl.lit(code)).alias(f"\x06{i}")
                                  for i, (bad, code) in enumerate(self.checks))
            problems += found.get_columns()
        problems = [x.alias(f"p{i}") for i, x in enumerate(problems)]
        problems = [x for x in problems if x.null_count() < n]
        if problems:
            listed = pl.DataFrame(problems).select(pl.concat_list(pl.all()).list.drop_nulls()).to_series()
        else:
            listed = pl.Series([[]], dtype=pl.List(pl.String)).new_from_index(0, n)
        values = values.select(
            pl.lit(t.source).alias("source"), pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row_no"),
            pl.lit(self.kind).alias("row_kind"), pl.all()).hstack([listed.alias("problems")])
        raw_column = self.raw() if raw is None else _column(t.cells, raw)
        keep = [k for k in values.columns if k in SCHEMA and k not in ("raw", "extra")]
        return conform(values.select(keep).hstack([raw_column.alias("raw"),
                                                   _column(t.cells, extra).alias("extra")]))

    def raw(self) -> pl.Series:
        """The raw column: {header as written: cell text}, null for fields a short row lacks.

        Built on the cells as read (many chunks, so polars works on them in parallel); the
        few short rows are redone with their field counts and put back.
        """
        t = self.table
        columns = {h: h for h in t.headers}
        raw = _column(t.cells, json_text(t.cells, columns, flags=self.flags()))
        if t.fields is not None:
            short = (t.fields < len(t.headers)).arg_true()
            if short.len():
                some = t.cells[short]
                raw = raw.scatter(short, some.select(json_text(some, columns, fields=t.fields.gather(short),
                                                               flags=self.flags())).to_series())
        return raw

    def flags(self) -> dict[str, int]:
        """escapes() of every column of the table, scanned once."""
        if self._flags is None:
            self._flags = escapes(self.table.cells, self.table.headers, self._known)
        return self._flags

    def extra(self, known: Iterable[str]) -> pl.Expr:
        """The extra column: {header: cell text} of the other columns that hold any text."""
        known, flags = set(known), self.flags()
        columns = {h.strip(): h for h in self.table.headers if h.strip() not in known and flags[h] >= 0}
        if not columns:
            return pl.lit(None, dtype=pl.String)
        return json_text(self.table.cells, columns, flags={h: flags[h] for h in columns.values()})


def _marks(n: int, where: pl.Series | None = None, code: str = "") -> pl.Series:
    """n problem texts: `code` where `where` holds, else null."""
    out = pl.repeat(None, n, dtype=pl.String, eager=True)
    return out if where is None or not where.any() else out.scatter(where.arg_true(), code)


def _column(frame: pl.DataFrame, expr: pl.Expr) -> pl.Series:
    """The expression over the frame as a Series of the frame's height (literals repeated)."""
    out = frame.select(expr.alias("x")).to_series()
    return out if out.len() == frame.height else pl.repeat(out[0], frame.height, dtype=out.dtype, eager=True)
