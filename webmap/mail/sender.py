"""Sending queued messages with :mod:`smtplib` (no Flask; used by ``serve`` and the CLI).

Mail is off unless ``SMTP_HOST`` is set. Every message is sent as plain text with an
HTML alternative. A message the server refuses, or any connection failure, leaves the
message in the outbox for a later try (see :func:`geo.store.mail.mark_failed`).
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import Engine

from geo.store.mail import attachments_of, claim_due, mark_failed, mark_sent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    """Where and as whom mail is sent (from the ``SMTP_*`` and ``MAIL_FROM`` settings)."""

    host: str
    port: int = 25
    user: str = ""
    password: str = ""
    starttls: bool = False
    sender: str = "lagesbild@localhost"
    timeout: float = 20.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpSettings | None:
        """Settings of ``config``, or ``None`` when mail is off (no ``SMTP_HOST``)."""
        host = str(config.get("SMTP_HOST") or "").strip()
        if not host:
            return None
        return cls(
            host=host,
            port=int(config.get("SMTP_PORT") or 25),
            user=str(config.get("SMTP_USER") or ""),
            password=str(config.get("SMTP_PASSWORD") or ""),
            starttls=bool(config.get("SMTP_STARTTLS")),
            sender=str(config.get("MAIL_FROM") or "lagesbild@localhost"),
        )


@dataclass
class SendResult:
    """Counts of one sending round."""

    sent: int = 0
    retry: int = 0
    failed: int = 0

    def to_dict(self) -> dict[str, int]:
        """The counts as a JSON-ready dict."""
        return {"sent": self.sent, "retry": self.retry, "failed": self.failed}


def build_message(
    settings: SmtpSettings,
    row: Mapping[str, Any],
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """The MIME message (plain text + HTML alternative, then the ``(filename, mimetype,
    content)`` attachments) of one outbox row."""
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = row["recipient"]
    msg["Subject"] = row["subject"]
    msg["Message-ID"] = make_msgid(idstring=f"outbox{row['id']}", domain="lagesbild")
    msg.set_content(row["body_text"])
    msg.add_alternative(row["body_html"], subtype="html")
    for filename, mimetype, content in attachments:
        maintype, _, subtype = mimetype.partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    if settings.starttls:
        smtp.starttls()
    if settings.user:
        smtp.login(settings.user, settings.password)
    return smtp


def send_due(
    engine: Engine, settings: SmtpSettings, limit: int = 50, now: dt.datetime | None = None
) -> SendResult:
    """Send the messages that are due; each outcome is recorded at once.

    Parameters
    ----------
    engine
        Database with the outbox.
    settings
        SMTP server and sender.
    limit
        Most messages sent in this round.
    now
        Time that decides which messages are due (naive UTC; default: now).

    Returns
    -------
    SendResult
        How many were sent, will be retried, or were given up.
    """
    result = SendResult()
    with engine.begin() as conn:
        rows = claim_due(conn, now=now, limit=limit)
        files = {row["id"]: attachments_of(conn, row["id"]) for row in rows}
    if not rows:
        return result
    smtp: smtplib.SMTP | None = None
    try:
        for row in rows:
            try:
                if smtp is None:
                    smtp = _connect(settings)
                smtp.send_message(build_message(settings, row, files[row["id"]]))
            except (OSError, smtplib.SMTPException, ValueError) as exc:
                # ValueError: a message that cannot be built (e.g. a line break in a
                # header) must not stop the others
                with engine.begin() as conn:
                    status = mark_failed(conn, row["id"], f"{type(exc).__name__}: {exc}")
                if status == "failed":
                    result.failed += 1
                else:
                    result.retry += 1
                log.warning("e-post %s kunde inte skickas: %s", row["id"], exc)
                if not isinstance(exc, (smtplib.SMTPRecipientsRefused, ValueError)):
                    _close(smtp)
                    smtp = None
                continue
            with engine.begin() as conn:
                mark_sent(conn, row["id"])
            result.sent += 1
    finally:
        _close(smtp)
    return result


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


class MailWorker(threading.Thread):
    """Background thread that, every ``interval`` seconds, queues the tenants' due
    reminder rounds (:func:`webmap.mail.coverage.send_due_reminders`) and sends due
    messages."""

    def __init__(
        self, engine: Engine, settings: SmtpSettings, interval: float = 30.0, base_url: str = ""
    ) -> None:
        super().__init__(name="lagesbild-mail", daemon=True)
        self.engine = engine
        self.settings = settings
        self.interval = interval
        self.base_url = base_url
        self.stopping = threading.Event()

    def run(self) -> None:
        """Send until :meth:`stop` is called; errors are logged, never fatal."""
        from webmap.mail.coverage import send_due_reminders

        while not self.stopping.is_set():
            try:
                with self.engine.begin() as conn:
                    send_due_reminders(conn, self.base_url)
                send_due(self.engine, self.settings)
            except Exception:  # noqa: BLE001 - the worker must outlive a bad round
                log.exception("e-postutskicket misslyckades")
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        """Ask the thread to end after the current round."""
        self.stopping.set()
