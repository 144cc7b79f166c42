"""Offline gazetteer: Swedish free text → place, precision and locality."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from geo._gazetteer_sources import read_sweden
from geo.boundaries import assign_points, load_boundaries
from geo.errors import ValidationError
from geo.gazetteer import PLACES_FILE, SWEDEN_FILE, Gazetteer, Place, fold

ROOT = Path(__file__).resolve().parents[2]

NORRTALJE, RIMBO, HALLSTAVIK = "0188TC109", "0188TB111", "0188TB106"


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.default()


def test_shipped_place_names_cover_every_kommun() -> None:
    # the place names ship inside the package (no data outside it is read)
    assert SWEDEN_FILE.is_relative_to(Path(__import__("geo").__file__).parent)
    table = read_sweden()
    counts = table["kind"].value_counts().to_dict()
    assert counts == {"tatort": 2017, "geonames": 1323, "kommun": 290, "postal": 134}
    kommuner = table[table["kind"] == "kommun"]
    assert kommuner["code"].str.fullmatch(r"\d{4}").all() and kommuner["code"].is_unique
    # every tätort and place belongs to one of the 290 kommuner
    assert set(table["kommun_kod"]) == set(kommuner["code"])
    assert table["lat"].dropna().between(55.0, 69.1).all()
    assert table["lon"].dropna().between(10.9, 24.2).all()
    assert SWEDEN_FILE.stat().st_size < 200_000


def test_fold_is_case_and_accent_insensitive() -> None:
    assert fold("  SÖLVESBORGS  Station. ") == "solvesborgs station"
    assert fold("Ærø-Øst") == "aero ost"
    assert fold("Gång- och cykelbron") == "gang och cykelbron"


@pytest.mark.parametrize(
    ("text", "locality"),
    [
        ("Stökigt i Rimbo i helgen", RIMBO),
        ("Rimbos ungdomar samlades", RIMBO),
        ("Krossade rutor. Hallstavik.", HALLSTAVIK),
        ("HALLSTAVIK", HALLSTAVIK),
        ("Bråk i norrtalje under natten", NORRTALJE),
        ("Norrtäljes stadskärna, bråk", NORRTALJE),
    ],
)
def test_swedish_inflections_match_the_locality(gaz: Gazetteer, text: str, locality: str) -> None:
    m = gaz.lookup(text, kommun="norrtalje")
    assert m is not None
    assert m.locality == locality
    assert m.precision == "locality"


def test_whole_words_only(gaz: Gazetteer) -> None:
    # "Rimbovägen" and "Hallstavikshem" contain names but are other words
    assert gaz.lookup("Klotter på Rimbovägen", kommun="norrtalje") is None
    assert gaz.lookup("ingen ort alls här", kommun="norrtalje") is None
    assert gaz.lookup("", kommun="norrtalje") is None
    assert gaz.lookup(None, kommun="norrtalje") is None


def test_named_place_beats_locality(gaz: Gazetteer) -> None:
    m = gaz.lookup("Ungdomar bråkade vid busstationen i Norrtälje igår", kommun="norrtalje")
    assert m is not None
    assert (m.name, m.precision, m.locality, m.source) == (
        "Busstorget",
        "point",
        NORRTALJE,
        "project",
    )
    assert m.approximate is True


def test_longest_name_wins(gaz: Gazetteer) -> None:
    # "Rimbos centrum" (area) is longer than "Rimbo"; "busstationen i Rimbo" longer than
    # the Norrtälje alias "busstationen"
    m = gaz.lookup("Nedskräpning i Rimbos centrum", kommun="norrtalje")
    assert m is not None and m.name == "Rimbo centrum" and m.precision == "locality"
    m = gaz.lookup("Glas på marken vid busstationen i Rimbo", kommun="norrtalje")
    assert m is not None and m.name == "Rimbo busstation" and m.locality == RIMBO


def test_place_contradicting_named_locality_is_ignored(gaz: Gazetteer) -> None:
    # the gazetteer knows Storgatan only in Norrtälje; the text says Hallstavik
    m = gaz.lookup("Skadegörelse på Storgatan i Hallstavik", kommun="norrtalje")
    assert m is not None
    assert (m.name, m.locality, m.precision) == ("Hallstavik", HALLSTAVIK, "locality")
    m = gaz.lookup("Skadegörelse på Storgatan", kommun="norrtalje")
    assert m is not None and m.precision == "street" and m.locality == NORRTALJE


def test_scb_beats_geonames_and_combined_names_are_split(gaz: Gazetteer) -> None:
    m = gaz.lookup("Rimbo", kommun="norrtalje")
    assert m is not None and m.source == "scb"
    assert (m.lat, m.lon) == pytest.approx((59.745940, 18.351073))
    # "Nabbo, Gräddö och Rävsnäs" is one SCB tätort: each part names it
    m = gaz.lookup("Brand i Gräddö", kommun="norrtalje")
    assert m is not None and m.locality == "0188TB108" and m.source == "scb"


def test_geonames_is_secondary_and_known_errors_are_dropped(gaz: Gazetteer) -> None:
    # Gräddö is covered by SCB; Strömma only by GeoNames
    m = gaz.lookup("Inbrott i Strömma", kommun="norrtalje")
    assert m is not None and m.source == "geonames" and m.precision == "locality"
    # GeoNames puts Nykvarn (6,032 inhabitants) in Norrtälje kommun; SCB has no such tätort
    assert gaz.lookup("Nykvarn", kommun="norrtalje") is None
    assert any("Nykvarn" in n for n in gaz.notes)


def test_postal_codes_give_locality_precision(gaz: Gazetteer) -> None:
    table = read_sweden()
    postal = table[table["kind"] == "postal"].rename(
        columns={"code": "postal_code", "name": "locality"}
    )
    code = postal[postal["locality"] == "Rimbo"]["postal_code"].iloc[0]
    for text in (f"Adress: Okändgatan 3, {code[:3]} {code[3:]}", f"postnr {code}"):
        m = gaz.lookup(text, kommun="norrtalje")
        assert m is not None, text
        assert (m.precision, m.locality, m.source) == ("locality", RIMBO, "postal")
    # a postort without a tätort of that name (Väddö) gives the kommun
    vaddo = postal[postal["locality"] == "Väddö"]["postal_code"].iloc[0]
    m = gaz.lookup(f"Box 12, {vaddo} Väddö", kommun="norrtalje")
    assert m is not None and m.precision == "kommun" and m.locality is None
    # postal codes of another kommun are not known in Norrtälje
    kungsor = postal[postal["locality"] == "Kungsör"]["postal_code"].iloc[0]
    assert gaz.lookup(f"{kungsor}", kommun="norrtalje") is None
    assert gaz.lookup(f"{kungsor}", kommun="kungsor") is not None


def test_kommun_name_gives_kommun_precision_at_centroid(gaz: Gazetteer) -> None:
    m = gaz.lookup("Trafikolycka i Norrtälje kommun", kommun="norrtalje")
    assert m is not None and m.precision == "kommun" and m.locality is None
    kommun = load_boundaries("kommun", "norrtalje").to_crs("EPSG:3006")
    centroid = kommun.geometry.centroid.to_crs("EPSG:4326").iloc[0]
    assert (m.lat, m.lon) == pytest.approx((centroid.y, centroid.x), abs=1e-6)
    # a locality in the same text is more specific
    m = gaz.lookup("Rimbo, Norrtälje kommun", kommun="norrtalje")
    assert m is not None and m.locality == RIMBO
    m = gaz.lookup("Sölvesborgs kommun", kommun="solvesborg")
    assert m is not None and m.precision == "kommun"


def test_kommun_scoping_and_aliases(gaz: Gazetteer) -> None:
    # Kungsör is not a place in Norrtälje kommun
    assert gaz.lookup("Kungsörs torg", kommun="norrtalje") is None
    for key in ("kungsor", "1960", "Kungsör"):
        m = gaz.lookup("Kungsörs torg", kommun=key)
        assert m is not None and m.name == "Kungsörs torg" and m.kommun == "kungsor"
    m = gaz.lookup("Kungsörs torg")  # every loaded kommun
    assert m is not None and m.kommun == "kungsor"


def test_lookup_many_matches_lookup(gaz: Gazetteer) -> None:
    texts = [
        "busstationen",
        None,
        "Rimbo",
        "ingenting",
        "Norrtälje kommun",
        "Södra Bergen, sent på kvällen",
    ]
    frame = gaz.lookup_many(texts, kommun="norrtalje")
    assert list(frame.columns[:5]) == ["lat", "lon", "precision", "locality", "matched"]
    assert len(frame) == len(texts)
    assert frame["precision"].tolist() == ["point", None, "locality", None, "kommun", "point"]
    assert frame["locality"].tolist() == [NORRTALJE, None, RIMBO, None, None, NORRTALJE]
    assert frame["matched"].tolist()[5] == "Södra Bergen"
    assert math.isnan(frame["lat"][1]) and math.isnan(frame["lat"][3])
    for i, text in enumerate(texts):
        m = gaz.lookup(text, kommun="norrtalje")
        if m is None:
            assert frame["precision"][i] is None
        else:
            assert (frame["lat"][i], frame["lon"][i]) == (m.lat, m.lon)


def test_project_places_are_approximate_and_inside_their_locality() -> None:
    places = pd.read_csv(PLACES_FILE, dtype=str, keep_default_na=False)
    assert set(places["approximate"]) == {"true"}
    assert places["note"].str.contains("UNGEFÄRLIG").all()
    assert {"Busstorget", "Södra Bergen", "Societetsparken", "Rimbo centrum"} <= set(places["name"])
    assert {"Hallstaviks centrum", "Kungsörs torg", "Sölvesborgs station"} <= set(places["name"])
    loc = load_boundaries("locality")
    got = assign_points(places["lat"].astype(float), places["lon"].astype(float), loc)
    assert list(got) == places["locality"].tolist()
    readme = ROOT / "data" / "gazetteer" / "README.md"
    assert "APPROXIMATE" in readme.read_text(encoding="utf-8")


def test_localities_fall_in_their_shipped_polygon(gaz: Gazetteer) -> None:
    m = gaz.lookup("i Hallstavik", kommun="norrtalje")
    assert m is not None and m.locality == HALLSTAVIK and m.precision == "locality"
    loc = load_boundaries("locality", "norrtalje")
    assert assign_points([m.lat], [m.lon], loc)[0] == HALLSTAVIK
    assert gaz.lookup("Busstorget", kommun="norrtalje") is not None
    assert gaz.lookup("Norrtälje kommun", kommun="norrtalje") is not None


def test_other_swedish_kommun_from_scb(gaz: Gazetteer) -> None:
    other = Gazetteer.default(["0180", "kiruna"])  # Stockholm by SCB code, Kiruna by key
    m = other.lookup("Bråk i Stockholm", kommun="stockholm")
    assert m is not None and m.precision == "locality" and m.kommun == "stockholm"
    m = other.lookup("Skadegörelse i Kiruna kommun", kommun="kiruna")
    assert m is not None and m.kommun == "kiruna" and m.lat > 67
    assert other.lookup("Rimbo") is None


def test_invalid_entries_are_rejected() -> None:
    with pytest.raises(ValidationError, match="unknown precision"):
        Gazetteer([Place("X", "k", 59.0, 18.0, "exact", "project")])
    with pytest.raises(ValidationError, match="no position"):
        Gazetteer([Place("X", "k", float("nan"), 18.0, "point", "project")])


def test_small_custom_gazetteer_prefers_precision_then_source() -> None:
    gaz = Gazetteer(
        [
            Place("Ort", "k", 59.0, 18.0, "locality", "geonames", locality="L1"),
            Place("Ort", "k", 59.1, 18.1, "locality", "scb", locality="L1"),
            Place("Torget", "k", 59.2, 18.2, "point", "project", locality="L1"),
        ]
    )
    m = gaz.lookup("Ort")
    assert m is not None and m.source == "scb"
    m = gaz.lookup("Ort, vid Torget")
    assert m is not None and m.name == "Torget"


def test_map_labels_name_the_localities_and_the_known_places() -> None:
    from geo.gazetteer import map_labels

    labels = map_labels("norrtalje")
    assert list(labels.columns) == ["name", "lat", "lon", "kind"]
    tatorter = set(labels.loc[labels["kind"] == "tatort", "name"])
    assert {"Norrtälje", "Rimbo", "Hallstavik"} <= tatorter
    platser = set(labels.loc[labels["kind"] == "plats", "name"])
    assert "Busstorget" in platser and "Norrtälje centrum" not in platser  # areas are no point
    assert labels["lat"].between(59.5, 60.3).all() and labels["lon"].between(18.0, 19.3).all()
    assert not labels.duplicated(["name", "kind"]).any()
