"""Reading report files into raw tables of strings.

Every reader returns a :class:`RawTable`: a :class:`pandas.DataFrame` whose cells are the
file's values as strings (``<NA>`` for empty cells) plus what was detected (format,
encoding, delimiter). Interpretation (types, time zones, coordinates) happens later in
:mod:`geo.ingest`, so a quarantined row can always be kept exactly as it was read.

Supported inputs (gzip-compressed or not, detected from the content):

* CSV: delimiter sniffed among ``;`` ``,`` tab and ``|``; encoding UTF-8, UTF-8 with BOM,
  UTF-16 with BOM, Windows-1252 (Swedish Excel exports), otherwise detected with
  :mod:`charset_normalizer` (see :func:`decode_text`).
* Excel ``.xlsx`` (first sheet, via openpyxl).
* GeoJSON in any CRS: points become ``lat``/``lon`` columns in EPSG:4326; features without
  geometry get empty ``lat``/``lon``; other geometry types are flagged in ``_geometry``.
* Polisen events: the archive CSV (``id, published, name, type, location_name, …``) and
  the API's JSON list (``id, datetime, name, summary, url, type, location{name, gps}``),
  both as the archive's columns (see :mod:`geo.polisen`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo._bounded import ZIP_MAGIC, BoundedInput, ReadLimits, check_zip
from geo._csv_stream import CsvStream
from geo._staging import strings
from geo.errors import ValidationError

#: Formats understood by :func:`read_table`.
FORMATS = ("csv", "xlsx", "geojson", "polisen", "polisen-json")

#: Columns of the Polisen events archive CSV (the API JSON is flattened to these).
POLISEN_COLUMNS = (
    "id",
    "published",
    "name",
    "type",
    "location_name",
    "location_gps",
    "summary",
    "summary_updated",
    "url",
    "body_text",
)

DELIMITERS = ";,\t|"
#: Bytes read to recognise the format and the delimiter.
HEAD_BYTES = 65536


@dataclass
class RawTable:
    """A file read as strings."""

    frame: pd.DataFrame
    format: str
    encoding: str | None = None
    delimiter: str | None = None


def read_bytes(path: str | Path, limits: ReadLimits | None = None) -> bytes:
    """The file's bytes, gunzipped when the content is gzip-compressed (bounded)."""
    with BoundedInput(path, limits or ReadLimits()) as inp:
        return inp.read_all()


