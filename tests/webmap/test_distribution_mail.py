"""After the meeting: publishing a week mails the lägesbild PDF to the kommun's
distribution list, once per address (read from a real SMTP server)."""

from __future__ import annotations

import io
import json
from typing import Any

import _smtp
from _citizen import engine
from _smtp import BASE, SmtpServer, texts
from click.testing import CliRunner
from pypdf import PdfReader

from geo.store.mail import messages
from geo.store.tables import mail_attachment
from webmap.cli import main
from webmap.mail.sender import SmtpSettings, send_due

#: Mail goes to a running aiosmtpd server; links point to BASE.
smtp = _smtp.smtp
app_config = _smtp.app_config

LIST = ["polisen@example.se", "Politiker@Example.se"]


def _cli(app: Any, *args: str) -> Any:
    env = {"LAGESBILD_DATABASE_URL": app.config["DATABASE_URL"]}
    return CliRunner().invoke(
        main, ["mail", "distribution", "--kommun", "norrtalje", *args], env=env
    )


def _publish(client: Any, csrf: Any, week: str) -> str:
    """Publish ``week`` (confirming undecided localities); the page it leads to."""
    data = {
        "csrf_token": csrf(client, f"/lagesbild/{week}?kommun=norrtalje"),
        "kommun": "norrtalje",
        "bekrafta": "1",
    }
    resp = client.post(f"/lagesbild/{week}/publicera", data=data)
    assert resp.status_code == 302
    return str(client.get(resp.headers["Location"]).get_data(as_text=True))


def _deliver(app: Any) -> int:
    settings = SmtpSettings.from_config(app.config)
    assert settings is not None
    return send_due(engine(app), settings).sent


def test_distribution_list_is_a_tenant_setting_edited_with_the_cli(app: Any) -> None:
    bad = _cli(app, "--add", "polisen@example.se", "--add", "inte en adress", "--add", "x@y")
    assert bad.exit_code == 2
    assert "'inte en adress': e-postadressen ser inte giltig ut" in bad.output
    assert "'x@y'" in bad.output
    assert json.loads(_cli(app, "--json").output)["distribution_list"] == []  # nothing stored

    res = _cli(app, "--add", LIST[0], "--add", LIST[1], "--add", "POLISEN@example.se", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == {"kommun": "norrtalje", "distribution_list": LIST}
    res = _cli(app, "--remove", "politiker@example.se")
    assert res.output.split() == [LIST[0]]
    assert _cli(app, "--set", "").output.strip() == "norrtalje: sändlistan är tom"


def test_publishing_mails_the_pdf_to_the_list_once(
    demo_app: Any, client: Any, make_user: Any, login: Any, csrf_token: Any, smtp: SmtpServer
) -> None:
    assert _cli(demo_app, "--set", ",".join(LIST)).exit_code == 0
    planner = make_user("planner")
    login(client, planner.username, planner.password)
    page = _publish(client, csrf_token, "2026-W46")
    assert "Den skickas till 2 adresser på sändlistan." in page
    assert _deliver(demo_app) == 2
    for address in LIST:
        (msg,) = smtp.inbox.to(address)
        assert msg["Subject"] == "Lägesbild vecka 46, 2026 – Norrtälje"
        plain, html = texts(msg)
        assert f"{BASE}/karta/publik?kommun=norrtalje" in plain
        assert f'href="{BASE}/karta/publik?kommun=norrtalje"' in html
        (pdf,) = list(msg.iter_attachments())
        assert pdf.get_content_type() == "application/pdf"
        assert pdf.get_filename() == "lagesbild-norrtalje-2026-W46.pdf"
        reader = PdfReader(io.BytesIO(pdf.get_content()))
        text = " ".join(page.extract_text() for page in reader.pages)
        assert "Norrtälje" in text and "vecka 46, 2026" in text

    # publishing the same week again (or a retry) sends nothing more
    assert "sändlistan" not in _publish(client, csrf_token, "2026-W46")
    assert _deliver(demo_app) == 0
    assert len(smtp.inbox.messages) == 2
    with engine(demo_app).connect() as conn:
        assert conn.execute(mail_attachment.select()).first() is None  # dropped once sent
        assert [m["kind"] for m in messages(conn)] == ["lagesbild", "lagesbild"]

    # an address added later gets the next publication; the others do not get it twice
    assert _cli(demo_app, "--add", "ny@example.se").exit_code == 0
    assert "Den skickas till 1 adress på sändlistan." in _publish(client, csrf_token, "2026-W46")
    assert _deliver(demo_app) == 1
    assert len(smtp.inbox.to("ny@example.se")) == 1
    assert len(smtp.inbox.messages) == 3
