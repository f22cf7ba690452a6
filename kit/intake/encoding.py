"""Files into tables of text: the size limit, encoding detection, and CSV files read into one
String column per header, with every data row kept and its field count known; and cells
back into JSON text (the raw and extra columns), whole-column. (XLSX sheets: kit.intake.tmall.)

Encodings: a UTF-8 BOM means UTF-8; else strict UTF-8 while the file decodes; at the first
bad byte, GB18030 (a superset of GBK) — unless UTF-8 text other than ASCII was read before
it: that is a damaged UTF-8 file, not a GBK one. Anything else is BadInput naming the file
and the byte offset. A file cut inside a multi-byte character keeps what precedes the cut
(its last row is then marked `short_row` by the readers, never guessed). Files are decoded
in pieces that end on a record boundary, so a piece can be read while the next is decoded.

CSV rows are counted whole-column: polars splits the text into physical lines; a line's
fields are its bytes less its cells' bytes (lines with a quoted field are counted with a
regular expression), and lines are grouped into records by quote parity where a quoted
field holds a line break. The record count is checked against polars.read_csv; if they
disagree (stray quotes polars cannot parse), the piece is read by Python's csv module
instead, which is slower but lenient. Blank lines are not data rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from kit.errors import BadInput

BOM = codecs.BOM_UTF8
PIECE = 1 << 25  # bytes of file decoded and read at a time; reading overlaps the next decode
UTF8_EVIDENCE = 8  # non-ASCII bytes already read as UTF-8 before a bad byte: a UTF-8 file


@dataclass(frozen=True)
class Table:
    """One sheet or CSV file as text: headers as written, cells, and fields per data row."""

    source: str
    headers: list[str]          # unique, as written (a repeat gets "#2"), trailing empties dropped
    cells: pl.DataFrame         # one String column per header, '' for an empty cell
    fields: pl.Series | None    # fields per data row (CSV), None where rows cannot be ragged
    header_fields: int = 0      # fields in the header row as written (CSV)
    cut_short: bool = False     # the file ended inside a character or a quoted field

    def ragged(self) -> tuple[pl.Series, pl.Series]:
        """Per data row: fewer fields than the header, and more (beyond one empty trailing one)."""
        n = self.cells.height
        if self.fields is None:
            return pl.repeat(False, n, eager=True), pl.repeat(False, n, eager=True)
        f, h = self.fields, self.header_fields
        extra = self.cells.get_column("\x00extra") if "\x00extra" in self.cells.columns else None
        short = f < h
        if self.cut_short and n:
            short = short.scatter(n - 1, True)
        long = (f > h + 1) | ((f == h + 1) & (extra.fill_null("") != "")) if extra is not None else f > h
        return short, long


def read_bytes(path: str | Path, source: str, max_bytes: int) -> bytes:
    """The file's bytes, refused before reading when larger than max_bytes or empty."""
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise BadInput("intake.not_found", file=source) from None
    except OSError as exc:
        raise BadInput("intake.cannot_open", file=source, error=exc.strerror or str(exc)) from None
    if size > max_bytes:
        raise BadInput("intake.too_large", file=source, size_mb=round(size / 2**20, 1),
                       limit_mb=round(max_bytes / 2**20, 1))
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise BadInput("intake.cannot_open", file=source, error=exc.strerror or str(exc)) from None
    if not data.strip(b" \t\r\n" + BOM):
        raise BadInput("intake.empty_file", file=source)
    return data


def _pieces(data: bytes, start: int, size: int) -> Iterator[tuple[int, int]]:
    """Spans of data[start:] of about `size` bytes, each ending after a line break that is
    outside quotes (a quote and a line break are single bytes in UTF-8 and in GB18030)."""
    pos, end = start, len(data)
    while pos < end:
        stop = data.find(b"\n", pos + size) if pos + size < end else -1
        if stop >= 0:
            inside = data.count(b'"', pos, stop + 1) % 2 == 1
            while inside and stop >= 0:  # a quoted field holds this line break: try the next one
                after = data.find(b"\n", stop + 1)
                inside = inside != (data.count(b'"', stop + 1, after + 1) % 2 == 1) if after >= 0 else False
                stop = after
        cut = stop + 1 if stop >= 0 else end
        yield pos, cut
        pos = cut


