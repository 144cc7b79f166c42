"""The action list marks overdue actions and offers filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from webmap.planner.actions import create_action
from webmap.state import EXTENSION_KEY


def test_overdue_actions_are_marked(app: Any, client: Any, make_user: Any, login: Any) -> None:
    with app.extensions[EXTENSION_KEY].engine.begin() as conn:
        for title, status, end in (
            ("Sen belysning", "pågår", "2020-01-31"),
            ("Klar städning", "genomförd", "2020-01-31"),
            # a year ahead: in the future, within the accepted planning range
            ("Kommande vandring", "planerad", str(dt.date.today() + dt.timedelta(days=365))),
        ):
            create_action(
                conn,
                "norrtalje",
                {
                    "title": title,
                    "kind": "annat",
                    "status": status,
                    "locality": "0188TC109",
                    "planned_start": "2019-12-01",
                    "planned_end": end,
                },
            )
    planner = make_user("planner")
    login(client, planner.username, planner.password)
    html = client.get("/atgarder?kommun=norrtalje").get_data(as_text=True)
    rows = html.split("<tr data-status=")[1:]
    marked = {r.split("</a>")[0].rsplit(">", 1)[1]: 'data-overdue="1"' in r for r in rows}
    assert marked == {"Sen belysning": True, "Klar städning": False, "Kommande vandring": False}
    assert "Bara försenade" in html and "(1)" in html
    assert html.count(">försenad<") == 1
