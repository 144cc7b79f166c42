"""Mail to citizens when a public action is planned or completed in the area of their
report: once per action event, only to confirmed addresses of approved reports, read
from a real SMTP server."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from typing import Any

import _smtp
from _citizen import INSIDE, api_report, engine, report_by_receipt
from _smtp import BASE, SmtpServer, texts
from sqlalchemy import update

from geo.store.tables import citizen_report
from webmap.mail.citizen import FOLLOW_UP_DAYS
from webmap.mail.sender import SmtpSettings, send_due

#: Mail goes to a running aiosmtpd server; links point to BASE.
smtp = _smtp.smtp
app_config = _smtp.app_config

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
#: About 1.1 km north of INSIDE: outside the area of an action at INSIDE.
FAR = (INSIDE[0] + 0.01, INSIDE[1])
#: About 110 m east of INSIDE: inside the area.
NEAR = (INSIDE[0], INSIDE[1] + 0.002)


def _deliver(app: Any) -> int:
    settings = SmtpSettings.from_config(app.config)
    assert settings is not None
    return send_due(engine(app), settings).sent


def _token(client: Any, path: str) -> str:
    m = _CSRF.search(client.get(path).get_data(as_text=True))
    assert m
    return m.group(1)


def _report(client: Any, email: str, at: tuple[float, float]) -> str:
    resp = api_report(client, email=email, lat=at[0], lon=at[1])
    assert resp.status_code == 201
    return str(resp.get_json()["receipt"])


def _confirm_all(client: Any, smtp: SmtpServer, address: str) -> None:
    for msg in smtp.inbox.to(address):
        m = re.search(re.escape(BASE) + r"(/rapportera/bekrafta/\S+)", texts(msg)[0])
        assert m
        assert client.get(m.group(1)).status_code == 303


def _decide(app: Any, client: Any, receipt: str, action: str) -> None:
    rid = int(report_by_receipt(app, receipt).report_id)
    client.post(
        f"/moderering/{rid}", data={"action": action, "csrf_token": _token(client, "/moderering")}
    )


def _action(client: Any, public: bool = True, **fields: str) -> int:
    data = {
        "title": "Ny belysning vid busstorget",
        "kind": "belysning",
        "status": "planerad",
        "planned_start": dt.date.today().isoformat(),
        "lat": str(INSIDE[0]),
        "lon": str(INSIDE[1]),
        **fields,
        "csrf_token": _token(client, "/atgarder/ny"),
    }
    if public:
        data["public"] = "1"
    resp = client.post("/atgarder/ny?kommun=norrtalje", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return int(resp.headers["Location"].rstrip("/").split("/")[-1])


def _followup(client: Any, action_id: int, status: str) -> None:
    resp = client.post(
        f"/atgarder/{action_id}/uppfoljning",
        data={
            "meeting_date": dt.date.today().isoformat(),
            "note": "Klart",
            "status": status,
            "csrf_token": _token(client, f"/atgarder/{action_id}"),
        },
    )
    assert resp.status_code == 302


def _about_actions(smtp: SmtpServer, address: str) -> list[EmailMessage]:
    return [m for m in smtp.inbox.to(address) if "En åtgärd" in str(m["Subject"])]


def test_citizens_in_the_area_get_one_mail_per_action_event(
    app: Any, client: Any, make_user: Any, login: Any, smtp: SmtpServer
) -> None:
    mine = [_report(client, "anna@example.se", INSIDE), _report(client, "anna@example.se", NEAR)]
    far = _report(client, "bo@example.se", FAR)
    unconfirmed = _report(client, "tyst@example.se", INSIDE)
    rejected = _report(client, "nej@example.se", INSIDE)
    pending = _report(client, "vantar@example.se", INSIDE)
    old = _report(client, "gammal@example.se", INSIDE)
    assert _deliver(app) == 7
    followed = ("anna@example.se", "bo@example.se", "nej@example.se", "vantar@example.se")
    for address in (*followed, "gammal@example.se"):
        _confirm_all(client, smtp, address)
    planner = make_user("planner")
    login(client, planner.username, planner.password)
    for receipt in (*mine, far, unconfirmed, old):
        _decide(app, client, receipt, "approve")
    _decide(app, client, rejected, "reject")
    assert _deliver(app) == 5  # approved ×4 (confirmed), rejected ×1
    # approved longer ago than the follow-up time (retention has not run yet)
    when = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=FOLLOW_UP_DAYS + 1)
    with engine(app).begin() as conn:
        conn.execute(
            update(citizen_report).where(citizen_report.c.receipt == old).values(moderated_at=when)
        )

    internal = _action(client, public=False, title="Intern insats")
    action_id = _action(client)
    assert _deliver(app) == 1
    (planned,) = _about_actions(smtp, "anna@example.se")
    assert planned["Subject"] == (
        "En åtgärd är planerad där du rapporterade: Ny belysning vid busstorget"
    )
    plain, html = texts(planned)
    assert "Kommunen har planerat en åtgärd i området" in plain
    assert all(nr in plain for nr in mine)  # one mail for both reports of the address
    assert f'href="{BASE}/rapportera/kvitto/{mine[0]}"' in html
    assert "Intern insats" not in plain
    for address in ("bo@example.se", "tyst@example.se", "nej@example.se", "vantar@example.se"):
        assert _about_actions(smtp, address) == []
    assert _about_actions(smtp, "gammal@example.se") == []
    assert pending  # still pending: not followed

    # saving the action again or an internal follow-up sends nothing more
    _followup(client, action_id, "pågår")
    _followup(client, internal, "genomförd")
    assert _deliver(app) == 0

    _followup(client, action_id, "genomförd")
    _followup(client, action_id, "genomförd")
    assert _deliver(app) == 1
    (_, done) = _about_actions(smtp, "anna@example.se")
    assert done["Subject"].startswith("En åtgärd är genomförd där du rapporterade")
    assert "Kommunen har genomfört en åtgärd i området" in texts(done)[0]

    # an action covering the far report's area reaches it, once
    area = _action(client, lat=str(FAR[0]), lon=str(FAR[1]), title="Trygghetsvandring")
    assert _deliver(app) == 1
    assert len(_about_actions(smtp, "bo@example.se")) == 1
    assert len(_about_actions(smtp, "anna@example.se")) == 2
    assert area > action_id
