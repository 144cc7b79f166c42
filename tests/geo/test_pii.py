"""Personal-data flags in free text (geo.pii)."""

from __future__ import annotations

import pytest

from geo.pii import FIRST_NAMES, classify_personal_number, detect, flags, luhn_ok, redact


def _reference_luhn(number: str) -> bool:
    """Independent Luhn: double every second digit from the right via a lookup."""
    doubled = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9]
    digits = [int(c) for c in number][::-1]
    total = sum(d if i % 2 == 0 else doubled[d] for i, d in enumerate(digits))
    return total % 10 == 0


@pytest.mark.parametrize(
    "number", ["8112189876", "1212121212", "7010632391", "4607137454", "0001010107"]
)
def test_luhn_matches_reference(number: str) -> None:
    assert luhn_ok(number) == _reference_luhn(number)
    last = int(number[-1])
    wrong = number[:-1] + str((last + 1) % 10)
    assert not luhn_ok(wrong)
    assert luhn_ok(wrong) == _reference_luhn(wrong)


@pytest.mark.parametrize(
    "text",
    ["811218-9876", "19811218-9876", "8112189876", "811218+9876", "121212-1212"],
)
def test_valid_personnummer_is_flagged(text: str) -> None:
    assert classify_personal_number(text) == "personnummer"
    assert flags(f"Han har personnummer {text} tror jag") == ["personnummer"]


@pytest.mark.parametrize("text", ["811218-9875", "19811218-9870", "121212-1213", "811318-9876"])
def test_invalid_personnummer_is_not_flagged(text: str) -> None:
    # wrong check digit (or month 13): not a personnummer, and nothing else either
    assert classify_personal_number(text) is None
    assert flags(f"Numret {text} stod på lappen") == []


def test_samordningsnummer_with_checksum() -> None:
    assert classify_personal_number("701063-2391") == "samordningsnummer"
    assert classify_personal_number("701063-2392") is None
    assert flags("nr 701063-2391") == ["samordningsnummer"]


@pytest.mark.parametrize(
    "text",
    [
        "070-123 45 67",
        "0701234567",
        "08-123 456 78",
        "+46 70 123 45 67",
        "+46701234567",
        "0046 8 123 456",
        "0176-123 45",
        "073 - 123 45 67",
    ],
)
def test_swedish_phone_numbers(text: str) -> None:
    found = detect(f"Ring {text} om något händer")
    assert [f.kind for f in found] == ["phone"]
    f = found[0]
    assert f"Ring {text} om något händer"[f.start : f.end].strip() == text


@pytest.mark.parametrize(
    "text", ["kl 22-23", "2024-05-01", "år 2023", "0188", "buss 676", "12 34 56 78"]
)
def test_numbers_that_are_not_phones(text: str) -> None:
    assert flags(f"Det hände {text} vid torget") == []


def test_email() -> None:
    text = "Skriv till anna.svensson@exempel.se eller ring"
    found = detect(text)
    assert [f.kind for f in found] == ["email"]
    assert text[found[0].start : found[0].end] == "anna.svensson@exempel.se"


@pytest.mark.parametrize("plate", ["ABC 123", "ABC 12A", "XYZ123", "abc123", "MLB 45C"])
def test_licence_plates(plate: str) -> None:
    assert flags(f"En bil med {plate} körde fort") == ["plate"]


@pytest.mark.parametrize("text", ["IQV 123", "och 123 personer", "ABCD 1234", "AB 123"])
def test_not_plates(text: str) -> None:
    assert "plate" not in flags(text)


@pytest.mark.parametrize(
    "text",
    [
        "Jag såg Anna Svensson vid kiosken",
        "Lars-Erik Nilsson bråkade",
        "Det var Kalle Berg igen",
        "Grannen Bertil Karlsson klottrar",  # not listed, surname-like second word
    ],
)
def test_names_are_flagged(text: str) -> None:
    assert flags(text) == ["name"]


@pytest.mark.parametrize(
    "text",
    [
        "Vid Stora Torget är det mörkt",
        "Norrtälje Centrum efter kl 22",
        "Anna var där",  # a first name alone is no name pair
        "Gå Till Busstationen",
    ],
)
def test_place_names_are_not_names(text: str) -> None:
    assert flags(text) == []


def test_first_name_list_is_substantial() -> None:
    assert len(FIRST_NAMES) >= 150
    assert {"Anna", "Lars", "Mohammed", "Åsa"} <= FIRST_NAMES


def test_redact_replaces_every_finding_and_keeps_the_rest() -> None:
    text = "Anna Svensson (811218-9876) ringde 070-123 45 67 om ABC 123"
    out = redact(text)
    assert out == "[namn] ([personnummer]) ringde [telefonnummer] om [registreringsnummer]"
    assert redact("Inget personligt här") == "Inget personligt här"
    assert detect(None) == [] and detect("") == []


def test_adjacent_numbers_are_separate_findings() -> None:
    text = "ring 0701234567 0701234568 nu"
    found = detect(text)
    assert [text[f.start : f.end] for f in found] == ["0701234567", "0701234568"]
