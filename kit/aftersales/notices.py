"""The buyer hears of every step of an after-sale case (S13): one outbox notice of kind
`after_sale` per step, from the catalogue's `notice.after_sale_<step>` template in the staff's
language, due within the hour, with the case in its payload.

    opened         the request is registered
    agreed         a return, exchange or repair is agreed: where to send the goods ([shop.sender])
    refunded       the money went back (the amount)
    refused        the seller refused, with the reason
    reopened       a refused case is taken up again
    received       the goods sent back arrived and were checked
    exchange_sent  the exchanged item is on its way (its tracking number follows with "shipped")
    repair_sent    the repaired item is on its way
    closed         the case is closed, with the reason
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import outbox
from kit.config import Config
from kit.i18n import current_lang, t
from kit.models import StaffMember

__all__ = ["STEPS", "queue_step", "return_address"]

STEPS = (
    "opened",
    "agreed",
    "refunded",
    "refused",
    "reopened",
    "received",
    "exchange_sent",
    "repair_sent",
    "closed",
)


def return_address(config: Config, lang: str | None = None) -> dict[str, str]:
    """Where buyers send goods back: the shop's sender address ([shop.sender], S26b)."""
    s = config.sender
    return {
        "address": "".join(p for p in (s.province, s.city, s.district, s.detail) if p),
        "name": s.name,
        "mobile": s.mobile or t("aftersales.no_mobile", lang=lang),
    }


def queue_step(
    conn: sa.Connection, actor: StaffMember, at: datetime, case: Mapping[str, Any], step: str, **params: Any
) -> int:
    """Queue the notice of one step of `case` (a row of after_sales) in the caller's transaction;
    `params` fill the template's other places (amount, reason, address …). Returns 1."""
    lang = current_lang()
    text = t(
        f"notice.after_sale_{step}",
        lang=lang,
        order_no=case["order_no"],
        case_id=case["case_id"],
        kind=t(f"after_sale_kind.{case['kind']}", lang=lang),
        **params,
    )
    payload = {
        "case_id": int(case["case_id"]),
        "step": step,
        "refund_status": case["refund_status"],
        "amount_fen": int(case["amount_fen"] or 0),
    }
    frame = pl.DataFrame(
        {
            "order_no": [str(case["order_no"])],
            "kind": ["after_sale"],
            "lang": [lang],
            "text": [text],
            "payload": [json.dumps(payload, ensure_ascii=False)],
            "due_at": [at + outbox.SOON],
        },
        schema={
            "order_no": pl.String,
            "kind": pl.String,
            "lang": pl.String,
            "text": pl.String,
            "payload": pl.String,
            "due_at": pl.Datetime("us"),
        },
    )
    return outbox.queue(conn, frame, actor, at)
