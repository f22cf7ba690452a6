"""Why a row was quarantined, in the staff's language, naming the row, the column and the
text that could not be read (S6: unreadable order information goes back to pre-sales)."""

from __future__ import annotations

import json

from kit.i18n import t


def reason_text(reason: str, raw: dict[str, str]) -> str:
    """One reason code ("bad_amount:实付款") as a sentence with the column and its text."""
    code, _, column = reason.partition(":")
    value = raw.get(column, raw.get(column + " ", "")) if column else ""
    return t(f"quarantine.{code}", column=column or "-", value=value)


def quarantine_message(row_no: int, reasons: list[str], raw: str) -> str:
    """Every reason of one quarantined row, prefixed by its row number."""
    try:
        cells = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        cells = {}
    if not isinstance(cells, dict):
        cells = {}
    texts = [reason_text(r, {str(k): "" if v is None else str(v) for k, v in cells.items()})
             for r in dict.fromkeys(reasons)]
    return t("quarantine.row", row_no=row_no, reasons="；".join(texts))
