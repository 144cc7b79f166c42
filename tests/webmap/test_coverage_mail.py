"""Actors' weekly coverage on /lagesbild and reminder mails to missing actors (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import _smtp
from _citizen import engine, set_settings
from _smtp import BASE, SmtpServer, texts
from click.testing import CliRunner
from pypdf import PdfReader

from webmap.cli import main
from webmap.mail.sender import SmtpSettings, send_due
from webmap.weeks import week_of

ORGS = {"skolan": "Norrtäljeskolan", "bolaget": "Bostadsbolaget", "kyrkan": "Svenska kyrkan"}

#: Mail goes to a running aiosmtpd server; links point to BASE.
smtp = _smtp.smtp
app_config = _smtp.app_config


def _logged_in(app: Any, username: str, password: str, login: Any) -> Any:
    client = app.test_client()
    login(client, username, password)
    return client


def _csrf(client: Any, path: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert m
    return m.group(1)


def test_coverage_page_and_reminders_only_to_missing_actors(
    app: Any, make_user: Any, login: Any, smtp: SmtpServer
) -> None:
    env = {
        "LAGESBILD_DATABASE_URL": app.config["DATABASE_URL"],
        "LAGESBILD_BASE_URL": BASE,
    }
    runner = CliRunner()
    creds = {}
    for name, org in ORGS.items():
        creds[name] = make_user("reporter", username=name, org=org)
        res = runner.invoke(
            main,
            [
                "mail",
                "actor",
                name,
                "--kommun",
                "norrtalje",
                "--locality",
                "0188-T1",
                "--email",
                f"{name}@example.se",
            ],
            env=env,
        )
        assert res.exit_code == 0, res.output
    make_user("reporter", username="annan", org="Annan kommun", kommuner=["kungsor"])

    # the school reports, the housing company has nothing to report, the church is silent
    school = _logged_in(app, "skolan", creds["skolan"].password, login)
    now = dt.datetime.now(ZoneInfo("Europe/Stockholm")).strftime("%Y-%m-%dT%H:%M")
    sent = school.post(
        "/rapport/ny",
        data={
            "csrf_token": _csrf(school, "/rapport/ny?kommun=norrtalje"),
            "kommun": "norrtalje",
            "category": "klotter",
            "when": now,
            "lat": "59.7577",
            "lon": "18.6990",
        },
    )
    assert sent.status_code == 302
    housing = _logged_in(app, "bolaget", creds["bolaget"].password, login)
    page = housing.get("/rapport/ny?kommun=norrtalje").get_data(as_text=True)
    assert "Inget att rapportera denna vecka" in page
    pressed = housing.post(
        "/rapport/inget",
        data={"csrf_token": _csrf(housing, "/rapport/ny?kommun=norrtalje"), "kommun": "norrtalje"},
        follow_redirects=True,
    )
    assert "Noterat: inget att rapportera" in pressed.get_data(as_text=True)

    week = week_of(dt.datetime.now(dt.UTC))
    planner = make_user("planner")
    meeting = _logged_in(app, planner.username, planner.password, login)
    html = meeting.get(f"/lagesbild/{week}?kommun=norrtalje").get_data(as_text=True)
    table = html.split('id="coverage-table"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr class="state-(\w+)"><td>([^<]+)</td>', table)
    assert sorted(rows) == sorted(
        [
            ("reported", "Norrtäljeskolan"),
            ("nothing", "Bostadsbolaget"),
            ("missing", "Svenska kyrkan"),
        ]
    )
    assert "Har rapporterat" in table and "Inget att rapportera" in table and "Saknas" in table
    assert "Annan kommun" not in table and "@example.se" not in html

    # the published PDF has the same table
    published = meeting.post(
        f"/lagesbild/{week}/publicera",
        data={
            "csrf_token": _csrf(meeting, f"/lagesbild/{week}?kommun=norrtalje"),
            "kommun": "norrtalje",
            "bekrafta": "1",
        },
    )
    assert published.status_code == 302
    pdf = meeting.get(f"/lagesbild/{week}/rapport.pdf?kommun=norrtalje")
    assert pdf.status_code == 200
    pdf_text = " ".join(
        (p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf.get_data())).pages
    )
    assert "Aktörernas rapportering" in pdf_text
    for org, label in (
        ("Norrtäljeskolan", "Har rapporterat"),
        ("Bostadsbolaget", "Inget att rapportera"),
        ("Svenska kyrkan", "Saknas"),
    ):
        assert org in pdf_text and label in pdf_text

    res = runner.invoke(
        main, ["mail", "remind", "--kommun", "norrtalje", "--week", week, "--json"], env=env
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == {"week": week, "reminded": ["kyrkan"]}
    settings = SmtpSettings.from_config(app.config)
    assert settings is not None
    assert send_due(engine(app), settings).sent == 1
    assert [m["To"] for m in smtp.inbox.messages] == ["kyrkan@example.se"]
    (reminder,) = smtp.inbox.messages
    assert reminder["Subject"].startswith("Påminnelse: veckorapport vecka")
    plain, html_body = texts(reminder)
    assert "Svenska kyrkan" in plain and "Inget att rapportera denna vecka" in plain
    assert f'href="{BASE}/rapport/ny?kommun=norrtalje"' in html_body


def test_reminder_round_runs_once_at_the_tenants_time(app: Any, make_user: Any) -> None:
    from geo.store.coverage import set_actor
    from geo.store.users import user_by_name
    from geo.tenants import get_tenant
    from webmap.mail.coverage import reminder_time, send_due_reminders
    from webmap.weeks import deadline

    make_user("reporter", username="kyrkan", org="Svenska kyrkan")
    with engine(app).begin() as conn:
        user = user_by_name(conn, "kyrkan")
        assert user is not None
        set_actor(conn, int(user["id"]), "norrtalje", None, "kyrkan@example.se")
    week = "2026-W47"
    with engine(app).begin() as conn:
        assert send_due_reminders(conn, BASE, now=dt.datetime(2026, 11, 16, 12)) == {}  # no setting
    set_settings(app, reminder_weekday=0, reminder_hour=9)
    with engine(app).connect() as conn:
        tenant = get_tenant(conn, "norrtalje")
    due = reminder_time(tenant, week)
    assert due is not None and due < deadline(week)
    assert due.tz_convert("Europe/Stockholm").strftime("%a %H:%M") == "Mon 09:00"
    before = due.to_pydatetime().replace(tzinfo=None) - dt.timedelta(minutes=1)
    after = before + dt.timedelta(minutes=2)
    with engine(app).begin() as conn:
        assert send_due_reminders(conn, BASE, now=before) == {}
        assert send_due_reminders(conn, BASE, now=after) == {"norrtalje": ["kyrkan"]}
        assert send_due_reminders(conn, BASE, now=after + dt.timedelta(hours=1)) == {}


def test_reminder_time_is_set_with_the_cli(app: Any) -> None:
    from geo.tenants import get_tenant

    env = {"LAGESBILD_DATABASE_URL": app.config["DATABASE_URL"]}
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(
            main, ["mail", "reminder-time", "--kommun", "norrtalje", *args], env=env
        )

    assert run().output.strip() == "norrtalje: inga automatiska påminnelser"
    assert run("--hour", "8").exit_code == 2  # no weekday yet
    assert (
        run("--weekday", "1", "--hour", "8").output.strip()
        == "norrtalje: påminnelse tisdag kl. 08:00"
    )
    assert json.loads(run("--hour", "10", "--json").output) == {
        "kommun": "norrtalje",
        "weekday": 1,
        "hour": 10,
    }
    with engine(app).connect() as conn:
        settings = get_tenant(conn, "norrtalje").settings
    assert settings["reminder_weekday"] == 1 and settings["reminder_hour"] == 10
    assert settings["public_min_count"] == 3  # the other settings are kept
    assert run("--weekday", "9").exit_code == 2
    assert run("--off").output.strip() == "norrtalje: inga automatiska påminnelser"
