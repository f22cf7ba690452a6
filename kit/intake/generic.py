"""Generic exports: CSV or XLSX read through a column mapping, and JSON Lines.

A mapping is {canonical column: header in the file} (kit.toml `[intake.mappings.NAME]` or
`--map order_no=订单号 …`). Canonical columns are those of kit.intake.rows ORDER_COLUMNS
and LINE_COLUMNS (extra aside), plus `address` for a whole `省 市 区 详细地址(邮编)` text
to split. Amounts in files are yuan text ("12.50", "12.50元", "1,234.50"): map them to the
*_fen column (or its name without _fen: `paid` = `paid_fen`). The rows are "order_line"
when a line column is mapped, else "order". Unmapped columns go to extra; when
payment_method is not mapped it stays null.

JSON Lines: one object per line, keys canonical (or mapped to canonical names the same
way). An amount is given in fen under its *_fen key (an integer, e.g. "paid_fen": 1250) or
in yuan under the name without _fen (a number or text, e.g. "paid": "12.50"); both given
and different → bad_amount. Values of other keys go to extra as text (keys holding ' or \
only stay in raw). raw is the line itself; a line that is not a JSON object keeps its text
in raw as {"text": …} and gets the problem `bad_json`. Blank lines are not rows.
"""

from __future__ import annotations

import json
import re

import polars as pl

from kit.errors import BadInput
from kit.intake import parse as p
from kit.intake.encoding import Table, free_byte
from kit.intake.rows import LINE_COLUMNS, ORDER_COLUMNS
from kit.intake.tmall import choose_sheet, xlsx_table

AMOUNTS = tuple(k for k in (*ORDER_COLUMNS, *LINE_COLUMNS) if k.endswith("_fen"))
YUAN = {k.removesuffix("_fen"): k for k in AMOUNTS}
CANONICAL = tuple(k for k in (*ORDER_COLUMNS, *LINE_COLUMNS) if k != "extra")
ACCEPTED = (*CANONICAL, *YUAN, "address")
LINE_KEYS = (*LINE_COLUMNS, *(y for y, k in YUAN.items() if k in LINE_COLUMNS))
KEY = r'"((?:[^"\\]|\\.)*)"\s*:'  # an object key in compact JSON


def check_mapping(mapping: dict[str, str], source: str) -> dict[str, str]:
    """The mapping with yuan names turned into *_fen; BadInput for an unknown column name."""
    unknown = [k for k in mapping if k not in ACCEPTED]
    if unknown:
        raise BadInput("intake.bad_mapping", file=source, names="、".join(unknown),
                       allowed=", ".join(ACCEPTED))
    out = {YUAN.get(k, k): v for k, v in mapping.items()}
    if "order_no" not in out:
        raise BadInput("intake.mapping_order_no", file=source)
    return out


def _parse(plan: p.Plan, key: str, header: str) -> None:
    """Parse one mapped column into its canonical column, with its checks."""
    if key == "order_no":
        plan.order_no(header)
    elif key == "sub_order_no":
        plan.parse(key, lambda x: p.order_no(x, plan.numeric(header)), header, code="bad_order_no")
    elif key in AMOUNTS:
        plan.parse(key, p.amount_fen, header, code="bad_amount")
    elif key in ("created_at", "paid_at"):
        plan.parse(key, p.moment, header, code="bad_date")
    elif key == "quantity":
        plan.parse(key, p.quantity, header, code="bad_quantity")
    elif key in ("trade_status", "line_status"):
        plan.parse(key, p.status, header, code="unknown_status")
    elif key == "address":
        plan.address(header)
    elif key == "receiver_mobile":
        plan.parse(key, p.mobile, header)
    elif key == "receiver_phone":
        plan.set(key, p.phone(plan.cell(header)))
    elif key == "tracking_no":
        plan.parse(key, p.tracking_no, header)
    elif key == "payment_method":
        cell = plan.cell(header)
        plan.set(key, pl.when(p.text(cell).is_not_null()).then(p.payment_method(cell)))
    else:
        plan.set(key, p.text(plan.cell(header)))


def table_rows(table: Table, mapping: dict[str, str]) -> pl.DataFrame:
    """A CSV or XLSX table read through the mapping."""
    mapping = check_mapping(mapping, table.source)
    p.require(table, [(h.strip(),) for h in mapping.values()])
    kind = "order_line" if any(k in LINE_COLUMNS for k in mapping) else "order"
    plan = p.Plan(table, kind)
    for key, header in mapping.items():  # a loop over columns
        _parse(plan, key, header.strip())
    return plan.frame(plan.extra({h.strip() for h in mapping.values()}))


