"""The statistics table out of the kit: a real Excel workbook (one sheet per view, headers in
the staff's language, number formats for percentages, hours, kilograms and yuan) and CSV
files Excel opens as they are (UTF-8 with a byte-order mark)."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from kit.errors import BadInput
from kit.i18n import t
from kit.stats.table import Statistics, header, kind_of, label, text_rows, view_title

FORMATS = {
    "rate": "0.0%",
    "hours": "0.0",
    "kg": "#,##0.0",
    "fen": "#,##0.00",
    "count": "#,##0",
    "date": "yyyy-mm-dd",
    "time": "yyyy-mm-dd hh:mm",
}
"""The Excel number format of each kind of column (fen are written as yuan)."""


def _value(column: str, value: Any) -> Any:
    """A value as the workbook stores it: fen as yuan, booleans and codes as words."""
    if value is None:
        return None
    if isinstance(value, bool):
        return t("stats.yes") if value else t("stats.no")
    if kind_of(column) == "fen":
        return value / 100
    return label(column, value)


def _sheet_name(title: str, taken: set[str]) -> str:
    """An Excel sheet name (at most 31 characters, none of []:*?/\\), unique in the workbook."""
    name = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)[:31]
    base, n = name, 2
    while name in taken:
        name = f"{base[:28]}({n})"
        n += 1
    taken.add(name)
    return name


def write_sheets(path: str | Path, sheets: dict[str, pl.DataFrame], notes: list[str] | None = None) -> Path:
    """Write frames as sheets (title → frame) of one workbook; notes go on a last sheet."""
    target = Path(path)
    try:
        book = xlsxwriter.Workbook(str(target), {"remove_timezone": True})
    except OSError as exc:
        raise BadInput("stats.cannot_write", file=str(target), reason=str(exc)) from None
    bold = book.add_format({"bold": True, "bg_color": "#EEEEEE", "border": 1})
    formats = {kind: book.add_format({"num_format": fmt}) for kind, fmt in FORMATS.items()}
    taken: set[str] = set()
    for title, frame in sheets.items():
        sheet = book.add_worksheet(_sheet_name(title, taken))
        for col, name in enumerate(frame.columns):
            text = header(name)
            sheet.write_string(0, col, text, bold)
            sheet.set_column(col, col, max(10, min(40, len(text) * 2 + 2)), formats.get(kind_of(name)))
        for row_no, row in enumerate(frame.iter_rows(), start=1):
            for col, (name, value) in enumerate(zip(frame.columns, row, strict=True)):
                shown = _value(name, value)
                fmt = formats.get(kind_of(name))
                if shown is None:
                    sheet.write_blank(row_no, col, None, fmt)
                elif isinstance(shown, datetime | date):
                    sheet.write_datetime(row_no, col, shown, fmt)
                elif isinstance(shown, int | float):
                    sheet.write_number(row_no, col, shown, fmt)
                else:
                    sheet.write_string(row_no, col, str(shown))
        sheet.freeze_panes(1, 0)
    if notes:
        sheet = book.add_worksheet(_sheet_name(t("stats.notes_sheet"), taken))
        sheet.set_column(0, 0, 100)
        for row_no, note in enumerate(notes):
            sheet.write_string(row_no, 0, note)
    try:
        book.close()
    except (OSError, xlsxwriter.exceptions.FileCreateError) as exc:
        raise BadInput("stats.cannot_write", file=str(target), reason=str(exc)) from None
    return target


def write_xlsx(stats: Statistics, path: str | Path) -> Path:
    """The whole table as a workbook: one sheet per view, then the window and the notes."""
    about = [
        t(
            "stats.window",
            first=stats.window.first.isoformat(),
            last=stats.window.last.isoformat(),
            period=t(f"stats.period.{stats.period}"),
        ),
        *stats.notes,
    ]
    return write_sheets(path, {view_title(name): frame for name, frame in stats.views.items()}, about)


def write_csv(frame: pl.DataFrame, path: str | Path) -> Path:
    """One frame as CSV: headers in the staff's language, cells as on screen ("-" for nothing)."""
    target = Path(path)
    headers, rows = text_rows(frame)
    try:
        with target.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(headers)
            writer.writerows(rows)
    except OSError as exc:
        raise BadInput("stats.cannot_write", file=str(target), reason=str(exc)) from None
    return target