def _gb18030(piece: bytes, step: int = 1 << 21) -> bytes:
    """The piece decoded from GB18030 as UTF-8, a few lines at a time: each call into the codec
    holds the GIL, and short calls let the reading thread work meanwhile. Python's GBK codec
    is faster and decodes every GBK code as GB18030 does; GB18030 takes over where it fails."""
    view, out, pos, end = memoryview(piece), [], 0, len(piece)
    while pos < end:
        stop = (piece.find(b"\n", pos + step) + 1 or end) if pos + step < end else end
        try:
            text = str(view[pos:stop], "gbk")
        except UnicodeDecodeError:
            try:
                text = str(view[pos:stop], "gb18030")
            except UnicodeDecodeError as exc:  # offsets in the piece, not in this part of it
                raise UnicodeDecodeError(exc.encoding, piece, pos + exc.start, pos + exc.end,
                                         exc.reason) from None
        out.append(text.encode("utf-8"))
        pos = stop
    return b"".join(out)


def decode_pieces(data: bytes, source: str, size: int | None = None) -> Iterator[tuple[bytes, bool]]:
    """The file as UTF-8 pieces (no BOM) that end on a record boundary, decoded one after the
    other; with each, whether the file ended inside a character there (the last piece only).

    UTF-8 (BOM or not) is checked piece by piece; the first bad byte switches to GB18030
    unless UTF-8 text other than ASCII was already read (then the file is damaged UTF-8).
    """
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise BadInput("intake.undecodable", file=source, offset=0, encoding="UTF-16")
    bom = 3 if data.startswith(BOM) else 0
    encoding, seen = "utf-8", bool(bom)
    for a, b in _pieces(data, bom, size or PIECE):
        piece = data[a:b]
        if encoding == "utf-8":
            try:
                str(piece, "utf-8")
                seen = seen or not piece.isascii()
                yield piece, False
                continue
            except UnicodeDecodeError as exc:
                if b == len(data) and exc.end == len(piece) and exc.reason == "unexpected end of data":
                    yield piece[:exc.start], True
                    return
                before = piece[:exc.start]
                if seen or len(before.translate(None, bytes(range(128)))) > UTF8_EVIDENCE:
                    raise BadInput("intake.undecodable", file=source, offset=a + exc.start,
                                   encoding="UTF-8") from None
                encoding = "gb18030"
        try:
            yield _gb18030(piece), False
        except UnicodeDecodeError as exc:
            at_end = b == len(data) and exc.end == len(piece)
            if not (at_end and exc.reason == "incomplete multibyte sequence"):
                raise BadInput("intake.undecodable", file=source, offset=a + exc.start,
                               encoding="UTF-8 / GBK / GB18030") from None
            yield str(piece[:exc.start], "gb18030").encode("utf-8"), True
            return


def to_utf8(data: bytes, source: str) -> tuple[bytes, bool]:
    """The whole file as UTF-8 bytes (no BOM), and whether it was cut inside a character."""
    pieces = list(decode_pieces(data, source))
    return b"".join(p for p, _ in pieces), any(cut for _, cut in pieces)


def unique_names(names: list[str]) -> list[str]:
    """Header names made unique ("名" twice → "名", "名#2"); a blank name becomes "#<column>"."""
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):  # loops over columns, not rows
        name = name if name.strip() else f"#{i + 1}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return out


def free_byte(data: bytes) -> str:
    """A byte that does not occur in the data, to read it line by line."""
    for b in ("\x1f", "\x1e", "\x1d", "\x1c", "\x01", "\x02", "\x03"):
        if b.encode() not in data:
            return b
    return ""


QUOTED_FIELD = r'(^|,)"(?:[^"]|"")*(?:"|$)'  # a field that starts with a quote, as polars reads it


def _commas_outside(lines: pl.Series) -> pl.Series:
    """Commas that separate fields: quoted fields (those starting with a quote) taken out."""
    return lines.str.replace_all(QUOTED_FIELD, "${1}").str.count_matches(",", literal=True)


def _lines(utf8: bytes) -> pl.DataFrame | None:
    """The physical lines (l) with their bytes (n), whether a field starts with a quote
    (quoted) and whether their quotes are odd (a quoted field goes on to the next line)."""
    sep = free_byte(utf8)
    if not sep:
        return None
    l = pl.col("l")  # noqa: E741
    return pl.read_csv(utf8, has_header=False, separator=sep, quote_char=None, schema={"l": pl.String},
                       empty_string_is_null=False).lazy().select(l.fill_null("")).with_columns(
        n=l.str.len_bytes(), quoted=l.str.starts_with('"') | l.str.contains(',"', literal=True),
        odd=(l.str.count_matches('"', literal=True) % 2) == 1).collect(engine="streaming")


def _simple_fields(lines: pl.DataFrame, frame: pl.DataFrame) -> pl.Series:
    """Fields per line when every record is one line: the line's bytes less its cells' bytes
    are its separators (a quoted field loses its quotes, so those lines are counted)."""
    inside = frame.select(pl.sum_horizontal(pl.all().str.len_bytes().cast(pl.Int64))).to_series()
    fields = lines["n"].cast(pl.Int64) - inside + 1
    quoted = lines["quoted"].arg_true()
    if quoted.len():
        fields = fields.scatter(quoted, _commas_outside(lines["l"].gather(quoted)) + 1)
    return fields


