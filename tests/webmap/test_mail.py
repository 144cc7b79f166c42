"""Outgoing mail: the outbox, the SMTP sender and ``lagesbild mail`` against aiosmtpd."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _smtp import SmtpServer, texts
from click.testing import CliRunner
from sqlalchemy import Engine

from geo.store import utcnow
from geo.store.mail import (
    CITIZEN_PREFIX,
    ERASED,
    MAX_ATTEMPTS,
    backoff,
    enqueue,
    messages,
    unsent,
)
from webmap.cli import main
from webmap.db import open_database
from webmap.mail.sender import MailWorker, SmtpSettings, send_due


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_database({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"})
    yield eng
    eng.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.stop()


def _queue(engine: Engine, n: int) -> None:
    with engine.begin() as conn:
        for i in range(n):
            enqueue(
                conn,
                kind="test",
                recipient=f"person{i}@example.se",
                subject=f"Meddelande {i} – åäö",
                body_text=f"Hej nummer {i}",
                body_html=f"<p>Hej nummer {i}</p>",
            )


def test_mail_is_off_without_a_host() -> None:
    assert SmtpSettings.from_config({"SMTP_HOST": ""}) is None
    settings = SmtpSettings.from_config({"SMTP_HOST": "mx", "SMTP_PORT": "2525"})
    assert settings is not None and settings.port == 2525


def test_messages_wait_while_the_server_is_down_and_arrive_exactly_once(
    engine: Engine, smtp: SmtpServer
) -> None:
    settings = SmtpSettings.from_config(smtp.config())
    assert settings is not None
    _queue(engine, 3)
    down = send_due(engine, settings)  # nothing listens on the port yet
    assert down.to_dict() == {"sent": 0, "retry": 3, "failed": 0}
    with engine.connect() as conn:
        waiting = unsent(conn)
    assert [m["attempts"] for m in waiting] == [1, 1, 1]
    assert all(m["status"] == "pending" and m["last_error"] for m in waiting)
    assert all(m["next_try_at"] > utcnow() for m in waiting)  # back-off: not due at once
    smtp.start()
    assert send_due(engine, settings).sent == 0  # still backing off
    later = utcnow() + dt.timedelta(hours=1)
    assert send_due(engine, settings, now=later).sent == 3
    assert send_due(engine, settings, now=later + dt.timedelta(days=1)).sent == 0
    assert sorted(m["To"] for m in smtp.inbox.messages) == [
        "person0@example.se",
        "person1@example.se",
        "person2@example.se",
    ]
    first = smtp.inbox.to("person0@example.se")[0]
    assert first["Subject"] == "Meddelande 0 – åäö"
    assert first["From"] == "noreply@test.se"
    plain, html = texts(first)
    assert plain.strip() == "Hej nummer 0" and "<p>Hej nummer 0</p>" in html
    with engine.connect() as conn:
        assert unsent(conn) == []
        assert {m["status"] for m in messages(conn)} == {"sent"}


def _daily_attempts(engine: Engine, smtp: SmtpServer) -> Iterator[dt.datetime]:
    """Try to send once a day, :data:`MAX_ATTEMPTS` times; yields each day after the try."""
    settings = SmtpSettings.from_config(smtp.config())
    assert settings is not None
    when = utcnow()
    for _ in range(MAX_ATTEMPTS):
        when += dt.timedelta(days=1)
        send_due(engine, settings, now=when)
        yield when


def test_back_off_doubles_and_gives_up(engine: Engine, smtp: SmtpServer) -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    settings = SmtpSettings.from_config(smtp.config())
    assert settings is not None
    _queue(engine, 1)
    *_, when = _daily_attempts(engine, smtp)
    with engine.connect() as conn:
        (row,) = unsent(conn)
    assert row["status"] == "failed" and row["attempts"] == MAX_ATTEMPTS
    smtp.start()
    assert send_due(engine, settings, now=when + dt.timedelta(days=30)).sent == 0
    assert smtp.inbox.messages == []


def test_a_citizens_message_given_up_keeps_no_address(engine: Engine, smtp: SmtpServer) -> None:
    with engine.begin() as conn:
        enqueue(
            conn,
            kind=CITIZEN_PREFIX + "confirm",
            recipient="medborgare@example.se",
            subject="Bekräfta",
            body_text="Hej medborgare@example.se",
            body_html="<p>Hej</p>",
        )
    for attempt, _when in enumerate(_daily_attempts(engine, smtp)):
        with engine.connect() as conn:
            (row,) = messages(conn)
        if attempt < MAX_ATTEMPTS - 1:  # kept while it may still be sent
            assert row["recipient"] == "medborgare@example.se"
    assert row["status"] == "failed"
    assert row["recipient"] == ERASED and row["body_text"] == "" and row["body_html"] == ""


def test_a_message_that_cannot_be_built_does_not_stop_the_others(
    engine: Engine, smtp: SmtpServer
) -> None:
    smtp.start()
    settings = SmtpSettings.from_config(smtp.config())
    assert settings is not None
    with engine.begin() as conn:
        enqueue(
            conn,
            kind="test",
            recipient="a@example.se",
            subject="Rad ett\r\nBcc: b@example.se",
            body_text="x",
            body_html="<p>x</p>",
        )
    _queue(engine, 1)
    result = send_due(engine, settings)
    assert result.to_dict() == {"sent": 1, "retry": 1, "failed": 0}
    assert [m["To"] for m in smtp.inbox.messages] == ["person0@example.se"]
    with engine.connect() as conn:
        (waiting,) = unsent(conn)
    assert "ValueError" in waiting["last_error"]


def test_worker_thread_delivers_what_is_queued(engine: Engine, smtp: SmtpServer) -> None:
    smtp.start()
    settings = SmtpSettings.from_config(smtp.config())
    assert settings is not None
    worker = MailWorker(engine, settings, interval=0.05)
    worker.start()
    try:
        _queue(engine, 2)
        deadline = time.monotonic() + 10
        while len(smtp.inbox.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
        worker.join(timeout=5)
    assert len(smtp.inbox.messages) == 2


def test_cli_lists_the_outbox_and_sends_it(
    tmp_path: Path, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAGESBILD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    monkeypatch.setenv("LAGESBILD_INSTANCE_DIR", str(tmp_path / "instance"))
    runner = CliRunner()
    off = runner.invoke(main, ["mail", "send"])
    assert off.exit_code == 2 and "LAGESBILD_SMTP_HOST" in off.output
    engine = open_database()
    _queue(engine, 2)
    listed = json.loads(runner.invoke(main, ["mail", "outbox", "--json"]).output)
    assert [m["status"] for m in listed["messages"]] == ["pending", "pending"]
    monkeypatch.setenv("LAGESBILD_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LAGESBILD_SMTP_PORT", str(smtp.port))
    smtp.start()
    sent = runner.invoke(main, ["mail", "send", "--json"])
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.output) == {"sent": 2, "retry": 0, "failed": 0}
    assert json.loads(runner.invoke(main, ["mail", "outbox", "--json"]).output) == {"messages": []}
    assert len(smtp.inbox.messages) == 2
    engine.dispose()


def test_serve_sends_a_citizens_confirmation_in_the_background(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    import urllib.request

    from _citizen import INSIDE
    from _servers import serve

    smtp.start()
    proc, port = serve(
        tmp_path,
        1,
        LAGESBILD_SMTP_HOST="127.0.0.1",
        LAGESBILD_SMTP_PORT=str(smtp.port),
        LAGESBILD_MAIL_INTERVAL="0.2",
        LAGESBILD_BASE_URL="https://trygg.example.se",
    )
    try:
        body = json.dumps(
            {"category": "otrygg_plats", "lat": INSIDE[0], "lon": INSIDE[1], "email": "a@b.se"}
        ).encode()
        deadline = time.monotonic() + 60
        receipt = None
        while receipt is None and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/reports",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as resp:
                    receipt = json.loads(resp.read())["receipt"]
            except OSError:
                time.sleep(0.2)  # not listening yet
        while not smtp.inbox.messages and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    (msg,) = smtp.inbox.to("a@b.se")
    assert receipt and receipt in msg["Subject"]
    assert f"https://trygg.example.se/rapportera/kvitto/{receipt}" in texts(msg)[0]
