"""Which warehouse is nearest to a buyer (S17): each warehouse ranks the provinces in its
`serves` list first, best first; any other province ranks after, by a small distance table
of China's regions (same province, same region, neighbouring regions, …); at equal
distance headquarters comes first, as the fallback for everything.

    华北 北京 天津 河北 山西 内蒙古      东北 辽宁 吉林 黑龙江
    华东 上海 江苏 浙江 安徽 福建 江西 山东   华中 河南 湖北 湖南
    华南 广东 广西 海南                西南 重庆 四川 贵州 云南 西藏
    西北 陕西 甘肃 青海 宁夏 新疆        港澳台 香港 澳门 台湾

Neighbouring regions: 华北–东北, 华北–华东, 华北–华中, 华北–西北, 华东–华中, 华东–华南,
华东–港澳台, 华中–华南, 华中–西南, 华中–西北, 华南–西南, 华南–港澳台, 西南–西北.
"""

from __future__ import annotations

from collections import deque
from functools import cache

import polars as pl

from kit.errors import BadInput
from kit.regions import PROVINCES, SHORT_TO_FULL, short_name

__all__ = ["NEIGHBOURS", "REGIONS", "UNKNOWN", "distance", "province_index", "province_of", "scores"]

REGIONS: dict[str, tuple[str, ...]] = {
    "华北": ("北京", "天津", "河北", "山西", "内蒙古"),
    "东北": ("辽宁", "吉林", "黑龙江"),
    "华东": ("上海", "江苏", "浙江", "安徽", "福建", "江西", "山东"),
    "华中": ("河南", "湖北", "湖南"),
    "华南": ("广东", "广西", "海南"),
    "西南": ("重庆", "四川", "贵州", "云南", "西藏"),
    "西北": ("陕西", "甘肃", "青海", "宁夏", "新疆"),
    "港澳台": ("香港", "澳门", "台湾"),
}
NEIGHBOURS: tuple[tuple[str, str], ...] = (
    ("华北", "东北"),
    ("华北", "华东"),
    ("华北", "华中"),
    ("华北", "西北"),
    ("华东", "华中"),
    ("华东", "华南"),
    ("华东", "港澳台"),
    ("华中", "华南"),
    ("华中", "西南"),
    ("华中", "西北"),
    ("华南", "西南"),
    ("华南", "港澳台"),
    ("西南", "西北"),
)
UNKNOWN = len(PROVINCES)  # the province index of an address whose province the kit cannot read
LISTED, AWAY, PER_STEP, NOT_HQ, NOWHERE = 0, 100, 10, 5, 1000  # score parts; lower is nearer
_REGION_OF = {SHORT_TO_FULL[p]: region for region, names in REGIONS.items() for p in names}


def province_of(name: str | None) -> str | None:
    """The official full name of a province as people write it (浙江 → 浙江省), or None."""
    if name is None:
        return None
    text = name.strip()
    return text if text in PROVINCES else SHORT_TO_FULL.get(short_name(text))


def province_index(provinces: pl.Series) -> pl.Series:
    """Each province's index in kit.regions.PROVINCES (UNKNOWN when unreadable), whole-column:
    each distinct spelling is read once."""
    index = {p: i for i, p in enumerate(PROVINCES)}
    spelled = {
        name: index.get(province_of(name) or "", UNKNOWN)
        for name in provinces.drop_nulls().unique().to_list()
    }  # a few dozen spellings
    return provinces.replace_strict(spelled, default=UNKNOWN, return_dtype=pl.Int64)


@cache
def _hops() -> dict[tuple[str, str], int]:
    """Steps between regions over the neighbour table (breadth first)."""
    links: dict[str, set[str]] = {r: set() for r in REGIONS}
    for a, b in NEIGHBOURS:
        links[a].add(b)
        links[b].add(a)
    hops: dict[tuple[str, str], int] = {}
    for start in REGIONS:
        seen, queue = {start: 0}, deque([start])
        while queue:
            here = queue.popleft()
            for there in links[here] - seen.keys():
                seen[there] = seen[here] + 1
                queue.append(there)
        hops |= {(start, r): n for r, n in seen.items()}
    return hops


def distance(a: str, b: str) -> int:
    """0 for the same province, 1 within a region, 1 + steps between neighbouring regions."""
    if a == b:
        return 0
    return 1 + _hops()[(_REGION_OF[a], _REGION_OF[b])]


def scores(warehouses: pl.DataFrame) -> pl.DataFrame:
    """How near each warehouse is to each province, lower first: a (provinces + 1) × warehouses
    Int64 frame whose columns follow the rows of `warehouses` (code, kind, province,
    serves); row UNKNOWN is for addresses without a readable province (headquarters first).

    BadInput names a warehouse without a province, or a `serves` entry that is no province.
    """
    columns: dict[str, list[int]] = {}
    for w in warehouses.iter_rows(named=True):  # a handful of warehouses
        home = province_of(w["province"])
        if home is None:
            raise BadInput("stock.warehouse_no_province", code=w["code"], value=w["province"] or "")
        listed: dict[str, int] = {}
        for entry in (w["serves"] or "").split("\n"):
            if entry.strip():
                full = province_of(entry)
                if full is None:
                    raise BadInput("stock.warehouse_bad_serves", code=w["code"], value=entry.strip())
                listed.setdefault(full, len(listed))
        penalty = 0 if w["kind"] == "hq" else NOT_HQ
        columns[w["code"]] = [
            LISTED + listed[p] if p in listed else AWAY + PER_STEP * distance(home, p) + penalty
            for p in PROVINCES
        ] + [NOWHERE + penalty]
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.Int64))