def _decodes(data: bytes, encoding: str) -> bool:
    """Whether ``data`` is valid in ``encoding`` (checked in chunks, no full copy)."""
    import codecs

    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for start in range(0, len(data), 1 << 20):
            decoder.decode(data[start : start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(data: bytes) -> str:
    """The text encoding of ``data``.

    UTF-8 (with or without BOM) and UTF-16 with BOM first; then Windows-1252, what Excel on
    Windows writes for Swedish text (it decodes every byte except five unused ones); only
    when that fails is :mod:`charset_normalizer` asked (short samples fool it, so it is
    the last resort), and Latin-1 as the fallback that always works.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    if data[:3] == b"\xef\xbb\xbf":
        return "utf-8-sig"
    if _decodes(data, "utf-8"):
        return "utf-8"
    if _decodes(data, "cp1252"):
        return "cp1252"
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is not None:
        try:
            if _decodes(data, best.encoding):
                return str(best.encoding)
        except LookupError:
            pass
    return "latin-1"


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode ``data`` with :func:`detect_encoding`; return ``(text, encoding)``."""
    encoding = detect_encoding(data)
    return data.decode(encoding), encoding


def sniff_delimiter(text: str) -> str:
    """The field delimiter of CSV ``text`` (``;``, ``,``, tab or ``|``)."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    sample = "\n".join(lines)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
        if dialect.delimiter in DELIMITERS:
            return dialect.delimiter
    except csv.Error:
        pass
    header = lines[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_xlsx_bytes(data: bytes) -> pd.DataFrame:
    """The first sheet of an Excel workbook as strings (fully empty rows dropped)."""
    frame = pd.read_excel(io.BytesIO(data), engine="openpyxl", dtype=object, sheet_name=0)
    frame = frame.dropna(how="all")
    frame.columns = [str(c).strip() for c in frame.columns]
    for col in frame.columns:
        values = frame[col]
        # integral floats (Excel stores every number as float) -> "2020", not "2020.0"
        num = pd.to_numeric(values, errors="coerce")
        integral = num.notna() & (num == num.round()) & values.map(lambda v: isinstance(v, float))
        if integral.any():
            values = values.where(~integral, num[integral].astype("int64").astype(str))
        frame[col] = values
    return _as_strings(frame.reset_index(drop=True))


def read_geojson_bytes(data: bytes, crs: str | None = None) -> pd.DataFrame:
    """GeoJSON features as strings with ``lat``/``lon`` (EPSG:4326) from point geometries.

    ``crs`` declares the CRS of the coordinates (GeoJSON without ``crs`` is WGS 84);
    projected coordinates without it are an error suggesting ``--crs``.
    """
    import geopandas as gpd
    import shapely

    from geo.boundaries import projected_hint

    gdf = gpd.read_file(io.BytesIO(data))
    if crs is not None:
        gdf = gdf.set_crs(crs, allow_override=True)
    elif gdf.crs is None or gdf.crs.is_geographic:
        bounds = gdf.geometry.bounds
        hint = projected_hint(bounds["minx"].to_numpy(), bounds["miny"].to_numpy())
        if hint:
            raise ValidationError(hint)
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    elif not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    geoms = gdf.geometry.to_numpy()
    props = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    props = _as_strings(props)
    types = shapely.get_type_id(geoms)  # -1 for missing, 0 for Point
    is_point = (types == 0) & ~shapely.is_empty(geoms)
    lat = pd.Series(pd.NA, index=props.index, dtype="string")
    lon = pd.Series(pd.NA, index=props.index, dtype="string")
    if is_point.any():
        lat[is_point] = pd.Series(shapely.get_y(geoms[is_point])).astype(str).to_numpy()
        lon[is_point] = pd.Series(shapely.get_x(geoms[is_point])).astype(str).to_numpy()
    props["lat"] = lat.astype(object).where(lat.notna(), None)
    props["lon"] = lon.astype(object).where(lon.notna(), None)
    other = (types > 0) & ~shapely.is_empty(geoms)
    if other.any():
        names = shapely.get_type_id(geoms)
        labels = pd.Series(names).map(
            {
                1: "LineString",
                2: "LinearRing",
                3: "Polygon",
                4: "MultiPoint",
                5: "MultiLineString",
                6: "MultiPolygon",
                7: "GeometryCollection",
            }
        )
        props["_geometry"] = labels.where(other, None).to_numpy()
    return _as_strings(props)


def read_polisen_json_bytes(data: bytes, encoding: str = "utf-8") -> pd.DataFrame:
    """The Polisen events API answer (a JSON list) as the archive's columns."""
    try:
        items = json.loads(data.decode(encoding))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"not valid JSON: {exc}") from exc
    if isinstance(items, dict):
        items = items.get("events", items.get("data", [items]))
    if not isinstance(items, list):
        raise ValidationError("expected a JSON list of events")
    frame = pd.json_normalize(items, sep="_") if items else pd.DataFrame()
    frame = frame.rename(columns={"datetime": "published"})
    for col in POLISEN_COLUMNS:
        if col not in frame.columns:
            frame[col] = None
    return _as_strings(frame[list(POLISEN_COLUMNS)])


def detect_format(path: str | Path, data: bytes) -> str:
    """Guess the format of ``data`` (read from ``path``) from its content and name."""
    name = Path(path).name.lower().removesuffix(".gz")
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data[:4] == ZIP_MAGIC or name.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if head[:1] in (b"{", b"["):
        if head[:1] == b"[" or b'"datetime"' in head and b'"location"' in head:
            return "polisen-json"
        return "geojson"
    if name.endswith((".geojson", ".json")):
        return "geojson"
    text, _enc = decode_text(data[:65536])
    first = text.splitlines()[0] if text else ""
    delim = sniff_delimiter(text)
    header = [h.strip().strip('"').lower() for h in first.split(delim)]
    if {"id", "published", "name", "type", "location_name"} <= set(header):
        return "polisen"
    return "csv"


@dataclass
class TableStream:
    """A report file opened for reading in chunks (see :func:`open_table`)."""

    format: str
    delimiter: str | None = None
    csv: CsvStream | None = None
    frame: pd.DataFrame | None = None
    inp: BoundedInput | None = None
    fixed_encoding: str | None = None
    closed: bool = field(default=False, repr=False)

    @property
    def encoding(self) -> str | None:
        """Encoding of the rows read so far (CSV: per row, see :mod:`geo._csv_stream`)."""
        return self.csv.encoding if self.csv is not None else self.fixed_encoding

    @property
    def position(self) -> int:
        """Bytes of the file read so far."""
        return self.inp.packed_position if self.inp is not None else 0

    def chunks(self, size: int) -> Iterator[pd.DataFrame]:
        """Frames of strings of at most ``size`` rows, indexed by data row (0-based)."""
        size = max(1, int(size))
        if self.csv is not None:
            yield from self.csv.chunks(size)
            return
        assert self.frame is not None
        for start in range(0, len(self.frame), size):
            yield self.frame.iloc[start : start + size]

    def close(self) -> None:
        """Close the file."""
        if self.inp is not None:
            self.inp.close()
        self.closed = True

    def __enter__(self) -> TableStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_table(
    path: str | Path,
    format: str = "auto",
    limits: ReadLimits | None = None,
    crs: str | None = None,
) -> TableStream:
    """Open a report file for reading in chunks, within ``limits``.

    CSV (and Polisen's archive CSV) is read row by row; xlsx, GeoJSON and the Polisen
    JSON are read whole, refused when they unpack past ``limits``. ``crs`` is the CRS of
    a GeoJSON file's coordinates when the file declares none.
    """
    path = Path(path)
    limits = limits or ReadLimits()
    if not path.exists():
        raise ValidationError(f"filen finns inte: {path}")
    if format not in ("auto", *FORMATS):
        raise ValidationError(f"okänt format {format!r}; välj auto eller {', '.join(FORMATS)}")
    with BoundedInput(path, limits) as inp:
        head = inp.read(HEAD_BYTES)
    fmt = detect_format(path, head) if format == "auto" else format
    try:
        if fmt in ("csv", "polisen"):
            text, _enc = decode_text(head)
            delim = sniff_delimiter(text)
            inp = BoundedInput(path, limits)
            try:
                stream = CsvStream(inp, delim, limits)
            except BaseException:
                inp.close()
                raise
            return TableStream(fmt, delim, csv=stream, inp=inp)
        data = read_bytes(path, limits)
        if fmt == "xlsx":
            check_zip(data, limits, path.name)
            return TableStream(fmt, frame=read_xlsx_bytes(data))
        if fmt == "geojson":
            return TableStream(fmt, frame=read_geojson_bytes(data, crs))
        text, enc = decode_text(data)
        del data
        frame = read_polisen_json_bytes(text.encode("utf-8"))
        return TableStream(fmt, frame=frame, fixed_encoding=enc)
    except ValidationError:
        raise
    except Exception as exc:  # parser errors of openpyxl/pyogrio/json
        why = str(exc) or type(exc).__name__
        raise ValidationError(f"kan inte läsa filen som {fmt}: {why}", context=path.name) from exc


def read_table(
    path: str | Path, format: str = "auto", limits: ReadLimits | None = None
) -> RawTable:
    """Read a report file as strings, whole (see :func:`open_table` for large files).

    Parameters
    ----------
    path
        CSV, ``.xlsx``, GeoJSON or Polisen events (CSV or JSON), optionally gzip-compressed.
    format
        One of :data:`FORMATS` or ``"auto"`` (detect from content and file name).
    limits
        Limits on unpacked size and row length (default :class:`ReadLimits`).
    """
    with open_table(path, format, limits) as table:
        parts = list(table.chunks(1 << 20))
        frame = pd.concat(parts) if len(parts) > 1 else parts[0] if parts else pd.DataFrame()
        if table.csv is not None and not parts:
            frame = pd.DataFrame({c: pd.Series(dtype="string[pyarrow]") for c in table.csv.columns})
        return RawTable(frame, table.format, table.encoding, table.delimiter)


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as a stripped string (dtype :data:`geo._staging.STR`) or ``<NA>``."""
    out = {str(col): strings(frame[col].reset_index(drop=True)) for col in frame.columns}
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


__all__ = [
    "FORMATS",
    "POLISEN_COLUMNS",
    "RawTable",
    "ReadLimits",
    "TableStream",
    "decode_text",
    "detect_encoding",
    "detect_format",
    "open_table",
    "read_bytes",
    "read_geojson_bytes",
    "read_polisen_json_bytes",
    "read_table",
    "read_xlsx_bytes",
    "sniff_delimiter",
]
