"""China's 34 province-level divisions, and reading a province as people write it
(浙江, 浙江省, 广西, 广西壮族自治区 are the same place)."""

from __future__ import annotations

import polars as pl

PROVINCES: tuple[str, ...] = (
    "北京市", "天津市", "上海市", "重庆市",
    "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省", "江苏省", "浙江省", "安徽省", "福建省",
    "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省",
    "云南省", "陕西省", "甘肃省", "青海省", "台湾省",
    "内蒙古自治区", "广西壮族自治区", "西藏自治区", "宁夏回族自治区", "新疆维吾尔自治区",
    "香港特别行政区", "澳门特别行政区",
)
_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省", "市")


def short_name(name: str) -> str:
    """The province without its suffix: 浙江省 -> 浙江, 广西壮族自治区 -> 广西."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


SHORT_TO_FULL: dict[str, str] = {short_name(p): p for p in PROVINCES}


def full_province() -> pl.Expr:
    """An expression mapping the `province` column to the full official name (null if unknown)."""
    # The leftmost suffix wins, so 广西壮族自治区 loses 壮族自治区, not just 自治区.
    suffix = "(" + "|".join(_SUFFIXES) + ")$"
    short = pl.col("province").str.strip_chars().str.replace(suffix, "")
    return short.replace_strict(SHORT_TO_FULL, default=None, return_dtype=pl.String)
