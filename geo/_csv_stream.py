"""CSV read in streaming chunks: exact rows, per-row encodings, bad rows kept as text.

:class:`CsvStream` reads a (possibly gzipped) CSV file through
:class:`geo._bounded.BoundedInput` in blocks of a few MB cut at record boundaries, parses
each block with pyarrow's C++ reader (a pure-Python reader takes over for a block with
irregular rows) and yields frames of at most ``size`` rows of strings, so memory stays
bounded whatever the size of the file. Rules:

* the header names the columns; duplicate names are an error naming them; no column is
  ever taken as an index;
* each line is decoded on its own: UTF-8, else Windows-1252 (else Latin-1), so a file
  mixing UTF-8 and Windows-1252/Latin-1 rows keeps ``åäö`` in both (the encoding reported
  is then ``utf-8+cp1252``); UTF-16 files need their byte order mark;
* a row with more fields than the header, or with a NUL character, becomes a *bad row*:
  its cells are empty, column ``_bad_row`` says why and ``_text`` holds the row's text
  exactly as read (the import quarantines it as ``bad_row``); a row with fewer fields
  gets empty cells for the missing ones;
* a row longer than :attr:`ReadLimits.max_row_bytes` stops the import with a clear error.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from geo._bounded import BoundedInput, ReadLimits
from geo._staging import STR
from geo.errors import ValidationError

#: Hidden columns of a chunk with bad rows.
BAD_ROW, RAW_TEXT = "_bad_row", "_text"
#: Bytes read per block.
BLOCK_BYTES = 4 * 1024 * 1024


def record_end(buf: bytes, start: int = 0) -> int:
    """Index just after the last newline of ``buf`` outside quotes (-1 if none)."""
    pos = buf.rfind(b"\n", start)
    while pos >= start:
        if not buf.count(b'"', 0, pos) % 2:
            return pos + 1
        pos = buf.rfind(b"\n", start, pos)
    return -1


def decode_lines(block: bytes) -> tuple[str, int, int]:
    """Decode ``block`` line by line: ``(text, utf8 lines, legacy lines)``.

    Lines that are not UTF-8 are Windows-1252 (Latin-1 for its five unused bytes).
    """
    out: list[str] = []
    utf8 = legacy = 0
    for line in block.split(b"\n"):
        try:
            out.append(line.decode("utf-8"))
            if not line.isascii():
                utf8 += 1
        except UnicodeDecodeError:
            legacy += 1
            try:
                out.append(line.decode("cp1252"))
            except UnicodeDecodeError:
                out.append(line.decode("latin-1"))
    return "\n".join(out), utf8, legacy


class CsvStream:
    """Rows of a CSV file in chunks of strings (see the module documentation)."""

    def __init__(self, inp: BoundedInput, delimiter: str, limits: ReadLimits) -> None:
        self.inp = inp
        self.delimiter = delimiter
        self.limits = limits
        self.name = inp.path.name
        self.line_no = 0  # lines before the current block
        self.utf8_lines = 0  # lines with non-ASCII UTF-8
        self.legacy_lines = 0  # lines decoded as Windows-1252/Latin-1
        self.rows_read = 0
        self._pending = b""
        peek = getattr(inp.stream, "peek", None)
        head = peek(4)[:4] if peek is not None else b""
        self.utf16 = head[:2] in (b"\xff\xfe", b"\xfe\xff")
        self.bom = head[:3] == b"\xef\xbb\xbf"
        self._text: IO[str] | None = None
        if self.utf16:
            self._text = io.TextIOWrapper(inp.stream, encoding="utf-16", newline="")  # type: ignore[type-var]
        if csv.field_size_limit() < limits.max_row_bytes:
            csv.field_size_limit(limits.max_row_bytes)
        self.columns = self._header()
        names = list(self.columns)
        self._read_options = pacsv.ReadOptions(column_names=names, use_threads=True)
        self._convert = pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=True,
            null_values=[""],
        )

    @property
    def encoding(self) -> str:
        """The encoding(s) the rows were read in (so far)."""
        if self.utf16:
            return "utf-16"
        if self.legacy_lines and self.utf8_lines:
            return "utf-8+cp1252"
        if self.legacy_lines:
            return "cp1252"
        return "utf-8-sig" if self.bom else "utf-8"

    # ------------------------------------------------------------------ blocks
    def _read(self) -> bytes:
        if self._text is not None:
            text = self._text.read(BLOCK_BYTES // 2)
            self.inp.check()
            return text.encode("utf-8")
        return self.inp.read(BLOCK_BYTES)

    def _too_long(self, buf: bytes) -> ValidationError:
        line = self.line_no + buf.count(b"\n") + 1
        return ValidationError(
            f"rad {line} är längre än {self.limits.max_row_bytes // 1024} kB: filen är "
            "ingen CSV med en rapport per rad (eller höj gränsen med "
            "LAGESBILD_IMPORT_MAX_ROW_KB)",
            context=self.name,
        )

    def _blocks(self) -> Iterator[bytes]:
        """Blocks of whole records (the last one may lack its final newline)."""
        while True:
            data = self._read()
            if not data:
                if self._pending.strip():
                    block, self._pending = self._pending, b""
                    yield block
                return
            buf = self._pending + data if self._pending else data
            cut = record_end(buf)
            if cut < 0:
                if len(buf) > self.limits.max_row_bytes:
                    raise self._too_long(buf[:0])
                self._pending = buf
                continue
            self._pending = buf[cut:]
            if len(self._pending) > self.limits.max_row_bytes:
                raise self._too_long(buf[:cut])
            yield buf[:cut]

    def _header(self) -> list[str]:
        blocks = self._blocks()
        first = next(blocks, b"")
        if self.bom:
            first = first[3:]
        end = first.find(b"\n")
        while end >= 0 and first.count(b'"', 0, end) % 2:
            end = first.find(b"\n", end + 1)
        line, rest = (first, b"") if end < 0 else (first[: end + 1], first[end + 1 :])
        self._pending = rest + self._pending
        self._blocks_iter = blocks
        self.line_no = line.count(b"\n")
        text, _u, legacy = decode_lines(line)
        self.legacy_lines += legacy
        try:
            row = next(csv.reader(io.StringIO(text), delimiter=self.delimiter), [])
        except csv.Error as exc:
            raise ValidationError(f"rubrikraden kan inte läsas: {exc}", self.name) from exc
        names = [str(c).strip() for c in row]
        names = [n or f"Unnamed: {i}" for i, n in enumerate(names)]
        seen: dict[str, int] = {}
        for n in names:
            seen[n] = seen.get(n, 0) + 1
        dups = [n for n, k in seen.items() if k > 1]
        if dups:
            raise ValidationError(
                "kolumnnamn förekommer mer än en gång: "
                + ", ".join(f"{n!r} ({seen[n]} gånger)" for n in dups)
                + "; byt namn på eller ta bort dubbletterna",
                context=self.name,
            )
        return names

    # ------------------------------------------------------------------ parsing
    def _parse(self, block: bytes) -> pd.DataFrame:
        try:
            block.decode("utf-8")
        except UnicodeDecodeError:
            text, utf8, legacy = decode_lines(block)
            self.utf8_lines += utf8
            self.legacy_lines += legacy
            block = text.encode("utf-8")
        else:
            if not block.isascii():
                self.utf8_lines += 1
        lines = block.count(b"\n")
        irregular = [False]

        def handler(_row: Any) -> str:
            irregular[0] = True
            return "skip"

        frame = None
        if b"\x00" not in block:
            try:
                table = pacsv.read_csv(
                    pa.BufferReader(block),
                    read_options=self._read_options,
                    parse_options=pacsv.ParseOptions(
                        delimiter=self.delimiter,
                        newlines_in_values=True,
                        invalid_row_handler=handler,
                    ),
                    convert_options=self._convert,
                )
            except pa.ArrowInvalid:
                irregular[0] = True
            else:
                if not irregular[0]:
                    frame = _arrow_frame(table)
        if frame is None:
            frame = self._parse_python(block.decode("utf-8"))
        self.line_no += lines
        return frame

    def _parse_python(self, text: str) -> pd.DataFrame:
        """Row by row with :mod:`csv`, keeping the text of irregular rows."""
        ncol = len(self.columns)
        buf: list[str] = []

        def lines() -> Iterator[str]:
            for line in text.splitlines(keepends=True):
                buf.append(line)
                yield line

        reader = csv.reader(lines(), delimiter=self.delimiter)
        rows: list[list[str]] = []
        bad: dict[int, tuple[str, str]] = {}
        while True:
            try:
                rec = next(reader, None)
            except csv.Error as exc:
                raise ValidationError(
                    f"rad {self.line_no + reader.line_num} kan inte läsas som CSV: {exc}",
                    self.name,
                ) from exc
            if rec is None:
                break
            if not rec:
                buf.clear()
                continue
            k = len(rec)
            why = None
            if k > ncol:
                why = f"raden har {k} fält men rubriken {ncol}"
            elif any("\x00" in v for v in rec):
                why = "raden innehåller ett NUL-tecken (byte 0)"
            if why is not None:
                bad[len(rows)] = (why, "".join(buf).rstrip("\r\n"))
                rows.append([""] * ncol)
            else:
                rows.append(rec + [""] * (ncol - k) if k < ncol else rec)
            buf.clear()
        cols = list(zip(*rows, strict=True)) if rows else [() for _ in range(ncol)]
        data: dict[str, Any] = {}
        for name, values in zip(self.columns, cols, strict=True):
            s = pd.Series(pd.array(values, dtype=STR)).str.strip()
            data[name] = s.where(s != "", pd.NA)
        frame = pd.DataFrame(data)
        if bad:
            why_col = pd.Series(pd.NA, index=frame.index, dtype=STR)
            text_col = pd.Series(pd.NA, index=frame.index, dtype=STR)
            pos = list(bad)
            why_col.iloc[pos] = [bad[p][0] for p in pos]
            text_col.iloc[pos] = [bad[p][1] for p in pos]
            frame[BAD_ROW] = why_col
            frame[RAW_TEXT] = text_col
        return frame

    # ------------------------------------------------------------------ chunks
    def chunks(self, size: int) -> Iterator[pd.DataFrame]:
        """Frames of at most ``size`` rows (index: 0-based data row number)."""
        parts: list[pd.DataFrame] = []
        held = 0
        for block in self._blocks_iter:
            frame = self._parse(block)
            if not len(frame):
                continue
            parts.append(frame)
            held += len(frame)
            while held >= size:
                whole = _concat(parts)
                yield self._number(whole.iloc[:size])
                rest = whole.iloc[size:]
                parts = [rest] if len(rest) else []
                held = len(rest)
        if held:
            yield self._number(_concat(parts))
        elif not self.rows_read:  # a header alone: the columns still get checked
            yield pd.DataFrame({c: pd.Series(dtype=STR) for c in self.columns})

    def _number(self, frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame.index = pd.RangeIndex(self.rows_read, self.rows_read + len(frame))
        self.rows_read += len(frame)
        return frame


def _arrow_frame(table: pa.Table) -> pd.DataFrame:
    cols = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        trimmed = pc.utf8_trim_whitespace(col)
        cols[name] = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    out = pa.table(cols).to_pandas(types_mapper={pa.string(): STR}.get)
    return out


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if len(parts) == 1:
        return parts[0].reset_index(drop=True)
    cols = list(dict.fromkeys(c for p in parts for c in p.columns))
    return pd.concat([p.reset_index(drop=True) for p in parts], ignore_index=True)[cols]


__all__ = ["BAD_ROW", "RAW_TEXT", "CsvStream", "decode_lines", "record_end"]