def _record_fields(lines: pl.DataFrame) -> tuple[pl.Series, pl.Series, bool]:
    """Per record when quoted fields hold line breaks: fields, blank flag, and whether the
    file ends inside quotes. Odd lines open a record that the next odd line closes."""
    odd, text = lines["odd"], lines["l"]
    fields = text.str.count_matches(",", literal=True) + 1
    open_after = odd.cum_sum() % 2 == 1
    open_before = open_after.shift(1, fill_value=False)
    single = ~open_before & ~open_after
    simple = (lines["quoted"] & single).arg_true()
    if simple.len():
        fields = fields.scatter(simple, _commas_outside(text.gather(simple)) + 1)
    rec = (~open_before).cum_sum() - 1
    joined = pl.DataFrame({"rec": rec, "l": text}).filter(~single).group_by("rec", maintain_order=True) \
        .agg(pl.col("l").str.join("\n"))
    starts = ~open_before
    fields, blank = fields.filter(starts), (text == "").filter(starts) & single.filter(starts)
    fields = fields.scatter(joined["rec"], _commas_outside(joined["l"]) + 1)
    return fields.cast(pl.Int64), blank, bool(open_after[-1])


def _python_csv(text: str, width: int) -> tuple[pl.DataFrame, pl.Series]:
    """Fallback for files polars cannot split: Python's lenient csv reader, then columns."""
    rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if r]  # blank lines are not data rows
    fields = pl.Series("fields", list(map(len, rows)), dtype=pl.Int64)
    columns = list(zip(*(r[:width] + [""] * (width - len(r)) for r in rows), strict=True)) if rows else []
    frame = pl.DataFrame({f"c{i}": pl.Series(columns[i] if columns else [], dtype=pl.String)
                          for i in range(width)})
    return frame, fields


def header_row(utf8: bytes, source: str) -> list[str]:
    """The header row's fields as written (Python's csv on the file's first record)."""
    head = utf8.lstrip(b"\r\n")[: 1 << 16].decode("utf-8", "ignore")
    written = next(csv.reader(io.StringIO(head)), [])
    if not any(h.strip() for h in written):
        raise BadInput("intake.no_header", file=source, first_row="")
    return written


def csv_table(utf8: bytes, source: str, cut_short: bool = False,
              header: list[str] | None = None) -> Table:
    """A CSV file or piece (UTF-8 bytes) as a Table: every non-blank record a row.

    Without `header` the first record is the header row; a later piece of the file gets the
    header row of its first piece.
    """
    utf8 = utf8.lstrip(b"\r\n") if header is None else utf8
    written = header_row(utf8, source) if header is None else header
    skip = 1 if header is None else 0
    width = len(written) + 2  # the header's fields, a trailing empty one, and one more
    lines = _lines(utf8) if utf8 else None
    frame = fields = None
    if lines is not None:
        counts, still_open = None, False
        if lines["odd"].any():
            counts, blank, still_open = _record_fields(lines)
        body = utf8 + b'"\n' if still_open else utf8
        try:
            frame = pl.read_csv(body, has_header=False, infer_schema=False, quote_char='"',
                                schema={f"c{i}": pl.String for i in range(width)}, missing_columns="insert",
                                truncate_ragged_lines=True, empty_string_is_null=False, raise_if_empty=False)
        except pl.exceptions.PolarsError:
            frame = None
        if frame is not None and counts is None and frame.height == lines.height:
            fields, blank = _simple_fields(lines, frame), lines["n"] == 0
        elif frame is not None and counts is not None and frame.height == counts.len():
            fields = counts
        else:
            frame = None
        if frame is not None:
            if blank.any():
                frame, fields = frame.filter(~blank), fields.filter(~blank)
            cut_short = cut_short or still_open
    if frame is None:
        frame, fields = _python_csv(utf8.decode("utf-8"), width)
    while written and not written[-1].strip():
        written = written[:-1]
    headers = unique_names(written)
    cells = frame.slice(skip).rename({f"c{i}": h for i, h in enumerate(headers)}).rename(
        {f"c{len(headers)}": "\x00extra"}).select([*headers, "\x00extra"])
    gaps = [h for h in headers if cells[h].null_count()]  # columns no row reached
    cells = cells.with_columns(pl.col(gaps).fill_null("")) if gaps else cells
    return Table(source, headers, cells, fields.slice(skip), header_fields=len(headers), cut_short=cut_short)


