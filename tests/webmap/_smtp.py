"""A real SMTP server (aiosmtpd) on a free port for tests that read delivered mail."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from _servers import free_port
from aiosmtpd.controller import Controller


class Inbox:
    """Collects every message the server accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        """Messages addressed to ``address``."""
        return [m for m in self.messages if m["To"] == address]


class SmtpServer:
    """An aiosmtpd server on ``127.0.0.1:port``; :meth:`start` and :meth:`stop` it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def config(self) -> dict[str, Any]:
        """Settings that send mail to this server."""
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "MAIL_FROM": "noreply@test.se"}


def texts(msg: EmailMessage) -> tuple[str, str]:
    """Plain-text and HTML bodies of ``msg``."""
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return str(plain.get_content()), str(html.get_content())


#: Public address of the installation in mail tests.
BASE = "https://trygg.example.se"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A running SMTP server (stopped after the test)."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp: SmtpServer) -> dict[str, Any]:
    """The test app's settings with mail sent to :func:`smtp` and links to :data:`BASE`."""
    return {**app_config, **smtp.config(), "BASE_URL": BASE}
