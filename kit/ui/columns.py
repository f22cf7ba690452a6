"""Column expressions the desks' lists share: times as month-day hour:minute, enum values as
their labels, a flag as a word, and the receiver's name and phone masked for roles that do not
call the buyers (13812345678 → 138****5678, 王小明 → 王*).
"""

from __future__ import annotations

import polars as pl

__all__ = ["flag", "labels", "masked", "mobile", "receiver", "when"]


def when(column: str, dtype: pl.DataType | None = None) -> pl.Expr:
    """A time column as "12-03 16:00", empty when null (cast to `dtype` first when given)."""
    moment = pl.col(column) if dtype is None else pl.col(column).cast(dtype)
    return moment.dt.strftime("%m-%d %H:%M").fill_null("")


def labels(column: str, enum: type) -> pl.Expr:
    """An enum's values in `column` as their labels; a value the enum does not know stays as it is."""
    return pl.col(column).replace_strict(
        {m.value: m.label for m in enum}, default=pl.col(column), return_dtype=pl.String
    )


def flag(column: str, word: str) -> pl.Expr:
    """`word` where the boolean `column` is true, else empty."""
    return pl.when(pl.col(column)).then(pl.lit(word)).otherwise(pl.lit(""))


def masked(column: str) -> pl.Expr:
    """A phone number with its middle hidden: 13812345678 → 138****5678 (short ones: ****)."""
    text = pl.col(column).cast(pl.String).str.strip_chars()
    return (pl.when(text.str.len_chars() >= 8)
            .then(text.str.replace(r"^(.{3}).*(.{4})$", "${1}****${2}"))
            .when(text.str.len_chars() > 0).then(pl.lit("****"))
            .otherwise(text))


def receiver(sees: bool) -> pl.Expr:
    """The receiver's name; only its first character and * unless the role `sees` it whole."""
    name = pl.col("receiver_name").fill_null("")
    return name if sees else name.str.slice(0, 1) + pl.lit("*")


def mobile(sees: bool) -> pl.Expr:
    """The receiver's mobile number, masked unless the role `sees` it whole; empty when none."""
    return (pl.col("receiver_mobile") if sees else masked("receiver_mobile")).fill_null("")
