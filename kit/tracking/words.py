"""What carriers write, read as the kit's words: status text → TrackingStatus, time text → the
shop's naive local time, and a carrier's CSV export (UTF-8 or GBK, Chinese or English
headers) → one frame of events, whole-column.

Status text is matched whole (trimmed, lower case, spaces as "_") against kit.toml's
[tracking] status_words, the kit's own values (in_transit, delivered, …) and the synonyms
below; anything else is `unknown`: the text is kept in the event's description
("【text】description") and counted, never guessed. A time with an offset (+08:00, +0000, Z)
is converted; a time without one is China time (UTC+8), as carriers' exports write it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import polars as pl

from kit import clock
from kit.carriers.builtin.express import STATUS_SYNONYMS
from kit.carriers.numbers import normalise
from kit.errors import BadInput
from kit.i18n import t
from kit.intake.encoding import csv_table, read_bytes, to_utf8
from kit.models import TrackingStatus

__all__ = [
    "CHINA_ZONE",
    "EVENT_COLUMNS",
    "HEADERS",
    "STATUS_WORDS",
    "local_times",
    "normalise_numbers",
    "read_csv",
    "status_of",
]

CHINA_ZONE = "Asia/Shanghai"  # a time without an offset in a carrier's file is China time
_S = TrackingStatus
# Words seen in Chinese carriers' exports and English gateways, beyond express.STATUS_SYNONYMS.
STATUS_WORDS: dict[str, TrackingStatus] = {
    **STATUS_SYNONYMS,
    "已下单": _S.AWAITING_PICKUP,
    "待取件": _S.AWAITING_PICKUP,
    "info_received": _S.AWAITING_PICKUP,
    "揽件": _S.PICKED_UP,
    "已揽件": _S.PICKED_UP,
    "收件": _S.PICKED_UP,
    "已收件": _S.PICKED_UP,
    "已取件": _S.PICKED_UP,
    "发出": _S.IN_TRANSIT,
    "已发出": _S.IN_TRANSIT,
    "到达": _S.IN_TRANSIT,
    "已到达": _S.IN_TRANSIT,
    "到件": _S.IN_TRANSIT,
    "发件": _S.IN_TRANSIT,
    "转运中": _S.IN_TRANSIT,
    "在途中": _S.IN_TRANSIT,
    "运送中": _S.IN_TRANSIT,
    "派件中": _S.OUT_FOR_DELIVERY,
    "正在派件": _S.OUT_FOR_DELIVERY,
    "待派送": _S.OUT_FOR_DELIVERY,
    "派送": _S.OUT_FOR_DELIVERY,
    "本人签收": _S.DELIVERED,
    "代签收": _S.DELIVERED,
    "他人代收": _S.DELIVERED,
    "已代收": _S.DELIVERED,
    "投递成功": _S.DELIVERED,
    "妥投": _S.DELIVERED,
    "已妥投": _S.DELIVERED,
    "派送失败": _S.DELIVERY_FAILED,
    "投递失败": _S.DELIVERY_FAILED,
    "派件失败": _S.DELIVERY_FAILED,
    "疑难件": _S.DELIVERY_FAILED,
    "failed_attempt": _S.DELIVERY_FAILED,
    "拒签": _S.REFUSED,
    "已拒收": _S.REFUSED,
    "已拒签": _S.REFUSED,
    "退件": _S.RETURNING,
    "退回件": _S.RETURNING,
    "returning": _S.RETURNING,
    "退回签收": _S.RETURNED,
    "退件签收": _S.RETURNED,
    "已退签": _S.RETURNED,
    "遗失": _S.LOST,
    "已破损": _S.DAMAGED,
}
# A CSV export's headers, Chinese or English (compared trimmed and in lower case) → column.
HEADERS: dict[str, str] = {
    **dict.fromkeys(
        [
            "运单号",
            "快递单号",
            "单号",
            "运单编号",
            "物流单号",
            "快递单号码",
            "number",
            "tracking_no",
            "tracking number",
            "tracking_number",
            "waybill",
            "waybill_no",
        ],
        "tracking_no",
    ),
    **dict.fromkeys(
        [
            "时间",
            "扫描时间",
            "操作时间",
            "发生时间",
            "更新时间",
            "轨迹时间",
            "time",
            "at",
            "datetime",
            "scan time",
            "event time",
        ],
        "at",
    ),
    **dict.fromkeys(
        ["状态", "物流状态", "快件状态", "扫描类型", "状态文本", "status", "status text"], "status_text"
    ),
    **dict.fromkeys(
        [
            "描述",
            "物流信息",
            "详情",
            "内容",
            "轨迹",
            "说明",
            "物流详情",
            "description",
            "detail",
            "details",
            "text",
        ],
        "description",
    ),
    **dict.fromkeys(
        ["地点", "所在地", "城市", "网点", "位置", "所在城市", "location", "place", "city"], "location"
    ),
}
REQUIRED = ("tracking_no", "at", "status_text")
# carrier_code, tracking_no, at (naive local), status, description, location, and the row
# of the file (or of the list) each event came from, for messages
EVENT_COLUMNS: dict[str, pl.DataType] = {
    "carrier_code": pl.String(),
    "tracking_no": pl.String(),
    "at": pl.Datetime("us"),
    "status": pl.String(),
    "description": pl.String(),
    "location": pl.String(),
    "row": pl.Int64(),
}
_OFFSET = r"(?:[+-]\d{2}:?\d{2}|Z)$"


def _word_key(text: pl.Expr) -> pl.Expr:
    """Status text as it is looked up: trimmed, lower case, inner spaces and dashes as "_"."""
    return text.fill_null("").str.strip_chars().str.to_lowercase().str.replace_all(r"[\s\-]+", "_")


def status_of(text: pl.Expr, words: Mapping[str, str] | None = None) -> pl.Expr:
    """The kit's status (a TrackingStatus value) for each status text; `unknown` when not known.
    `words` (kit.toml [tracking] status_words) come first."""
    table = {k: str(v) for k, v in STATUS_WORDS.items()}
    table |= {str(s): str(s) for s in TrackingStatus if s is not TrackingStatus.UNKNOWN}
    table |= {k.strip().lower().replace(" ", "_"): str(v) for k, v in (words or {}).items()}
    return _word_key(text).replace_strict(table, default=str(TrackingStatus.UNKNOWN), return_dtype=pl.String)


def _china_to_shop(naive: pl.Series | pl.Expr) -> pl.Series | pl.Expr:
    """Naive China times as the shop's naive local times (the same unless KIT_TIMEZONE differs)."""
    shop = str(clock.shop_zone())
    if shop == CHINA_ZONE:
        return naive
    aware = naive.dt.replace_time_zone(CHINA_ZONE, ambiguous="earliest", non_existent="null")
    return aware.dt.convert_time_zone(shop).dt.replace_time_zone(None)


