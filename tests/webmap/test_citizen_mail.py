"""Mail to citizens: confirmation, then the moderation outcome, read from a real SMTP server."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import _smtp
import pytest
from _citizen import api_report, engine, form_data, report_by_receipt
from _smtp import BASE, SmtpServer, texts
from click.testing import CliRunner
from sqlalchemy import func, select, text

from geo.store.mail import messages
from geo.store.tables import citizen_contact
from webmap.cli import main
from webmap.mail.citizen import FOLLOW_UP_DAYS
from webmap.mail.sender import SmtpSettings, send_due

ADDRESS = "medborgare@example.se"

#: Mail goes to a running aiosmtpd server; links point to BASE.
smtp = _smtp.smtp
app_config = _smtp.app_config


@pytest.fixture
def planner(client: Any, make_user: Any, login: Any) -> Any:
    creds = make_user("planner")
    login(client, creds.username, creds.password)
    return creds


def _deliver(app: Any) -> int:
    settings = SmtpSettings.from_config(app.config)
    assert settings is not None
    return send_due(engine(app), settings).sent


def _contacts(app: Any) -> int:
    with engine(app).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(citizen_contact)).scalar_one())


def _csrf(client: Any) -> str:
    html = client.get("/moderering").get_data(as_text=True)
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m
    return m.group(1)


def _confirm_link(plain: str) -> str:
    m = re.search(re.escape(BASE) + r"(/rapportera/bekrafta/\S+)", plain)
    assert m, plain
    return m.group(1)


def test_api_report_gets_confirmation_then_rejection_with_reason(
    app: Any, client: Any, smtp: SmtpServer, planner: Any
) -> None:
    resp = api_report(client, description="Trasig lampa", email=ADDRESS)
    assert resp.status_code == 201
    receipt = resp.get_json()["receipt"]
    assert ADDRESS not in resp.get_data(as_text=True)
    assert _deliver(app) == 1
    (confirm,) = smtp.inbox.to(ADDRESS)
    assert receipt in confirm["Subject"] and "Bekräfta" in confirm["Subject"]
    plain, html = texts(confirm)
    assert f"{BASE}/rapportera/kvitto/{receipt}" in plain
    assert f'href="{BASE}/rapportera/kvitto/{receipt}"' in html
    page = client.get(_confirm_link(plain), follow_redirects=True)
    assert page.status_code == 200 and "e-postadress är bekräftad" in page.get_data(as_text=True)

    queue = client.get("/moderering").get_data(as_text=True)
    assert receipt in queue and ADDRESS not in queue  # never shown to planners
    rid = int(report_by_receipt(app, receipt).report_id)
    client.post(
        f"/moderering/{rid}",
        data={"action": "reject", "reason": "Gäller inte kommunen", "csrf_token": _csrf(client)},
    )
    assert _contacts(app) == 0  # erased once the last mail was queued
    assert _deliver(app) == 1
    (_, rejected) = smtp.inbox.to(ADDRESS)
    assert "avvisats" in rejected["Subject"]
    plain, _html = texts(rejected)
    assert "Skäl: Gäller inte kommunen" in plain
    with engine(app).connect() as conn:
        sent = messages(conn)
    assert [m["status"] for m in sent] == ["sent", "sent"]
    assert all(ADDRESS not in (m["recipient"] + m["body_text"]) for m in sent)
    assert client.get(_confirm_link(texts(confirm)[0])).status_code == 404


def test_form_report_unconfirmed_gets_no_decision_mail_confirmed_gets_approval(
    app: Any, client: Any, smtp: SmtpServer, planner: Any
) -> None:
    form = client.get("/rapportera").get_data(as_text=True)
    assert 'name="email"' in form
    bad = client.post("/rapportera", data=form_data(client, email="inte en adress"))
    assert bad.status_code == 400 and "E-postadressen ser inte giltig ut" in bad.get_data(
        as_text=True
    )
    receipts = []
    for who in ("tyst@example.se", ADDRESS):
        resp = client.post("/rapportera", data=form_data(client, email=who))
        assert resp.status_code == 303
        receipts.append(resp.headers["Location"].split("/kvitto/")[1].split("?")[0])
    assert _deliver(app) == 2
    (mine,) = smtp.inbox.to(ADDRESS)
    client.get(_confirm_link(texts(mine)[0]))
    for receipt in receipts:
        rid = int(report_by_receipt(app, receipt).report_id)
        client.post(f"/moderering/{rid}", data={"action": "approve", "csrf_token": _csrf(client)})
    assert _contacts(app) == 1  # the confirmed one is kept for mails about actions
    assert _deliver(app) == 1
    assert len(smtp.inbox.to("tyst@example.se")) == 1  # only the confirmation request
    (_, approved) = smtp.inbox.to(ADDRESS)
    assert approved["Subject"] == f"Din rapport {receipts[1]} har godkänts"
    assert "godkänts" in texts(approved)[0]
    assert "åtgärd i området" in texts(approved)[0]


def test_retention_erases_a_followed_address_when_its_follow_up_time_is_over(
    app: Any, client: Any, smtp: SmtpServer, planner: Any
) -> None:
    receipt = api_report(client, email=ADDRESS).get_json()["receipt"]
    assert _deliver(app) == 1
    client.get(_confirm_link(texts(smtp.inbox.to(ADDRESS)[0])[0]))
    rid = int(report_by_receipt(app, receipt).report_id)
    client.post(f"/moderering/{rid}", data={"action": "approve", "csrf_token": _csrf(client)})
    env = {"LAGESBILD_DATABASE_URL": app.config["DATABASE_URL"]}
    run = ["retention", "run", "--json"]
    result = CliRunner().invoke(main, run, env=env)
    assert json.loads(result.output)["addresses_erased"] == 0 and _contacts(app) == 1
    when = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=FOLLOW_UP_DAYS + 1)
    with engine(app).begin() as conn:
        conn.execute(
            text("update citizen_report set moderated_at = :w where report_id = :i"),
            {"w": when, "i": rid},
        )
    result = CliRunner().invoke(main, run, env=env)
    assert json.loads(result.output)["addresses_erased"] == 1 and _contacts(app) == 0


def test_a_bad_address_in_the_api_is_a_swedish_400(client: Any) -> None:
    resp = api_report(client, email="x@")
    assert resp.status_code == 400
    assert resp.get_json()["errors"][0]["field"] == "email"
    assert "e-postadressen" in resp.get_json()["errors"][0]["message"]


def test_retention_erases_addresses_of_open_reports(app: Any, client: Any) -> None:
    receipt = api_report(client, description="Gammal", email=ADDRESS).get_json()["receipt"]
    api_report(client, description="Ny", email="ny@example.se")
    when = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=200)
    rid = int(report_by_receipt(app, receipt).report_id)
    with engine(app).begin() as conn:
        conn.execute(
            text("update report set reported_at = :w, created_at = :w where id = :i"),
            {"w": when, "i": rid},
        )
    env = {"LAGESBILD_DATABASE_URL": app.config["DATABASE_URL"]}
    result = CliRunner().invoke(main, ["retention", "run", "--days", "180"], env=env)
    assert result.exit_code == 0, result.output
    with engine(app).connect() as conn:
        left = conn.execute(select(citizen_contact.c.email)).scalars().all()
    assert left == ["ny@example.se"]


def test_mail_off_stores_no_address(tmp_path: Any) -> None:
    from webmap.app import create_app
    from webmap.config import TestConfig, load_config

    cfg = load_config(
        TestConfig,
        env={},
        DATABASE_URL=f"sqlite:///{tmp_path / 'off.db'}",
        INSTANCE_DIR=str(tmp_path / "instance"),
    )
    off = create_app(cfg)
    client = off.test_client()
    assert 'name="email"' not in client.get("/rapportera").get_data(as_text=True)
    assert api_report(client, email=ADDRESS).status_code == 201
    with engine(off).connect() as conn:
        assert messages(conn) == []
        assert conn.execute(select(func.count()).select_from(citizen_contact)).scalar_one() == 0
    engine(off).dispose()


def test_the_openapi_document_shows_the_email_field(client: Any) -> None:
    doc = client.get("/api/openapi.json").get_json()
    schema = doc["components"]["schemas"]["ReportInput"]["properties"]["email"]
    assert "email" in str(schema) and "erased" in str(schema)
