"""Guards and effects of transitions, written as polars expressions so that one change and
a hundred thousand changes are checked by the same code.

A guard is an expression over the record's columns that gives a message key when the
rule is broken and null when it holds; `params` turns one refused row into the values
the message names. An effect gives the other columns a change writes (hold reasons,
time stamps), from the rows, the per-row `_reason` column and the moment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from kit.models import TradeStatus

PAYABLE_STATES = (str(TradeStatus.WAIT_SELLER_SEND_GOODS), str(TradeStatus.SELLER_CONSIGNED_PART))


def _trade_label(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"trade_status": TradeStatus(row["trade_status"]).label}


def _amounts(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**_trade_label(row), "paid": f"{row['paid_fen'] / 100:.2f}",
            "payable": f"{row['payable_fen'] / 100:.2f}"}


@dataclass(frozen=True)
class Guard:
    """A rule a change must meet: `refusal()` is a message key where it is broken, else null."""

    name: str
    refusal: Callable[[], pl.Expr]
    params: Callable[[Mapping[str, Any]], dict[str, Any]]


def _paid_or_cod_confirmed() -> pl.Expr:
    payable = pl.col("trade_status").is_in(PAYABLE_STATES)
    cod = pl.col("payment_method") == "cod"
    return (
        pl.when(~payable).then(pl.lit("guard.trade_not_shippable"))
        .when(cod & ~pl.col("phone_confirmed")).then(pl.lit("guard.cod_not_confirmed"))
        .when(~cod & (pl.col("paid_fen") < pl.col("payable_fen"))).then(pl.lit("guard.not_fully_paid"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _trade_still_shippable() -> pl.Expr:
    return (pl.when(~pl.col("trade_status").is_in(PAYABLE_STATES))
            .then(pl.lit("guard.trade_not_shippable")).otherwise(pl.lit(None, dtype=pl.String)))


PAID_OR_COD_CONFIRMED = Guard("paid_or_cod_confirmed", _paid_or_cod_confirmed, _amounts)
"""S16: online orders ship once fully paid; COD orders once confirmed by phone."""

TRADE_STILL_SHIPPABLE = Guard("trade_still_shippable", _trade_still_shippable, _trade_label)
"""A closed or already-shipped trade is not allocated, picked, packed or handed over again."""


def kind_in(*kinds: str, labels: str) -> Guard:
    """Only cases of these kinds (`kind` column) may take the change; `labels` is the message
    section naming the kinds (after_sale_kind, exception_kind)."""
    from kit.i18n import t

    wanted = [str(k) for k in kinds]

    def refusal() -> pl.Expr:
        return (pl.when(~pl.col("kind").is_in(wanted)).then(pl.lit("guard.wrong_kind"))
                .otherwise(pl.lit(None, dtype=pl.String)))

    def params(row: Mapping[str, Any]) -> dict[str, Any]:
        return {"kind": t(f"{labels}.{row['kind']}"), "kinds": "、".join(t(f"{labels}.{k}") for k in wanted)}

    return Guard(f"kind_in_{'_'.join(wanted)}", refusal, params)


Effect = Callable[[datetime], dict[str, pl.Expr]]


def add_hold_reason(_now: datetime) -> dict[str, pl.Expr]:
    """Add the change's reasons (one per line) to the order's hold reasons, each once."""
    lines = pl.concat_list([
        pl.col("hold_reasons").fill_null("").str.split("\n"),
        pl.col("_reason").fill_null("").str.split("\n"),
    ])
    kept = lines.list.eval(pl.element().filter(pl.element() != "")).list.unique(maintain_order=True)
    return {"hold_reasons": kept.list.join("\n")}


def clear_hold_reasons(_now: datetime) -> dict[str, pl.Expr]:
    """Approval resolves every hold reason (the audit keeps them)."""
    return {"hold_reasons": pl.lit(None, dtype=pl.String)}


def stamp(column: str) -> Effect:
    """An effect that records the moment of the change in `column`."""

    def effect(now: datetime) -> dict[str, pl.Expr]:
        return {column: pl.lit(now, dtype=pl.Datetime("us"))}

    effect.__name__ = f"stamp_{column}"
    return effect