def _any_times(text: pl.Expr) -> pl.Expr:
    """Time text in any accepted writing as the shop's naive local time (null: unreadable)."""
    s = (
        text.fill_null("")
        .str.strip_chars()
        .str.replace(r"^(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})(?:\s*日)?", "${1}-${2}-${3} ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .str.replace(r"^(\d{4}-\d{1,2}-\d{1,2})[T\s]+", "${1} ")
        .str.replace(r"Z$", "+00:00")
        .str.replace(r"\s+([+-]\d{2}:?\d{2})$", "${1}")
    )
    formats = ("%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M%z")
    with_offset = pl.coalesce(s.str.to_datetime(f, time_unit="us", strict=False) for f in formats)
    with_offset = with_offset.dt.convert_time_zone(str(clock.shop_zone())).dt.replace_time_zone(None)
    naive = pl.coalesce(
        s.str.to_datetime(f, time_unit="us", strict=False)
        for f in ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d")
    )
    return pl.when(s.str.contains(_OFFSET)).then(with_offset).otherwise(_china_to_shop(naive))


def local_times(values: pl.Series) -> pl.Series:
    """Time text as the shop's naive local time (null where it cannot be read): with an offset
    converted, without one taken as China time. Dates may use -, / or 年月日; "T" or a space
    between date and time; seconds and fractions are optional. The common writing
    (2026-12-04 09:30:00) is read in one pass; only the other rows go the long way."""
    plain = values.str.strip_chars().str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False)
    out = _china_to_shop(plain)
    rest = (out.is_null() & values.is_not_null()).arg_true()
    if rest.len():
        slow = pl.DataFrame({"t": values.gather(rest)}).select(_any_times(pl.col("t")))["t"]
        out = out.scatter(rest, slow)
    return out.alias(values.name)


