"""Notes about optional data that is not installed: only ``serve`` shows them, once, short."""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner

from webmap.cli import _NOTES, main

NOTE = "GeoNames-orter saknas (/någon/lång/sökväg/geonames_cities500.csv)"


def _emit_twice() -> None:
    log = logging.getLogger("geo.gazetteer")
    log.warning("gazetteer: %s", NOTE)
    log.warning("gazetteer: %s", NOTE)


def test_missing_data_notes_only_from_serve_once_and_short(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="geo.gazetteer")
    _NOTES.seen.clear()  # a note shown earlier in this process would count as seen
    assert CliRunner().invoke(main, ["db", "--help"]).exit_code == 0
    _emit_twice()
    assert caplog.messages == []
    assert CliRunner().invoke(main, ["serve", "--help"]).exit_code == 0
    _emit_twice()
    assert caplog.messages == ["GeoNames-orter saknas (valfritt; inbyggda ortnamn används)"]
    logging.getLogger("geo.gazetteer").info("gazetteer: %s", "annan upplysning")
    assert caplog.messages[-1] == "gazetteer: annan upplysning"
