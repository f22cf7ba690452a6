"""The quarantine: rows an import could not take, kept with their reasons and original text,
to be exported, fixed in a spreadsheet and imported again (S6: unreadable order information
goes back to pre-sales, not into a guess)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
import xlsxwriter

from kit import clock
from kit.errors import BadInput
from kit.permissions import require
from kit.store import schema
from kit.store.frames import read_frame

q = schema.quarantine


def open_rows(shop: Any) -> pl.DataFrame:
    """The rows still waiting in quarantine, oldest first, with why and the original text."""
    require(shop.actor, "read")
    with shop.store.read() as conn:
        return read_frame(conn, sa.select(q.c.quarantine_id, q.c.batch_id, q.c.source, q.c.row_no,
                                          q.c.row_kind, q.c.order_no, q.c.reasons, q.c.message, q.c.raw,
                                          q.c.created_at)
                          .where(q.c.status == "open").order_by(q.c.quarantine_id))


def resolve_imported(conn: sa.Connection, taken: pl.DataFrame, batch_id: int, actor: str,
                     moment: datetime) -> int:
    """Close the open entries that a later import took in: same order, same kind of row
    (an order row fixed does not close a line still missing). `taken`: order_no, row_kind."""
    waiting = read_frame(conn, sa.select(q.c.quarantine_id, q.c.order_no, q.c.row_kind)
                         .where(q.c.status == "open", q.c.order_no.is_not(None)))
    ids = waiting.join(taken.unique(), on=["order_no", "row_kind"])["quarantine_id"].to_list()
    if not ids:
        return 0
    return conn.execute(sa.update(q).where(q.c.quarantine_id.in_(ids)).values(
        status="reimported", resolved_by=actor, resolved_at=moment, resolved_batch_id=batch_id)).rowcount


def dismiss(shop: Any, ids: list[int], reason: str) -> int:
    """Close entries that need no import (a test order, a row deleted on the platform)."""
    actor = require(shop.actor, "insert_orders")
    if not reason.strip():
        raise BadInput("quarantine_tool.reason_required")
    with shop.store.write() as conn:
        return conn.execute(
            sa.update(q).where(q.c.quarantine_id.in_(ids), q.c.status == "open")
            .values(status="dismissed", resolved_by=f"{actor.name}: {reason.strip()}",
                    resolved_at=clock.now())).rowcount


def export(shop: Any, folder: str | Path) -> list[Path]:
    """Write the open rows back as files with their original headers, one per source file,
    to fix in a spreadsheet and import again (CSV with a BOM for Excel; XLSX for workbooks)."""
    rows = open_rows(shop)
    target = Path(folder)
    if not target.is_dir():
        raise BadInput("quarantine_tool.no_folder", folder=str(target))
    written = []
    for (source,), group in rows.group_by("source", maintain_order=True):  # a loop over files
        cells = [json.loads(r) for r in group["raw"].to_list()]
        headers = list(dict.fromkeys(h for c in cells for h in c))
        stem = Path(str(source)).stem
        if str(source).lower().endswith((".xlsx", ".xlsm", ".xls")):
            path = target / f"{stem}-待修正.xlsx"
            book = xlsxwriter.Workbook(str(path))
            sheet = book.add_worksheet()
            for col, header in enumerate(headers):
                sheet.write_string(0, col, header)
            for row, cell in enumerate(cells, start=1):
                for col, header in enumerate(headers):
                    sheet.write_string(row, col, "" if cell.get(header) is None else str(cell[header]))
            book.close()
        elif str(source).lower().endswith((".jsonl", ".ndjson")):
            path = target / f"{stem}-待修正.jsonl"
            path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cells), "utf-8")
        else:
            path = target / f"{Path(str(source)).name.rsplit('.', 1)[0]}-待修正.csv"
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(headers)
            writer.writerows([["" if c.get(h) is None else c[h] for h in headers] for c in cells])
            path.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))
        written.append(path)
    return written
