"""Actions of the synthetic demo (made by the web app from the planted truth)."""

from __future__ import annotations

import datetime as dt

from analysis.demo import generate
from geo.store.tables import ACTION_KINDS, ACTION_STATUSES
from webmap.cli.demo_actions import demo_actions


def test_demo_actions_sit_at_the_planted_places() -> None:
    demo = generate()
    actions = demo_actions(demo)
    by_title = {a["title"]: a for a in actions}
    rebuild = by_title["Ombyggnad av busstationen"]
    assert rebuild["kind"] == "ombyggnad" and rebuild["status"] in ("pågår", "planerad")
    assert rebuild["responsible"] == "Norrtälje kommun, samhällsbyggnadskontoret"
    assert rebuild["planned_end"].startswith("2027") and rebuild["place"] == "Busstorget"
    assert rebuild["cells"][0] == demo.truth["hotspots"][0]["centre_cell"]["9"]
    assert "Ny belysning Södra Bergen" in by_title
    assert "Kameraövervakning Hallstaviks centrum" in by_title
    assert all(a["synthetic"] is True and a["public"] is True for a in actions)
    for a in actions:
        assert a["kind"] in ACTION_KINDS and a["status"] in ACTION_STATUSES
        assert a["kommun"] == "norrtalje" and a["external_key"].startswith("demo:")
        assert dt.date.fromisoformat(a["planned_start"]) <= dt.date.fromisoformat(a["planned_end"])
