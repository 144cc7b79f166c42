"""Moderation /moderering: queue, approve, reject, redact, audit log, access."""

from __future__ import annotations

import re
from typing import Any

import pytest
from _citizen import api_report, engine, report_by_receipt
from sqlalchemy import select

from geo.store.db import current_version
from geo.store.reports import read_reports
from geo.store.tables import moderation_log
from webmap.citizen.submissions import text_hash

PII_TEXT = "Anna Svensson (811218-9876) står här, ring 070-123 45 67"


def _csrf(client: Any) -> str:
    html = client.get("/moderering").get_data(as_text=True)
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, html[:500]
    return m.group(1)


@pytest.fixture
def planner(client: Any, make_user: Any, login: Any) -> Any:
    creds = make_user("planner")
    login(client, creds.username, creds.password)
    return creds


def _submit(client: Any, description: str = "Trasig lampa vid gångtunneln") -> tuple[str, int]:
    body = api_report(client, description=description).get_json()
    row = report_by_receipt(client.application, body["receipt"])
    return body["receipt"], int(row.report_id)


def _log(app: Any, report_id: int) -> list[Any]:
    with engine(app).connect() as conn:
        return list(
            conn.execute(
                select(moderation_log)
                .where(moderation_log.c.report_id == report_id)
                .order_by(moderation_log.c.id)
            ).all()
        )


def test_queue_requires_a_planner(client: Any, make_user: Any, login: Any) -> None:
    resp = client.get("/moderering")
    assert resp.status_code == 302 and "/logga-in" in resp.headers["Location"]
    reader = make_user("reader")
    login(client, reader.username, reader.password)
    assert client.get("/moderering").status_code == 403
    assert client.post("/moderering/1", data={"action": "approve"}).status_code in (400, 403)


def test_queue_lists_pending_reports_with_personal_data_highlighted(
    app: Any, client: Any, planner: Any
) -> None:
    receipt, _rid = _submit(client, PII_TEXT)
    html = client.get("/moderering").get_data(as_text=True)
    assert receipt in html and "väntar på granskning" in html
    assert "<mark" in html and "personnummer" in html and "telefonnummer" in html
    # the suggested text has the flagged spans masked
    assert "[namn] ([personnummer]) står här, ring [telefonnummer]" in html


def test_approve_enters_the_analysis_and_is_audited(app: Any, client: Any, planner: Any) -> None:
    receipt, rid = _submit(client)
    with engine(app).connect() as conn:
        version = current_version(conn, "norrtalje")
        assert read_reports(conn, "norrtalje").empty  # pending: not in the analysis
    token = _csrf(client)
    text = "Trasig lampa vid gångtunneln"
    resp = client.post(
        f"/moderering/{rid}", data={"action": "approve", "text": text, "csrf_token": token}
    )
    assert resp.status_code == 302
    row = report_by_receipt(app, receipt)
    assert row.status == "approved" and row.moderated_by == planner.username
    with engine(app).connect() as conn:
        assert current_version(conn, "norrtalje") == version + 1
        approved = read_reports(conn, "norrtalje")
    assert len(approved) == 1 and approved["source"].iloc[0] == "citizen"
    (entry,) = _log(app, rid)
    assert (entry.action, entry.actor, entry.status_before, entry.status_after) == (
        "approve",
        planner.username,
        "pending",
        "approved",
    )
    assert entry.text_hash_before == entry.text_hash_after == text_hash(row.text_salt, text)
    assert entry.at is not None
    page = client.get("/moderering").get_data(as_text=True)
    assert "godkänd" in page  # the flash message
    assert f'data-receipt="{receipt}"' not in page  # no longer in the queue


def test_reject_keeps_the_report_for_the_audit_but_excludes_it(
    app: Any, client: Any, planner: Any
) -> None:
    receipt, rid = _submit(client)
    client.post(f"/moderering/{rid}", data={"action": "reject", "csrf_token": _csrf(client)})
    row = report_by_receipt(app, receipt)
    assert row is not None and row.status == "rejected"
    with engine(app).connect() as conn:
        assert read_reports(conn, "norrtalje").empty
    assert [e.action for e in _log(app, rid)] == ["reject"]
    log_page = client.get("/moderering/logg").get_data(as_text=True)
    assert receipt in log_page and "Avvisad" in log_page


def test_redact_before_approval_logs_both_steps_with_hashes(
    app: Any, client: Any, planner: Any
) -> None:
    receipt, rid = _submit(client, PII_TEXT)
    assert sorted(report_by_receipt(app, receipt).pii_flags) == ["name", "personnummer", "phone"]
    edited = "En person står här ofta på kvällarna"
    client.post(
        f"/moderering/{rid}",
        data={"action": "approve", "text": edited, "csrf_token": _csrf(client)},
    )
    row = report_by_receipt(app, receipt)
    assert row.description == edited and row.status == "approved" and row.pii_flags == []
    redact, approve = _log(app, rid)
    assert redact.action == "redact" and approve.action == "approve"
    assert redact.text_hash_before == text_hash(row.text_salt, PII_TEXT)
    assert redact.text_hash_after == text_hash(row.text_salt, edited)
    assert redact.text_hash_before != redact.text_hash_after
    assert sorted(redact.pii_flags) == [] and redact.status_after == "pending"


def test_automatic_masking_keeps_the_report_pending(app: Any, client: Any, planner: Any) -> None:
    receipt, rid = _submit(client, PII_TEXT)
    client.post(f"/moderering/{rid}", data={"action": "redact_auto", "csrf_token": _csrf(client)})
    row = report_by_receipt(app, receipt)
    assert row.status == "pending"
    assert row.description == "[namn] ([personnummer]) står här, ring [telefonnummer]"
    assert [e.action for e in _log(app, rid)] == ["redact"]


def test_decisions_need_csrf_and_a_known_action(app: Any, client: Any, planner: Any) -> None:
    receipt, rid = _submit(client)
    assert client.post(f"/moderering/{rid}", data={"action": "approve"}).status_code == 400
    token = _csrf(client)
    assert (
        client.post(
            f"/moderering/{rid}", data={"action": "delete", "csrf_token": token}
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/moderering/99999", data={"action": "approve", "csrf_token": token}
        ).status_code
        == 404
    )
    assert report_by_receipt(app, receipt).status == "pending"


def test_planner_limited_to_another_kommun_is_refused(
    app: Any, client: Any, make_user: Any, login: Any
) -> None:
    _receipt, rid = _submit(client)
    other = make_user("planner", kommuner=["kungsor"])
    login(client, other.username, other.password)
    assert client.get("/moderering?kommun=norrtalje").status_code == 403
    html = client.get("/moderering?kommun=kungsor").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    resp = client.post(f"/moderering/{rid}", data={"action": "approve", "csrf_token": token})
    assert resp.status_code == 403


def test_a_stale_queue_page_cannot_overturn_another_planners_decision(
    app: Any, client: Any, planner: Any
) -> None:
    receipt, rid = _submit(client, PII_TEXT)
    token = _csrf(client)  # both planners loaded the queue while the report was pending
    client.post(f"/moderering/{rid}", data={"action": "reject", "csrf_token": token})
    assert report_by_receipt(app, receipt).status == "rejected"
    stale = client.post(
        f"/moderering/{rid}",
        data={"action": "approve", "text": PII_TEXT, "csrf_token": token},
        follow_redirects=True,
    )
    assert "redan granskad" in stale.get_data(as_text=True)
    row = report_by_receipt(app, receipt)
    assert row.status == "rejected" and row.description == PII_TEXT
    assert [e.action for e in _log(app, rid)] == ["reject"]
