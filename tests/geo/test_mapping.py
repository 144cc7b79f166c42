"""TOML column mappings: validation (all problems at once) and application."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geo.errors import MappingError, ValidationError
from geo.mapping import Mapping, assemble_time_parts, map_categories, stage_native

ROOT = Path(__file__).resolve().parents[2]
VANCOUVER_TOML = ROOT / "geo" / "data" / "mappings" / "vancouver.toml"
VPD_COLUMNS = [
    "TYPE", "YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "HUNDRED_BLOCK", "NEIGHBOURHOOD", "X", "Y",
]  # fmt: skip


def _vpd_rows() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ["Break and Enter Commercial", "2020", "6", "19", "3", "40", "10XX ALBERNI ST",
             "West End", "491059.4824", "5459122.4178"],
            ["Offence Against a Person", "2020", "7", "27", "0", "0", "OFFSET TO PROTECT PRIVACY",
             "West End", "0.0", "0.0"],
            ["Vehicle Collision or Pedestrian Struck (with Fatality)", "2020", "1", "2", "17", "5",
             "KNIGHT ST / E KING EDWARD AVE", None, "494000.1", "5454000.2"],
            ["Theft of Bicycle", "2020", "13", "1", "0", "0", "1XX MAIN ST", "Strathcona",
             "492000", "5458000"],
            ["Shoplifting", "2020", "2", "2", "2", "2", "1XX MAIN ST", "Strathcona", "1", "1"],
        ],
        columns=VPD_COLUMNS,
    )  # fmt: skip


def test_vancouver_mapping_validates_against_the_real_header() -> None:
    mapping = Mapping.from_file(VANCOUVER_TOML)
    mapping.validate(VPD_COLUMNS)
    assert mapping.crs == "EPSG:32610"
    assert mapping.text is not None and "Theft from Vehicle" in mapping.text


def test_vancouver_mapping_applies() -> None:
    staged = Mapping.from_file(VANCOUVER_TOML).apply(_vpd_rows())
    f = staged.frame
    assert staged.crs == "EPSG:32610"
    assert staged.timezone == "America/Vancouver"
    assert staged.geocode is False and staged.zero_is_missing is True
    assert list(f["category"]) == ["inbrott_stold", "vald_hot", "trafik", "inbrott_stold", None]
    assert f.loc[4, "_category_problem"] == "värdet TYPE=Shoplifting saknas i mappningen"
    assert pd.isna(f.loc[0, "_category_problem"])
    assert f.loc[0, "occurred_at"] == "2020-06-19 03:40:00"
    assert f.loc[3, "occurred_at"] == "2020-13-01 00:00:00"  # visible, parsed as bad later
    assert f.loc[0, "location_text"] == "10XX ALBERNI ST, West End"
    assert f.loc[1, "location_text"] == "West End"  # the privacy marker is ignored
    assert f.loc[2, "location_text"] == "KNIGHT ST / E KING EDWARD AVE"
    assert set(f["source"]) == {"police"}
    assert f.loc[0, "x"] == "491059.4824"


def test_all_problems_are_reported_at_once() -> None:
    text = """
[colums]
x = 1

[constants]
source = "polis"
colour = "red"

[columns]
description = "TEXT"
occurred = "DATE"

[category]
column = "KIND"
[category.values]
"Theft" = "stold"

[occurred_at]
year = "YEAR"
timezone = "Europe/Stockholmm"

[position]
x = "EAST"
y = "Y"
crs = "EPSG:999999"
"""
    mapping = Mapping.from_text(text, name="bad.toml")
    with pytest.raises(MappingError) as info:
        mapping.validate(VPD_COLUMNS)
    problems = "\n".join(info.value.problems)
    assert info.value.context == "bad.toml"
    for needle in [
        "'polis' är ingen känd källa",
        "okänt målfält 'colour'",
        "okänt målfält 'occurred'",
        "kolumnen 'TEXT' finns inte",
        "kolumnen 'KIND' finns inte",
        "kolumnen 'EAST' finns inte",
        "okänd kategorikod 'stold'",
        "okänd tidszon 'Europe/Stockholmm'",
        "okänt koordinatsystem",
        "saknas: month, day",
        "okänd sektion [colums]",
    ]:
        assert needle in problems, needle
    assert len(info.value.problems) == 12  # also: DATE is not a column
    # applying a broken mapping refuses with the structural problems
    with pytest.raises(MappingError, match="okänd sektion"):
        mapping.apply(pd.DataFrame({"YEAR": ["2020"]}))


def test_syntax_error_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="ogiltig TOML"):
        Mapping.from_text("[category\ncolumn = 1")
    with pytest.raises(MappingError, match="finns inte"):
        Mapping.from_file(tmp_path / "nope.toml")


def test_conflicting_definitions_are_problems() -> None:
    text = """
[columns]
category = "TYPE"
[category]
column = "TYPE"
[occurred_at]
column = "DATE"
year = "YEAR"
[position]
x = "X"
lat = "LAT"
"""
    with pytest.raises(MappingError) as info:
        Mapping.from_text(text).validate(["TYPE", "DATE", "YEAR", "X", "LAT"])
    problems = "\n".join(info.value.problems)
    assert "'category' definieras både" in problems
    assert "antingen column eller delar" in problems
    assert "antingen x/y eller lat/lon" in problems


def test_category_patterns_and_default() -> None:
    values = pd.Series(["Break and Enter Residential/Other", "mischief", None, "Arson"])
    table = {"Break and Enter*": "inbrott_stold", "Mischief": "skadegorelse"}
    codes, problem = map_categories(values, table)
    assert list(codes) == ["inbrott_stold", "skadegorelse", None, None]
    assert problem.iloc[3] is not None and problem.iloc[2] is None
    codes, problem = map_categories(values, table, default="annat")
    assert list(codes) == ["inbrott_stold", "skadegorelse", "annat", "annat"]
    assert problem.isna().all()


def test_time_parts_with_excel_floats() -> None:
    frame = pd.DataFrame(
        {"Y": ["2024", "2024"], "M": ["3.0", None], "D": ["5", "1"], "H": ["7", "x"]}
    )
    out = assemble_time_parts(frame, {"year": "Y", "month": "M", "day": "D", "hour": "H"})
    assert out.iloc[0] == "2024-03-05 07:00:00"
    assert out.iloc[1] == "2024-0?-01 0x:00:00"  # unparseable on purpose


def test_native_columns_need_a_crs_for_xy() -> None:
    frame = pd.DataFrame({"Occurred_At": ["2024-05-01"], "X": ["1"], "Y": ["2"]})
    with pytest.raises(ValidationError, match="--crs"):
        stage_native(frame)
    staged = stage_native(frame, crs="EPSG:3006")
    assert staged.crs == "EPSG:3006"
    assert list(staged.frame.columns) == ["occurred_at", "x", "y"]
    ll = stage_native(pd.DataFrame({"latitude": ["59.7"], "lng": ["18.7"]}), crs="EPSG:3006")
    assert ll.crs == "EPSG:4326"
    assert ll.frame.loc[0, "x"] == "18.7" and ll.frame.loc[0, "y"] == "59.7"
    with pytest.raises(ValidationError, match="okänt koordinatsystem"):
        stage_native(frame, crs="EPSG:0")
