"""Test fixtures are small, documented excerpts (source and licence beside each)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: All committed fixtures together stay below this size.
MAX_BYTES = 2 * 1024 * 1024


def test_every_fixture_folder_names_source_and_licence() -> None:
    folders = [p for p in FIXTURES.iterdir() if p.is_dir() and p.name != "__pycache__"]
    assert folders
    for folder in folders:
        text = (folder / "SOURCE.md").read_text(encoding="utf-8")
        assert "## Source" in text and "## Licence" in text, folder.name


def test_fixtures_stay_small() -> None:
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    assert total <= MAX_BYTES, f"{total} bytes of fixtures"
