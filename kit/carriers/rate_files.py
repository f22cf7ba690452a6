"""Reading contract rate tables from files (TOML or CSV, UTF-8 or GBK), checked at load:
a refusal names the file, the line and the reason (kit.carriers.rates holds the tables)."""

from __future__ import annotations

import csv
import io
import re
import tomllib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn

from kit.carriers.rates import MAINLAND, RateTable, Zone, province_of, provinces_of
from kit.errors import BadInput
from kit.i18n import t

TOP_KEYS = {  # canonical key -> the names a file may use for it (Chinese, English)
    "carrier": ("承运商", "快递", "carrier", "carrier_code"),
    "service": ("服务", "service"),
    "origin": ("始发省", "始发地", "origin", "origin_province"),
    "volumetric_divisor": ("抛重系数", "体积重系数", "volumetric_divisor", "divisor"),
    "max_weight_g": ("最大重量克", "max_weight_g"),
    "note": ("备注", "note"),
}
ZONE_KEYS = {
    "zone": ("区域", "zone", "name"),
    "provinces": ("省份", "provinces"),
    "first_weight_g": ("首重克", "first_weight_g"),
    "first_price": ("首重价", "first_price"),
    "step_g": ("续重克", "step_g"),
    "step_price": ("续重价", "step_price"),
    "days": ("时效天", "days"),
}
_CODE = re.compile(r"^[a-z0-9_]+$")
_SEPARATORS = re.compile(r"[、，,；;\s]+")


def _refuse(file: str, line: int, why: str, **params: Any) -> NoReturn:
    """Refuse a table file: BadInput naming the file, the line and the reason."""
    raise BadInput("rates.bad_table", file=file, line=line, why=why, reason=t(f"rates.why.{why}", **params))


def _label(names: tuple[str, ...]) -> str:
    """How a key is shown in a message: its Chinese and English names, e.g. 首重价/first_price."""
    return f"{names[0]}/{next(n for n in names if n.isascii())}"


def _canonical(label: str, spec: dict[str, tuple[str, ...]]) -> str | None:
    """The canonical key for a label such as '首重价/first_price', '首重价' or 'first_price'."""
    parts = [p.strip().lower() for p in str(label).split("/") if p.strip()]
    for key, names in spec.items():
        if parts and all(p in names for p in parts):
            return key
    return None


