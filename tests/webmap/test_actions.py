"""Actions: validation, demo loading (idempotent) and follow-ups."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from geo.errors import ValidationError
from webmap.planner.actions import (
    add_followup,
    create_action,
    get_action,
    list_actions,
    load_demo_actions,
)
from webmap.state import EXTENSION_KEY

DEMO = [
    {
        "external_key": "demo:ombyggnad-busstationen",
        "title": "Ombyggnad av busstationen",
        "kind": "ombyggnad",
        "status": "pågår",
        "responsible": "Norrtälje kommun",
        "planned_start": "2026-03-01",
        "planned_end": "2027-06-30",
        "locality": "0188TC109",
        "place": "Busstorget",
        "lat": 59.7577,
        "lon": 18.6990,
        "cells": ["89088664c8bffff"],
        "followups": [{"date": "2026-11-11", "note": "Arbetet pågår enligt plan"}],
    }
]


def test_validation_collects_every_problem(app: Any) -> None:
    with (
        app.extensions[EXTENSION_KEY].engine.begin() as conn,
        pytest.raises(ValidationError) as info,
    ):
        create_action(
            conn,
            "norrtalje",
            {
                "title": "",
                "kind": "raket",
                "status": "klar",
                "planned_start": "2026-05-01",
                "planned_end": "2026-04-01",
            },
        )
    text = str(info.value)
    assert "titel saknas" in text and "okänd typ" in text and "okänd status" in text
    assert "slutdatum" in text and "plats" in text


def test_demo_actions_load_idempotently(app: Any) -> None:
    engine = app.extensions[EXTENSION_KEY].engine
    with engine.begin() as conn:
        assert load_demo_actions(conn, DEMO, kommun="norrtalje") == 1
        assert load_demo_actions(conn, DEMO, kommun="norrtalje") == 1
        rows = list_actions(conn, "norrtalje")
    assert [r["title"] for r in rows] == ["Ombyggnad av busstationen"]
    assert rows[0]["status_sv"] == "Pågår" and rows[0]["last_followup"]["note"]


def test_demo_action_is_shown_on_the_map_layer(
    app: Any, client: Any, make_user: Any, login: Any
) -> None:
    with app.extensions[EXTENSION_KEY].engine.begin() as conn:
        load_demo_actions(conn, DEMO, kommun="norrtalje")
    creds = make_user("reader")
    login(client, creds.username, creds.password)
    fc = client.get("/api/karta/norrtalje/atgarder").get_json()
    titles = [f["properties"]["title"] for f in fc["features"]]
    assert titles == ["Ombyggnad av busstationen"]
    assert fc["features"][0]["properties"]["icon"] == "◐"


def test_followup_sets_status(app: Any) -> None:
    engine = app.extensions[EXTENSION_KEY].engine
    with engine.begin() as conn:
        aid = create_action(
            conn, "norrtalje", {"title": "Belysning", "kind": "belysning", "locality": "0188TC109"}
        )
        add_followup(conn, aid, dt.date(2026, 11, 18), "Klar", status="genomförd", author="x")
        action = get_action(conn, aid)
    assert action["status"] == "genomförd"
    assert action["followups"][0]["note"] == "Klar"


def test_demo_reload_keeps_followups_written_at_meetings(app: Any) -> None:
    engine = app.extensions[EXTENSION_KEY].engine
    with engine.begin() as conn:
        load_demo_actions(conn, DEMO, kommun="norrtalje")
        aid = list_actions(conn, "norrtalje")[0]["id"]
        add_followup(conn, aid, dt.date(2026, 11, 18), "Mötet: skyltar saknas", author="anna")
        load_demo_actions(conn, DEMO, kommun="norrtalje")
        notes = [f["note"] for f in get_action(conn, aid)["followups"]]
    assert notes == ["Mötet: skyltar saknas", "Arbetet pågår enligt plan"]


def test_too_long_short_fields_are_refused_in_swedish(app: Any) -> None:
    engine = app.extensions[EXTENSION_KEY].engine
    with pytest.raises(ValidationError) as err, engine.begin() as conn:
        create_action(
            conn,
            "norrtalje",
            {"title": "Belysning", "locality": "0188TC109", "responsible": "x" * 201},
        )
    assert "ansvarig får vara högst 200 tecken" in str(err.value)


def test_unknown_or_huge_action_ids_are_not_found(
    app: Any, client: Any, make_user: Any, login: Any
) -> None:
    creds = make_user("planner")
    login(client, creds.username, creds.password)
    for aid in (0, 123, 2**63, 10**30):
        assert client.get(f"/atgarder/{aid}").status_code == 404
        assert client.get(f"/atgarder/{aid}/andra").status_code == 404


def test_edit_form_keeps_a_zone_not_in_this_weeks_analysis(
    app: Any, client: Any, make_user: Any, login: Any
) -> None:
    with app.extensions[EXTENSION_KEY].engine.begin() as conn:
        aid = create_action(
            conn,
            "norrtalje",
            {"title": "Belysning", "locality": "0188TC109", "zone_id": "Z-gammal"},
        )
    creds = make_user("planner")
    login(client, creds.username, creds.password)
    html = client.get(f"/atgarder/{aid}/andra").get_data(as_text=True)
    # the browser posts the selected option: the zone must be there and selected
    assert '<option value="Z-gammal" selected>' in html