def aware_to_local(at: datetime) -> datetime:
    """An adapter's event time as the shop's naive local time (a naive one is China time)."""
    if at.tzinfo is None:
        from zoneinfo import ZoneInfo

        at = at.replace(tzinfo=ZoneInfo(CHINA_ZONE))
    return clock.to_local(at)


def normalise_numbers(numbers: pl.Series) -> pl.Series:
    """Tracking numbers as carriers print them (kit.carriers.numbers.normalise), each distinct
    number not already in that form normalised once."""
    distinct = numbers.drop_nulls().unique()
    odd = distinct.filter(~distinct.str.contains(r"^[0-9A-Z]+$"))  # the rest are printed form already
    table = {n: normalise(n) for n in odd.to_list()}
    return numbers.replace(table) if table else numbers


def event_frame(
    raw: pl.DataFrame, carrier_code: str, words: Mapping[str, str] | None = None
) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    """Text columns (tracking_no, at, status_text, description, location, row) as events of
    EVENT_COLUMNS, and the rows that cannot be events: (row, reason)."""
    frame = raw.with_columns(
        normalise_numbers(raw["tracking_no"]).alias("tracking_no"),
        local_times(raw["at"]).alias("_at"),
        status_of(pl.col("status_text"), words).alias("status"),
        pl.col("status_text").fill_null("").str.strip_chars(),
        pl.col("description").fill_null("").str.strip_chars(),
        pl.col("location").str.strip_chars(),
    )
    bad_rows = frame.filter(pl.col("tracking_no").fill_null("") == "").select(
        "row", pl.lit(t("tracking.row_no_number")).alias("why")
    )
    bad_time = frame.filter((pl.col("tracking_no").fill_null("") != "") & pl.col("_at").is_null()).select(
        "row", pl.format(t("tracking.row_bad_time", value="{}"), pl.col("at").fill_null("")).alias("why")
    )
    ok = frame.filter((pl.col("tracking_no").fill_null("") != "") & pl.col("_at").is_not_null())
    unknown = pl.col("status") == str(TrackingStatus.UNKNOWN)
    description = (
        pl.when(unknown & (pl.col("status_text") != ""))
        .then(pl.format("【{}】{}", "status_text", "description"))
        .when(pl.col("description") == "")
        .then(pl.col("status_text"))
        .otherwise(pl.col("description"))
    )
    events = ok.select(
        pl.lit(carrier_code).alias("carrier_code"),
        "tracking_no",
        pl.col("_at").alias("at"),
        "status",
        description.alias("description"),
        pl.when(pl.col("location") == "").then(None).otherwise(pl.col("location")).alias("location"),
        pl.col("row").cast(pl.Int64),
    )
    refused = pl.concat([bad_rows, bad_time]).sort("row")
    return events, [(int(r), str(w)) for r, w in refused.iter_rows()]


def read_csv(
    path: str | Path, carrier_code: str, *, words: Mapping[str, str] | None = None, max_bytes: int = 1 << 30
) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    """A carrier's CSV export (UTF-8 or GBK) as events of EVENT_COLUMNS under `carrier_code`,
    and its rows that cannot be events: (row number in the file, reason). Headers may be
    Chinese or English (HEADERS); number, time and status are required."""
    source = Path(path).name
    utf8, cut = to_utf8(read_bytes(path, source, max_bytes), source)
    table = csv_table(utf8, source, cut)
    names: dict[str, str] = {}
    for header in table.headers:
        column = HEADERS.get(header.strip().lower())
        if column is not None and column not in names.values():
            names[header] = column
    missing = [c for c in REQUIRED if c not in names.values()]
    if missing:
        raise BadInput(
            "tracking.csv_missing_columns",
            file=source,
            columns="、".join(t(f"tracking.column_{c}") for c in missing),
            found="、".join(table.headers) or "-",
        )
    raw = table.cells.select([pl.col(h).alias(c) for h, c in names.items()])
    for column in ("description", "location"):
        if column not in raw.columns:
            raw = raw.with_columns(pl.lit(None, pl.String).alias(column))
    raw = raw.with_row_index("row", offset=2).with_columns(pl.col("row").cast(pl.Int64))  # 1: header
    return event_frame(raw, carrier_code, words)
