"""read(): export files in, one Intake out — the format found from file names and headers.

Formats: taobao_csv (订单报表 ExportOrderList*.csv and/or 宝贝报表 ExportOrderDetailList*.csv,
or any CSV with their headers), tmall_xlsx (a workbook with 主订单编号), csv / xlsx (any
other export, read through a column mapping), jsonl (.jsonl / .ndjson). Several files are
read into one Intake (e.g. an order report and its item report); they must share a format.
A file larger than max_bytes is refused before it is read: staff split the export by date.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from kit.errors import BadInput
from kit.intake import generic, taobao, tmall
from kit.intake.encoding import Table, csv_table, decode_pieces, header_row, read_bytes, to_utf8
from kit.intake.rows import Intake, empty_rows
from kit.intake.tmall import sheet_heads

FORMATS = ("taobao_csv", "tmall_xlsx", "csv", "xlsx", "jsonl")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # zip (xlsx) and OLE (xls)
ORDER_REPORT = re.compile(r"^ExportOrderList", re.IGNORECASE)
ITEM_REPORT = re.compile(r"^ExportOrderDetailList", re.IGNORECASE)
DEFAULT_MAX_BYTES = 1 << 30


def _sources(paths: list[Path]) -> list[str]:
    """The name each file is known by in rows and messages: its file name, or the path
    as given when two files share a name."""
    names = [p.name for p in paths]
    return [p.name if names.count(p.name) == 1 else str(p) for p in paths]


def _workbook(data: bytes, source: str, fmt: str | None, mapping: dict[str, str] | None,
              sheet: str | None) -> tuple[str, pl.DataFrame]:
    """An XLSX export: the Tmall per-line layout, or any workbook through a mapping."""
    heads = sheet_heads(data, source)
    if fmt == "tmall_xlsx" or (fmt in (None, "xlsx") and not mapping and tmall.is_tmall(heads)):
        return "tmall_xlsx", tmall.rows(data, source, heads, sheet)
    if mapping:
        return "xlsx", generic.xlsx_rows(data, source, heads, mapping, sheet)
    raise BadInput("intake.needs_mapping", file=source)


def _csv(path: Path, data: bytes, source: str, fmt: str | None,
         mapping: dict[str, str] | None) -> tuple[str, pl.DataFrame]:
    """A CSV export: a Taobao report, or any CSV through a mapping.

    The file is decoded piece by piece; each piece is read (in a worker thread, polars
    working outside the GIL) while the next one is decoded.
    """
    pieces = decode_pieces(data, source)
    first, cut = next(pieces)
    written = header_row(first, source)
    probe = Table(source, [h for h in written if h.strip()], pl.DataFrame(), None)
    name = path.name
    if fmt == "taobao_csv" or (fmt is None and not mapping):
        if ITEM_REPORT.match(name) or (not ORDER_REPORT.match(name) and taobao.is_item_report(probe)):
            reader = taobao.line_rows
        elif ORDER_REPORT.match(name) or taobao.is_order_report(probe) or fmt == "taobao_csv":
            reader = taobao.order_rows
        else:
            raise BadInput("intake.needs_mapping", file=source)
        fmt = "taobao_csv"
    elif not mapping:
        raise BadInput("intake.needs_mapping", file=source)
    else:
        fmt = "csv"
        reader = functools.partial(generic.table_rows, mapping=mapping)

    def work(piece: bytes, cut: bool, first: bool) -> pl.DataFrame:
        return reader(csv_table(piece, source, cut, header=None if first else written))

    with ThreadPoolExecutor(max_workers=1) as pool:
        futures = [pool.submit(work, first, cut, True)]
        try:
            futures += [pool.submit(work, piece, cut, False) for piece, cut in pieces]  # decodes meanwhile
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        frames = [future.result() for future in futures]
    rows = pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
    return fmt, rows.with_columns(row_no=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))


def read_one(path: str | Path, source: str, *, format: str | None = None,
             mapping: dict[str, str] | None = None, sheet: str | None = None,
             max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[str, pl.DataFrame]:
    """One file's format and intake rows."""
    path = Path(path)
    if format is not None and format not in FORMATS:
        raise BadInput("intake.unknown_format", file=source, format=format, formats=", ".join(FORMATS))
    data = read_bytes(path, source, max_bytes)
    suffix = path.suffix.lower()
    try:
        if format == "jsonl" or (format is None and suffix in JSONL_SUFFIXES):
            utf8, _ = to_utf8(data, source)
            return "jsonl", generic.jsonl_rows(utf8, source, mapping)
        if format in ("tmall_xlsx", "xlsx") or suffix in WORKBOOK_SUFFIXES or data.startswith(WORKBOOK_MAGIC):
            return _workbook(data, source, format, mapping, sheet)
        return _csv(path, data, source, format, mapping)
    except pl.exceptions.PolarsError as exc:  # data polars could not take at all: say so, by file
        raise BadInput("intake.unreadable", file=source, error=str(exc).splitlines()[0][:200]) from None


def read(paths: str | Path | Iterable[str | Path], *, format: str | None = None,
         mapping: dict[str, str] | None = None, sheet: str | None = None,
         max_bytes: int = DEFAULT_MAX_BYTES) -> Intake:
    """Read export files into one Intake: every data row of every file, each parsed or
    carrying its problems. File-level faults raise BadInput naming the file."""
    listed = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if not listed:
        raise BadInput("intake.no_files")
    resolved = [p.resolve() for p in listed]
    for i, p in enumerate(resolved):
        if p in resolved[:i]:
            raise BadInput("intake.same_file", file=str(listed[i]))
    sources = _sources(listed)
    found, frames = [], []
    for path, source in zip(listed, sources, strict=True):  # a loop over files
        fmt, rows = read_one(path, source, format=format, mapping=mapping, sheet=sheet, max_bytes=max_bytes)
        found.append(fmt)
        frames.append(rows)
    if len(set(found)) > 1:
        raise BadInput("intake.mixed_formats", files="、".join(sources), formats="、".join(found))
    rows = pl.concat(frames, how="vertical") if frames else empty_rows()
    return Intake(rows=rows, format=found[0], sources=tuple(sources))
