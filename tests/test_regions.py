"""Provinces as people write them map to the official names; unknown ones to nothing."""

from __future__ import annotations

import polars as pl
import pytest

from kit.regions import PROVINCES, full_province, short_name


@pytest.mark.parametrize(("written", "official"), [
    ("浙江", "浙江省"), ("浙江省", "浙江省"), (" 广西 ", "广西壮族自治区"),
    ("广西壮族自治区", "广西壮族自治区"),
    ("北京", "北京市"), ("内蒙古", "内蒙古自治区"), ("香港", "香港特别行政区"), ("火星", None), (None, None),
])
def test_written_province_maps_to_the_official_name(written, official):
    """Short and full forms are the same place; a made-up one is unknown."""
    frame = pl.DataFrame({"province": [written]}, schema={"province": pl.String})

    assert frame.select(full_province()).item() == official


def test_thirty_four_divisions_with_distinct_short_names():
    """All 34 province-level divisions, none sharing a short name."""
    assert len(PROVINCES) == 34
    assert len({short_name(p) for p in PROVINCES}) == 34