ESCAPE = r'["\\\x00-\x1f]'  # characters a JSON string must escape
OTHER_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"  # those replace_many below does not handle
PLAIN, ESCAPED = (["\\", '"', "\n", "\r", "\t"], ["\\\\", '\\"', "\\n", "\\r", "\\t"])


def escapes(frame: pl.DataFrame, names: list[str], known: dict[str, int] | None = None) -> dict[str, int]:
    """Per column: -1 every cell empty, 0 plain text, 1 needs JSON escaping, 2 holds rare
    control characters (json_encode then). Columns in `known` are not scanned for escapes."""
    c, known = pl.col, known or {}
    filled = frame.select((c(n) != "").any().alias(str(i)) for i, n in enumerate(names)).row(0) \
        if names else ()
    texts = [n for n, f in zip(names, filled, strict=True) if f and n not in known]
    escape = frame.select(c(n).str.contains(ESCAPE).any().alias(str(i)) for i, n in enumerate(texts)).row(0) \
        if texts else ()
    risky = [n for n, e in zip(texts, escape, strict=True) if e]
    other = frame.select(c(n).str.contains(OTHER_CONTROL).any().alias(str(i))
                         for i, n in enumerate(risky)).row(0) if risky else ()
    flags = dict.fromkeys(names, -1) | dict.fromkeys(texts, 0) | dict.fromkeys(risky, 1)
    flags |= {n: known[n] for n, f in zip(names, filled, strict=True) if f and n in known}
    return flags | {n: 2 for n, o in zip(risky, other, strict=True) if o}


def _json_strings(frame: pl.DataFrame, names: list[str],
                  flags: dict[str, int] | None) -> list[tuple[pl.Expr | str, bool]]:
    """Each column as the inside of a JSON string (escaped only where the column needs it,
    "" for a column with no text), or as a whole JSON value (flag True) for columns with
    rare control characters."""
    c = pl.col
    flags = flags if flags is not None else escapes(frame, names)
    out: list[tuple[pl.Expr | str, bool]] = []
    for n in names:  # a loop over columns
        if flags[n] == 2:
            out.append((pl.struct(c(n).alias("v")).struct.json_encode().str.slice(5).str.head(-1), True))
        elif flags[n] < 0:
            out.append(("", False))
        else:
            out.append((c(n).str.replace_many(PLAIN, ESCAPED) if flags[n] else c(n), False))
    return out


def json_text(frame: pl.DataFrame, columns: dict[str, str], *, compact: bool = False,
              fields: pl.Series | None = None, flags: dict[str, int] | None = None) -> pl.Expr:
    """A JSON object per row of {key: the text of a frame column}, built whole-column.

    compact leaves out keys whose cell is empty (null when none is left); else every key
    is written, and with `fields` (fields per row) the cells a short row lacks are null.
    `flags` are escapes() of the columns, when already known.
    """
    if not columns:
        return pl.lit(None if compact else "{}", dtype=pl.String)
    names = list(columns.values())
    strings, whole = zip(*_json_strings(frame, names, flags), strict=True)
    keys = [json.dumps(k, ensure_ascii=False) for k in columns]
    if not compact and fields is None:  # one concat of literals and columns: no intermediate columns
        parts: list[pl.Expr | str] = ["{"]
        for i, (k, s) in enumerate(zip(keys, strings, strict=True)):
            q = "" if whole[i] else '"'
            parts += [("," if i else "") + k + ":" + q, s, q]
        merged: list[pl.Expr | str] = []
        for part in [*parts, "}"]:
            if isinstance(part, str) and merged and isinstance(merged[-1], str):
                merged[-1] += part
            elif not isinstance(part, str) or part:
                merged.append(part)
        return pl.concat_str([pl.lit(x) if isinstance(x, str) else x for x in merged])
    pieces = []
    for i, (k, s, n) in enumerate(zip(keys, strings, names, strict=True)):  # a loop over columns
        q = "" if whole[i] else '"'
        s = pl.lit(s) if isinstance(s, str) else s
        value = pl.concat_str(pl.lit(k + ":" + q), s, pl.lit(q)) if q else pl.concat_str(pl.lit(k + ":"), s)
        if compact:
            value = pl.when(pl.col(n) != "").then(value)
        else:
            value = pl.when(pl.lit(fields) > i).then(value).otherwise(pl.lit(k + ":null"))
        pieces.append(value)
    body = pl.concat_str(pieces, separator=",", ignore_nulls=compact)
    if compact:
        return pl.when(body != "").then(pl.concat_str(pl.lit("{"), body, pl.lit("}")))
    return pl.concat_str(pl.lit("{"), body, pl.lit("}"))