def xlsx_rows(data: bytes, source: str, heads: dict[str, list[list[str]]], mapping: dict[str, str],
              sheet: str | None) -> pl.DataFrame:
    """An XLSX export read through the mapping, from the sheet whose header row has its headers."""
    wanted = {h.strip() for h in check_mapping(mapping, source).values()}

    def fits(rows: list[list[str]]) -> int | None:
        return next((i for i, r in enumerate(rows) if wanted <= {v.strip() for v in r}), None)

    index, head = choose_sheet(heads, source, sheet, fits)
    numeric = tuple(mapping[k] for k in ("order_no", "sub_order_no") if k in mapping)
    table = xlsx_table(data, source, index, head, numeric=numeric)
    return table_rows(table, mapping)


def _lines(utf8: bytes) -> pl.Series:
    """The file's non-blank lines."""
    sep = free_byte(utf8)
    if sep:
        lines = pl.read_csv(utf8, has_header=False, separator=sep, quote_char=None,
                            schema={"l": pl.String}, empty_string_is_null=False)["l"].fill_null("")
    else:
        lines = pl.Series("l", [utf8.decode("utf-8")]).str.split("\n").explode()
    return lines.filter(lines.str.strip_chars() != "")


def jsonl_rows(utf8: bytes, source: str, mapping: dict[str, str] | None) -> pl.DataFrame:
    """A JSON Lines file as intake rows (see the module docstring)."""
    lines = _lines(utf8)
    if not lines.len():
        raise BadInput("intake.empty_file", file=source)
    norm = lines.str.json_path_match("$")
    is_object = norm.is_not_null() & lines.str.strip_chars().str.starts_with("{")
    found = norm.filter(is_object).str.extract_all(KEY).explode().str.extract(KEY, 1).drop_nulls() \
        .unique().sort().to_list()
    keys = [k for k in (json.loads(f'"{raw}"') for raw in found) if not re.search(r"['\\\\]", k)]
    mapping = dict(mapping or {})
    check_mapping({"order_no": "order_no", **mapping}, source)
    frame = pl.DataFrame({"\x00obj": is_object, "\x00line": lines, "\x00norm": norm}).with_columns(
        pl.when(pl.col("\x00obj")).then(pl.col("\x00norm").str.json_path_match(f"$['{k}']"))
        .fill_null("").alias(k) for k in keys)
    table = Table(source, keys, frame, None)
    named = {k: mapping.get(k, k) for k in CANONICAL}
    present = {k: h for k, h in named.items() if h in keys}
    kind = "order_line" if any(k in LINE_KEYS for k in present) or any(
        mapping.get(y, y) in keys for y in YUAN if YUAN[y] in LINE_COLUMNS) else "order"
    plan = p.Plan(table, kind)
    plan.guard = (pl.col("\x00obj"), "bad_json")
    for key, header in {"order_no": named["order_no"], **present}.items():  # a loop over columns
        if key not in AMOUNTS:
            _parse(plan, key, header)  # order_no always: a line without one is missing_order_no
    address = mapping.get("address", "address")
    if address in keys:
        _parse(plan, "address", address)
    for yuan, key in YUAN.items():
        fen_key, yuan_key = named[key], mapping.get(yuan, yuan)
        if fen_key not in keys and yuan_key not in keys:
            continue
        plan.parse(f"{key}\x03fen", p.fen_number, fen_key, code="bad_amount")
        plan.parse(f"{key}\x03yuan", p.amount_fen, yuan_key, code="bad_amount")
        fen, in_yuan = plan.value(f"{key}\x03fen"), plan.value(f"{key}\x03yuan")
        plan.derive(key, pl.coalesce(fen, in_yuan))
        plan.check(fen.is_not_null() & in_yuan.is_not_null() & (fen != in_yuan), f"bad_amount:{yuan_key}")
    used = {*present.values(), *(named[k] for k in AMOUNTS), *(mapping.get(y, y) for y in YUAN), address}
    raw = pl.when(pl.col("\x00obj")).then(pl.col("\x00line").str.strip_chars()).otherwise(
        pl.struct(pl.col("\x00line").alias("text")).struct.json_encode())
    return plan.frame(plan.extra(used), raw=raw)
