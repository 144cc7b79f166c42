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
import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

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
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class RawTable:
    """A file read as strings."""

    frame: pd.DataFrame
    format: str
    encoding: str | None = None
    delimiter: str | None = None


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes, gunzipped when the content is gzip-compressed."""
    data = Path(path).read_bytes()
    if data[:2] == GZIP_MAGIC:
        data = gzip.decompress(data)
    return data


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


def read_csv_bytes(data: bytes, encoding: str | None = None) -> tuple[pd.DataFrame, str, str]:
    """Parse CSV bytes as strings; return ``(frame, encoding, delimiter)``.

    Uses pyarrow's multi-threaded reader straight into Arrow strings (a fraction of the
    memory of Python string objects, and the file is never held as one Python string);
    pandas' parser is the fallback for files pyarrow refuses (ragged rows).
    """
    enc = encoding or detect_encoding(data)
    head = data[:65536].decode(enc, errors="ignore")
    delim = sniff_delimiter(head)
    frame = _read_csv_arrow(data, enc, head, delim)
    if frame is not None:
        return frame, enc, delim
    frame, delim = read_csv_text(data.decode(enc), delim)
    return frame, enc, delim


def read_csv_text(text: str, delimiter: str | None = None) -> tuple[pd.DataFrame, str]:
    """Parse CSV text as strings with pandas; return ``(frame, delimiter)``."""
    delim = delimiter or sniff_delimiter(text)
    frame = pd.read_csv(
        io.StringIO(text),
        sep=delim,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        skip_blank_lines=True,
    )
    frame.columns = [str(c).strip() for c in frame.columns]
    return _as_strings(frame), delim


def _read_csv_arrow(data: bytes, enc: str, head: str, delim: str) -> pd.DataFrame | None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    first = next(csv.reader(io.StringIO(head.lstrip("\ufeff")), delimiter=delim), [])
    names = [str(c).strip() for c in first]
    if not names or len(set(names)) != len(names) or any(not n for n in names):
        return None
    buf = pa.py_buffer(data)
    arrow_enc = "utf8"
    if enc == "utf-8-sig":
        buf = buf[3:]
    elif enc != "utf-8":
        arrow_enc = enc  # pyarrow transcodes chunk by chunk with Python's codec
    try:
        table = pacsv.read_csv(
            pa.BufferReader(buf),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, encoding=arrow_enc),
            parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    return _as_strings(frame)


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


def read_geojson_bytes(data: bytes) -> pd.DataFrame:
    """GeoJSON features as strings with ``lat``/``lon`` (EPSG:4326) from point geometries."""
    import geopandas as gpd
    import shapely

    gdf = gpd.read_file(io.BytesIO(data))
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


def read_table(path: str | Path, format: str = "auto") -> RawTable:
    """Read a report file as strings.

    Parameters
    ----------
    path
        CSV, ``.xlsx``, GeoJSON or Polisen events (CSV or JSON), optionally gzip-compressed.
    format
        One of :data:`FORMATS` or ``"auto"`` (detect from content and file name).
    """
    path = Path(path)
    if not path.exists():
        raise ValidationError(f"filen finns inte: {path}")
    if format not in ("auto", *FORMATS):
        raise ValidationError(f"okänt format {format!r}; välj auto eller {', '.join(FORMATS)}")
    data = read_bytes(path)
    fmt = detect_format(path, data) if format == "auto" else format
    try:
        if fmt == "xlsx":
            return RawTable(read_xlsx_bytes(data), fmt)
        if fmt == "geojson":
            return RawTable(read_geojson_bytes(data), fmt)
        if fmt == "polisen-json":
            text, enc = decode_text(data)
            return RawTable(read_polisen_json_bytes(text.encode("utf-8")), fmt, enc)
        frame, enc, delim = read_csv_bytes(data)
    except ValidationError:
        raise
    except Exception as exc:  # parser errors of pandas/openpyxl/pyogrio
        raise ValidationError(f"kan inte läsa filen som {fmt}: {exc}", context=path.name) from exc
    return RawTable(frame, fmt, enc, delim)


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as a stripped string (dtype :data:`geo._staging.STR`) or ``<NA>``."""
    out = {str(col): strings(frame[col].reset_index(drop=True)) for col in frame.columns}
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


__all__ = [
    "FORMATS",
    "POLISEN_COLUMNS",
    "RawTable",
    "decode_text",
    "detect_encoding",
    "detect_format",
    "read_bytes",
    "read_csv_bytes",
    "read_csv_text",
    "read_geojson_bytes",
    "read_polisen_json_bytes",
    "read_table",
    "read_xlsx_bytes",
    "sniff_delimiter",
]