def _number(file: str, line: int, field: str, value: Any) -> Decimal:
    """A number written as text or a TOML number (a ¥ or 元 around it is fine), exactly."""
    try:
        number = Decimal(str(value).strip().lstrip("¥￥").removesuffix("元").strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if isinstance(value, bool) or not number.is_finite():
        _refuse(file, line, "bad_number", field=field, value=value)
    return number


def _fen(file: str, line: int, field: str, value: Any) -> int:
    """A price in yuan (at most two decimals, not negative) as fen."""
    fen = _number(file, line, field, value) * 100
    if fen < 0:
        _refuse(file, line, "negative_price", field=field, value=value)
    if fen != fen.to_integral_value():
        _refuse(file, line, "too_precise", field=field, value=value)
    return int(fen)


def _whole(file: str, line: int, field: str, value: Any, minimum: int = 1) -> int:
    """A whole number (grams, days, divisor) of at least `minimum`."""
    number = _number(file, line, field, value)
    if number != number.to_integral_value() or number < minimum:
        _refuse(file, line, "not_positive" if minimum > 0 else "bad_days", field=field, value=value)
    return int(number)


def _code(file: str, line: int, field: str, value: Any) -> str:
    """A carrier or service code: lower-case letters, digits, underscores."""
    code = str(value).strip().lower()
    if not _CODE.match(code):
        _refuse(file, line, "bad_code", field=field, value=value)
    return code


Entry = tuple[Any, int]  # a value and the line it is written on


def _at(fields: dict[str, Entry], key: str) -> tuple[int, str, Any]:
    """(line, key, value) of a zone field, as the number readers take them."""
    return fields[key][1], key, fields[key][0]


def _build(file: str, meta: dict[str, Entry], rows: list[tuple[int, dict[str, Entry]]],
           start: int) -> RateTable:
    """Validate what a TOML or CSV file said and build the table."""
    for key in ("carrier", "service", "origin", "volumetric_divisor"):
        if key not in meta:
            _refuse(file, start, "missing_key", key=_label(TOP_KEYS[key]))
    carrier = _code(file, meta["carrier"][1], "carrier", meta["carrier"][0])
    service = _code(file, meta["service"][1], "service", meta["service"][0])
    origin = province_of(str(meta["origin"][0]))
    if origin is None:
        _refuse(file, meta["origin"][1], "unknown_province", province=meta["origin"][0])
    divisor = _whole(file, meta["volumetric_divisor"][1], "volumetric_divisor", meta["volumetric_divisor"][0])
    max_weight = _whole(file, meta["max_weight_g"][1], "max_weight_g", meta["max_weight_g"][0]) \
        if "max_weight_g" in meta else None
    if not rows:
        _refuse(file, start, "no_zones")
    names: dict[str, int] = {}
    listed: list[tuple[str, int, str]] = []  # (province as written, line, zone)
    numbers = []
    for line, fields in rows:
        for key, names_of in ZONE_KEYS.items():
            if key not in fields:
                _refuse(file, line, "missing_key", key=_label(names_of))
        name = str(fields["zone"][0]).strip()
        if name in names or not name:
            _refuse(file, line, "duplicate_zone", zone=name, first=names.get(name, line))
        names[name] = line
        value, at = fields["provinces"]
        written = [str(p) for p in value] if isinstance(value, list) else _SEPARATORS.split(str(value))
        written = [p.strip() for p in written if p.strip()]
        if not written:
            _refuse(file, at, "empty_zone", zone=name)
        listed += [(p, at, name) for p in written]
        numbers.append((name, line, {
            "first_weight_g": _whole(file, *_at(fields, "first_weight_g")),
            "first_price_fen": _fen(file, *_at(fields, "first_price")),
            "step_g": _whole(file, *_at(fields, "step_g")),
            "step_price_fen": _fen(file, *_at(fields, "step_price")),
            "days": _whole(file, *_at(fields, "days"), minimum=0),
        }))
    full = provinces_of([p for p, _, _ in listed])  # every province of the file in one pass
    seen: dict[str, tuple[int, str]] = {}
    members: dict[str, list[str]] = {name: [] for name in names}
    for (written, line, zone), province in zip(listed, full, strict=True):
        if province is None:
            _refuse(file, line, "unknown_province", province=written)
        if province in seen:
            _refuse(file, line, "duplicate_province", province=province, first=seen[province][0],
                    zone=seen[province][1])
        seen[province] = (line, zone)
        members[zone].append(province)
    gap = [p for p in MAINLAND if p not in seen]
    if gap:
        _refuse(file, start, "gap", provinces="、".join(gap))
    zones = tuple(Zone(name, tuple(members[name]), line=line, **values) for name, line, values in numbers)
    return RateTable(carrier, service, origin, divisor, zones, max_weight, str(meta.get("note", ("", 0))[0]),
                     file, meta["carrier"][1])


def _read(path: Any, encodings: tuple[str, ...]) -> tuple[str, str]:
    """The file's name and text, trying each encoding in turn."""
    name, data = str(path), path.read_bytes()
    for encoding in encodings:
        try:
            return name, data.decode(encoding)
        except UnicodeDecodeError:
            continue
    _refuse(name, 1, "not_text", encodings=", ".join(encodings))


def _toml_lines(text: str) -> dict[tuple[int, str | None], int]:
    """Where each key is written: (zone index or -1 for the top, key) -> line number."""
    lines: dict[tuple[int, str | None], int] = {}
    block = -1
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("[[") and stripped[2:].split("]")[0].strip() == "zones":
            block += 1
            lines[(block, None)] = number
        elif match := re.match(r"""^(["']?)([^"'=\s]+)\1\s*=""", stripped):
            lines.setdefault((block, match.group(2)), number)
    return lines


def load_toml(path: Any) -> RateTable:
    """Load and validate one TOML rate table (layout in this module's docstring)."""
    file, text = _read(path, ("utf-8-sig",))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        _refuse(file, int(found.group(1)) if found else 1, "bad_toml", detail=str(exc))
    lines = _toml_lines(text)
    meta: dict[str, Entry] = {}
    for key, value in data.items():
        if key == "zones":
            continue
        canonical = _canonical(key, TOP_KEYS)
        if canonical is None:
            _refuse(file, lines.get((-1, key), 1), "unknown_key", key=key, expected=", ".join(TOP_KEYS))
        meta[canonical] = (value, lines.get((-1, key), 1))
    zones = data.get("zones", [])
    if not isinstance(zones, list) or not all(isinstance(z, dict) for z in zones):
        _refuse(file, lines.get((-1, "zones"), 1), "zones_shape")
    rows = []
    for index, zone in enumerate(zones):
        at = lines.get((index, None), lines.get((-1, "zones"), 1))
        fields: dict[str, Entry] = {}
        for key, value in zone.items():
            canonical = _canonical(key, ZONE_KEYS)
            if canonical is None:
                _refuse(file, lines.get((index, key), at), "unknown_key", key=key,
                        expected=", ".join(ZONE_KEYS))
            fields[canonical] = (value, lines.get((index, key), at))
        rows.append((at, fields))
    return _build(file, meta, rows, rows[0][0] if rows else 1)


def load_csv(path: Any) -> RateTable:
    """Load and validate one CSV rate table (layout in this module's docstring)."""
    file, text = _read(path, ("utf-8-sig", "gb18030"))
    reader = csv.reader(io.StringIO(text))
    meta: dict[str, Entry] = {}
    header: list[str] | None = None
    header_line, rows = 1, []
    for raw in reader:
        line, cells = reader.line_num, [c.strip() for c in raw]
        while cells and not cells[-1]:
            cells.pop()
        if not cells or cells[0].startswith("#"):
            continue
        if header is None and _canonical(cells[0], ZONE_KEYS) != "zone":
            key = _canonical(cells[0], TOP_KEYS)
            if key is None:
                _refuse(file, line, "unknown_key", key=cells[0], expected=", ".join(TOP_KEYS))
            meta[key] = (cells[1] if len(cells) > 1 else "", line)
        elif header is None:
            header, header_line = [_canonical(c, ZONE_KEYS) or "" for c in cells], line
            for cell, key in zip(cells, header, strict=True):
                if not key or header.count(key) > 1:
                    _refuse(file, line, "unknown_column", column=cell, expected=", ".join(ZONE_KEYS))
            for key, names in ZONE_KEYS.items():
                if key not in header:
                    _refuse(file, line, "missing_column", column=_label(names))
        elif len(cells) != len(header):
            _refuse(file, line, "cells", got=len(cells), expected=len(header))
        else:
            rows.append((line, {key: (cell, line) for key, cell in zip(header, cells, strict=True)}))
    if header is None:
        _refuse(file, reader.line_num or 1, "no_header")
    return _build(file, meta, rows, header_line)


def load_table(path: str | Path | Any) -> RateTable:
    """Load one rate table file, TOML or CSV by its suffix."""
    path = Path(path) if isinstance(path, str) else path
    loader = load_csv if path.name.lower().endswith(".csv") else load_toml
    return loader(path)


def load_folder(folder: str | Path | Any) -> list[RateTable]:
    """Every *.toml and *.csv table of a folder, validated; one (carrier, service, origin) once."""
    folder = Path(folder) if isinstance(folder, str) else folder
    if not folder.is_dir():
        raise BadInput("rates.folder_missing", path=str(folder))
    tables: dict[tuple[str, str, str], RateTable] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.startswith((".", "~")) or not entry.name.lower().endswith((".toml", ".csv")):
            continue
        table = load_table(entry)
        if table.key in tables:
            _refuse(table.source, table.line, "duplicate_table", code=table.carrier_code,
                    service=table.service, origin=table.origin_province, other=tables[table.key].source)
        tables[table.key] = table
    if not tables:
        raise BadInput("rates.folder_empty", path=str(folder))
    return list(tables.values())


# --- quoting -----------------------------------------------------------------------------------
