"""Column mappings (TOML) that translate foreign report files to the report schema.

A mapping names, for each schema field, where its value comes from. Every section is
optional; a file needs enough of them to give each row a time, a category and a position
(the kommun and source may also come from the command line).

.. code-block:: toml

    [mapping]                      # free-form description
    name = "Vancouver Police Department, crime data"

    [constants]                    # field = fixed value
    source = "police"
    reporter_org = "Vancouver Police Department"

    [columns]                      # field = column of the file (a rename)
    external_id = "ID"
    description = "TEXT"

    [location_text]                # joined from several columns, empty parts skipped
    columns = ["HUNDRED_BLOCK", "NEIGHBOURHOOD"]
    separator = ", "
    ignore = ["OFFSET TO PROTECT PRIVACY"]   # values treated as empty

    [category]
    column = "TYPE"
    default = "annat"              # without a default, unmapped values are quarantined
    [category.values]              # value in the file -> category code; * and ? are wildcards,
    "Mischief" = "skadegorelse"    # matching ignores case; exact keys win over patterns
    "Break and Enter*" = "inbrott_stold"

    [occurred_at]                  # from parts ...
    year = "YEAR"                  # (hour, minute, second default to 0)
    month = "MONTH"
    day = "DAY"
    hour = "HOUR"
    minute = "MINUTE"
    timezone = "America/Vancouver" # for values without an offset (default: the tenant's)
    # ... or from one column:  column = "DATE"  format = "%d/%m/%Y %H:%M"

    [reported_at]                  # same shape as [occurred_at], optional

    [position]
    x = "X"                        # or lat = "LAT", lon = "LON" (EPSG:4326)
    y = "Y"
    crs = "EPSG:32610"
    zero_is_missing = true         # x = y = 0 means "no position" (default true)
    geocode = false                # never geocode location_text (default true)

:meth:`Mapping.validate` checks the mapping against a file's columns and collects every
problem (unknown sections, keys, target fields, columns, CRS, time zone, category codes)
into one :class:`~geo.errors.MappingError`.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo._staging import STR, Staged, strings, to_float
from geo._validate import Problems
from geo.errors import MappingError
from geo.schema import CATEGORY_CODES, REPORT_COLUMNS, Source

#: Schema fields a mapping may fill from a column or a constant: the report columns but
#: ``lat``/``lon`` (section ``[position]``) and those an import sets itself.
TARGET_FIELDS = tuple(
    c for c in REPORT_COLUMNS if c not in ("id", "lat", "lon", "locality", "cell", "status")
)

#: Keys of a time section (``occurred_at``, ``reported_at``).
_TIME_KEYS = {"column", "format", "timezone", "year", "month", "day", "hour", "minute", "second"}

SECTIONS = {
    "mapping": None,  # free-form
    "constants": None,
    "columns": None,
    "location_text": {"columns", "separator", "ignore"},
    "category": {"column", "default", "values"},
    "occurred_at": _TIME_KEYS,
    "reported_at": _TIME_KEYS,
    "position": {"x", "y", "lat", "lon", "crs", "zero_is_missing", "geocode"},
}
TIME_PARTS = ("year", "month", "day", "hour", "minute", "second")
PARTS_FORMAT = "%Y-%m-%d %H:%M:%S"


#: Mappings shipped in the package; ``--mapping vancouver`` names one of them.
SHIPPED_MAPPINGS = Path(__file__).resolve().parent / "data" / "mappings"


@dataclass
class Mapping:
    """A parsed column mapping; see the module documentation for the TOML layout."""

    spec: dict[str, Any] = field(default_factory=dict)
    name: str = "mapping"
    text: str | None = None  # the TOML source, kept for resumable imports and retries

    @classmethod
    def from_file(cls, path: str | Path) -> Mapping:
        """Read a TOML mapping (syntax errors raise :class:`~geo.errors.MappingError`)."""
        path = Path(path)
        shipped = SHIPPED_MAPPINGS / f"{path.stem}.toml"
        if not path.exists() and len(path.parts) == 1 and shipped.exists():
            path = shipped  # a bare name (``--mapping vancouver``): a shipped mapping
        if not path.exists():
            raise MappingError(f"mappningsfilen finns inte: {path}")
        return cls.from_text(path.read_text(encoding="utf-8"), name=path.name)

    @classmethod
    def from_text(cls, text: str, name: str = "mapping") -> Mapping:
        """Parse TOML text (only syntax errors raise here; see :meth:`validate`)."""
        try:
            spec = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise MappingError(f"ogiltig TOML: {exc}", context=name) from exc
        return cls(spec=spec, name=name, text=text)

    # ------------------------------------------------------------------ validation
    def _section(self, name: str) -> dict[str, Any]:
        value = self.spec.get(name) or {}
        return value if isinstance(value, dict) else {}

    def _structure_problems(self, problems: Problems) -> None:
        for section, value in self.spec.items():
            if section not in SECTIONS:
                problems.add(f"okänd sektion [{section}]; kända: {', '.join(SECTIONS)}")
                continue
            if not isinstance(value, dict):
                problems.add(f"[{section}] måste vara en tabell")
                continue
            allowed = SECTIONS[section]
            if allowed is not None:
                for key in value:
                    if key not in allowed:
                        known = ", ".join(sorted(allowed))
                        problems.add(f"[{section}]: okänd nyckel {key!r}; kända: {known}")
        defined: dict[str, str] = {}
        for section in ("columns", "constants"):
            for target, value in self._section(section).items():
                if target not in TARGET_FIELDS:
                    problems.add(
                        f"[{section}]: okänt målfält {target!r}; kända: {', '.join(TARGET_FIELDS)}"
                    )
                    continue
                if target in defined:
                    problems.add(
                        f"fältet {target!r} definieras både i {defined[target]} och [{section}]"
                    )
                defined[target] = f"[{section}]"
                if section == "columns" and not isinstance(value, str):
                    problems.add(f"[columns].{target} måste vara ett kolumnnamn (text)")
        for section in ("location_text", "category", "occurred_at", "reported_at"):
            if section in self.spec and section in defined:
                problems.add(
                    f"fältet {section!r} definieras både i {defined[section]} och [{section}]"
                )
        for section in ("occurred_at", "reported_at"):
            spec = self._section(section)
            if not spec:
                continue
            parts = [p for p in TIME_PARTS if p in spec]
            if "column" in spec and parts:
                problems.add(
                    f"[{section}]: ange antingen column eller delar ({', '.join(parts)}), inte båda"
                )
            elif "column" not in spec:
                missing = [p for p in ("year", "month", "day") if p not in spec]
                if missing:
                    problems.add(
                        f"[{section}]: column eller year/month/day krävs "
                        f"(saknas: {', '.join(missing)})"
                    )
            if "format" in spec and "column" not in spec:
                problems.add(f"[{section}]: format gäller bara tillsammans med column")
            tz = spec.get("timezone")
            if tz is not None:
                try:
                    zoneinfo.ZoneInfo(str(tz))
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    problems.add(f"[{section}]: okänd tidszon {tz!r}")
        pos = self._section("position")
        if pos:
            has_xy = "x" in pos or "y" in pos
            has_ll = "lat" in pos or "lon" in pos
            if has_xy and has_ll:
                problems.add("[position]: ange antingen x/y eller lat/lon, inte båda")
            if has_xy and not ("x" in pos and "y" in pos):
                problems.add("[position]: både x och y krävs")
            if has_ll and not ("lat" in pos and "lon" in pos):
                problems.add("[position]: både lat och lon krävs")
            if has_xy and "crs" not in pos:
                problems.add('[position]: crs krävs för x/y (t.ex. "EPSG:3006")')
            if "crs" in pos:
                try:
                    CRS.from_user_input(pos["crs"])
                except CRSError:
                    problems.add(f"[position]: okänt koordinatsystem crs = {pos['crs']!r}")
        cat = self._section("category")
        if cat and "column" not in cat and "default" not in cat:
            problems.add("[category]: column krävs")
        values = cat.get("values", {})
        if not isinstance(values, dict):
            problems.add("[category].values måste vara en tabell värde = kod")
        src = self._section("constants").get("source")
        if src is not None and str(src) not in {s.value for s in Source}:
            known = ", ".join(s.value for s in Source)
            problems.add(f"[constants].source = {src!r} är ingen känd källa ({known})")
        lt = self._section("location_text")
        if lt and not isinstance(lt.get("columns"), list):
            problems.add("[location_text].columns måste vara en lista av kolumnnamn")

    def check_structure(self) -> None:
        """Raise :class:`MappingError` listing every structural problem."""
        problems = Problems(self.name, error=MappingError)
        self._structure_problems(problems)
        problems.raise_if_any()

    def source_columns(self) -> list[tuple[str, str]]:
        """``(where, column)`` for every file column the mapping reads."""
        out: list[tuple[str, str]] = []
        for target, col in self._section("columns").items():
            out.append((f"[columns].{target}", str(col)))
        for col in self._section("location_text").get("columns", []) or []:
            out.append(("[location_text].columns", str(col)))
        cat = self._section("category")
        if "column" in cat:
            out.append(("[category].column", str(cat["column"])))
        for section in ("occurred_at", "reported_at"):
            spec = self._section(section)
            for key in ("column", *TIME_PARTS):
                if key in spec:
                    out.append((f"[{section}].{key}", str(spec[key])))
        for key in ("x", "y", "lat", "lon"):
            if key in self._section("position"):
                out.append((f"[position].{key}", str(self._section("position")[key])))
        return out

    def validate(self, columns: Iterable[str], categories: Iterable[str] | None = None) -> None:
        """Check the mapping against a file's ``columns``; raise one :class:`MappingError`.

        Parameters
        ----------
        columns
            Column names of the file.
        categories
            Category codes the target tenant knows (default: :data:`CATEGORY_CODES`).
        """
        problems = Problems(self.name, error=MappingError)
        self._structure_problems(problems)
        cols = [str(c) for c in columns]
        known = set(cols)
        for where, col in self.source_columns():
            if col not in known:
                problems.add(f"{where}: kolumnen {col!r} finns inte i filen; kolumner: {cols}")
        codes = set(categories) if categories is not None else set(CATEGORY_CODES)
        cat = self._section("category")
        values = cat.get("values", {}) if isinstance(cat.get("values", {}), dict) else {}
        for value, code in values.items():
            if str(code) not in codes:
                problems.add(f"[category].values: {value!r} -> okänd kategorikod {code!r}")
        if "default" in cat and str(cat["default"]) not in codes:
            problems.add(f"[category].default: okänd kategorikod {cat['default']!r}")
        const_cat = self._section("constants").get("category")
        if const_cat is not None and str(const_cat) not in codes:
            problems.add(f"[constants].category: okänd kategorikod {const_cat!r}")
        problems.raise_if_any()

    # ------------------------------------------------------------------ application
    @property
    def crs(self) -> str:
        pos = self._section("position")
        return str(pos.get("crs", "EPSG:4326"))

    def defines(self, target: str) -> bool:
        """Whether the mapping gives a value for schema field ``target``."""
        if target in self._section("columns") or target in self._section("constants"):
            return True
        if target in ("location_text", "category", "occurred_at", "reported_at"):
            return bool(self._section(target))
        if target == "position":
            return bool(self._section("position"))
        return False

    def apply(self, frame: pd.DataFrame) -> Staged:
        """Translate a raw frame (strings) into a :class:`Staged` frame.

        Call :meth:`validate` first for a complete report of problems; this only refuses a
        structurally broken mapping.
        """
        self.check_structure()
        out = pd.DataFrame(index=frame.index)
        time_formats: dict[str, str] = {}
        timezone: str | None = None
        for target, value in self._section("constants").items():
            out[target] = str(value)
        for target, col in self._section("columns").items():
            out[target] = strings(frame[col])
        lt = self._section("location_text")
        if lt:
            out["location_text"] = _join_columns(
                frame, lt.get("columns", []), str(lt.get("separator", ", ")), lt.get("ignore", [])
            )
        cat = self._section("category")
        if cat:
            codes, problem = map_categories(
                strings(frame[cat["column"]])
                if "column" in cat
                else pd.Series(None, index=frame.index, dtype=object),
                cat.get("values", {}),
                cat.get("default"),
                column=str(cat.get("column", "")),
            )
            out["category"] = codes
            out["_category_problem"] = problem
        for section in ("occurred_at", "reported_at"):
            spec = self._section(section)
            if not spec:
                continue
            if "column" in spec:
                out[section] = strings(frame[spec["column"]])
                if "format" in spec:
                    time_formats[section] = str(spec["format"])
            else:
                out[section] = assemble_time_parts(frame, spec)
                time_formats[section] = PARTS_FORMAT
            # naive times are local in the occurred_at zone (reported_at's if only it has one)
            if spec.get("timezone") and (section == "occurred_at" or timezone is None):
                timezone = str(spec["timezone"])
        pos = self._section("position")
        if "x" in pos:
            out["x"], out["y"] = strings(frame[pos["x"]]), strings(frame[pos["y"]])
        elif "lat" in pos:
            out["x"], out["y"] = strings(frame[pos["lon"]]), strings(frame[pos["lat"]])
        return Staged(
            out,
            crs=self.crs,
            timezone=timezone,
            time_formats=time_formats,
            zero_is_missing=bool(pos.get("zero_is_missing", True)),
            geocode=bool(pos.get("geocode", True)),
            kind="mapping",
        )


def _join_columns(
    frame: pd.DataFrame, columns: Sequence[str], sep: str, ignore: Sequence[str]
) -> pd.Series:
    ignored = {str(v).casefold() for v in ignore}
    out: pd.Series | None = None
    for col in columns:
        part = strings(frame[col])
        if ignored:
            part = part.where(~part.astype(STR).str.casefold().isin(ignored).fillna(False), None)
        if out is None:
            out = part
            continue
        both = out.notna() & part.notna()
        joined = out.astype(STR) + sep + part.astype(STR)
        out = joined.astype(object).where(both, out.where(out.notna(), part))
    if out is None:
        return pd.Series(None, index=frame.index, dtype=object)
    return out.astype(object).where(out.notna(), None)


def map_categories(
    values: pd.Series,
    table: dict[str, str],
    default: str | None = None,
    column: str = "",
) -> tuple[pd.Series, pd.Series]:
    """Map foreign category values to codes.

    Exact keys (case-insensitive) win; then keys with ``*``/``?`` wildcards in file order.
    Returns ``(codes, problems)``: ``codes`` None where nothing matched and there is no
    default; ``problems`` a Swedish explanation for those rows (None elsewhere).
    """
    folded = values.astype(STR).str.casefold()
    exact = {str(k).casefold(): str(v) for k, v in table.items() if not _is_pattern(str(k))}
    codes = folded.map(exact).astype(object)
    for key, code in table.items():
        if not _is_pattern(str(key)):
            continue
        regex = re.compile(fnmatch.translate(str(key).casefold()))
        todo = codes.isna() & folded.notna()
        if not todo.any():
            break
        matching = {v for v in folded[todo].unique() if regex.match(str(v))}
        codes[todo & folded.isin(matching)] = str(code)
    unmapped = codes.isna() & values.notna()
    if default is not None:
        codes = codes.where(codes.notna(), str(default))
        unmapped[:] = False
    codes = codes.astype(object).where(codes.notna(), None)
    label = f"{column}=" if column else ""
    problem = ("värdet " + label + values.astype(STR) + " saknas i mappningen").astype(object)
    problem = problem.where(unmapped, None)
    return codes, problem


def _is_pattern(key: str) -> bool:
    return any(ch in key for ch in "*?[")


def assemble_time_parts(frame: pd.DataFrame, spec: dict[str, Any]) -> pd.Series:
    """``"YYYY-MM-DD HH:MM:SS"`` from part columns (unparseable parts stay visible)."""
    pieces: dict[str, pd.Series] = {}
    present = pd.Series(False, index=frame.index)
    for part in TIME_PARTS:
        if part not in spec:
            pieces[part] = pd.Series("0", index=frame.index, dtype="string")
            continue
        raw = strings(frame[spec[part]])
        present |= raw.notna()
        num = to_float(raw)
        integral = num.notna() & (num == num.round())
        text = raw.astype(STR).where(~integral, num.round().astype("Int64").astype(STR))
        pieces[part] = text.fillna("?" if part in ("year", "month", "day") else "0")
    width = {"year": 4, "month": 2, "day": 2, "hour": 2, "minute": 2, "second": 2}
    p = {k: v.astype(STR).str.pad(width[k], side="left", fillchar="0") for k, v in pieces.items()}
    out = (
        p["year"]
        + "-"
        + p["month"]
        + "-"
        + p["day"]
        + " "
        + p["hour"]
        + ":"
        + p["minute"]
        + ":"
        + p["second"]
    )
    return out.astype(object).where(present, None)


#: Schema fields recognised in a file without a mapping (lower-case header -> field).
NATIVE_ALIASES = {
    **{f: f for f in TARGET_FIELDS},
    "locality": "locality",
    "lat": "lat",
    "latitude": "lat",
    "lon": "lon",
    "lng": "lon",
    "longitude": "lon",
    "x": "x",
    "y": "y",
    "_geometry": "_geometry",
}


def stage_native(frame: pd.DataFrame, crs: str | None = None) -> Staged:
    """Stage a file whose columns already carry schema names (case-insensitive).

    Coordinates are ``lat``/``lon`` (EPSG:4326) or ``x``/``y`` in ``crs``. Raises
    :class:`~geo.errors.ValidationError` when ``x``/``y`` come without a CRS or the CRS is
    unknown.
    """
    problems = Problems("kolumner")
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        target = NATIVE_ALIASES.get(str(col).strip().lower())
        if target and target not in out.columns:
            out[target] = strings(frame[col])
    has_xy = "x" in out.columns and "y" in out.columns
    has_ll = "lat" in out.columns and "lon" in out.columns
    if has_xy and not has_ll:
        if crs is None:
            problems.add("kolumnerna x/y kräver --crs (t.ex. EPSG:3006)")
        use_crs = crs or "EPSG:4326"
    else:
        if has_ll:
            out["x"], out["y"] = out.pop("lon"), out.pop("lat")
        use_crs = "EPSG:4326" if has_ll or crs is None else crs
    if crs is not None:
        try:
            CRS.from_user_input(crs)
        except CRSError:
            problems.add(f"okänt koordinatsystem {crs!r}")
    problems.raise_if_any()
    return Staged(out, crs=use_crs, kind="native")


__all__ = [
    "NATIVE_ALIASES",
    "TARGET_FIELDS",
    "Mapping",
    "assemble_time_parts",
    "map_categories",
    "stage_native",
]
