"""Fixtures of the web app tests (shared by every web area).

``app``
    ``create_app`` with :class:`webmap.config.TestConfig` (tiles off), a real database
    (an SQLite file in ``tmp_path`` or a PostgreSQL/PostGIS database: every test runs on
    both, browser tests on SQLite) and the default tenants seeded.
``client``
    Flask test client of ``app``.
``make_user``
    ``make_user(role="planner", username=None, password=None, kommuner=(), org=None)``
    -> :class:`Creds` (username, password, role); users are created in ``app``'s DB.
``login``
    ``login(client, username, password)`` posts the login form with its CSRF token and
    asserts success; returns the response.
``csrf_token``
    ``csrf_token(client, path="/logga-in")`` -> a valid CSRF token for ``client``.
``live_server``
    The real waitress server on ``127.0.0.1:<free port>`` in a thread; yields the base
    URL without a trailing slash (``f"{live_server}/karta"``).
``browser_page``
    A Playwright (sync) page in headless Chromium (``/usr/bin/chromium``). Attributes
    ``page.console_errors`` (console errors and uncaught exceptions),
    ``page.request_urls`` (every request URL), ``page.dialogs`` (messages of dialogs,
    which are dismissed) and ``page.foreign_requests(base_url)`` (requests to any other
    host) let tests assert that nothing leaves the app.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from webmap.config import TestConfig, load_config

ROOT = Path(__file__).resolve().parents[2]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass(frozen=True)
class Creds:
    """Credentials of a test user."""

    username: str
    password: str
    role: str


@pytest.fixture
def app_config(tmp_path: Path, migrated_database_url: str) -> dict[str, Any]:
    """Settings of the test app (override keys in a test before using ``app``).

    The database is SQLite or PostgreSQL (``migrated_database_url``: each test runs on
    both).
    """
    return load_config(
        TestConfig,
        env={},
        DATABASE_URL=migrated_database_url,
        INSTANCE_DIR=str(tmp_path / "instance"),
        TILES="",
    )


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Any]:
    """The web app on a fresh database with the default tenants."""
    from geo.tenants import seed_default_tenants
    from webmap.app import create_app
    from webmap.state import EXTENSION_KEY

    application = create_app(app_config)
    engine = application.extensions[EXTENSION_KEY].engine
    with engine.begin() as conn:
        seed_default_tenants(conn)
    yield application
    engine.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def make_user(app: Any) -> Callable[..., Creds]:
    """Factory creating users in the app's database."""
    from webmap.auth.views import create_user
    from webmap.state import EXTENSION_KEY

    engine = app.extensions[EXTENSION_KEY].engine
    counter = iter(range(1, 10_000))

    def _make(
        role: str = "planner",
        username: str | None = None,
        password: str | None = None,
        kommuner: tuple[str, ...] | list[str] = (),
        org: str | None = None,
    ) -> Creds:
        name = username or f"{role}{next(counter)}"
        pw = password or secrets.token_urlsafe(12)
        if role == "reporter" and org is None:
            org = "Testskolan"
        with engine.begin() as conn:
            create_user(conn, name, pw, role, kommuner=kommuner, reporter_org=org)
        return Creds(name, pw, role)

    return _make


def _csrf_token(client: Any, path: str = "/logga-in") -> str:
    html = client.get(path).get_data(as_text=True)
    match = _CSRF_RE.search(html)
    # no token on the page: CSRF is disabled in this test's config (or the page has no form)
    return match.group(1) if match else ""


@pytest.fixture
def csrf_token() -> Callable[..., str]:
    return _csrf_token


@pytest.fixture
def login() -> Callable[..., Any]:
    """``login(client, username, password)``: log in through the form (asserts success)."""

    def _login(client: Any, username: str, password: str) -> Any:
        token = _csrf_token(client)
        resp = client.post(
            "/logga-in",
            data={"username": username, "password": password, "csrf_token": token},
        )
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return resp

    return _login


@pytest.fixture
def planner_client(app: Any, make_user: Any, login: Any) -> Any:
    """A test client of its own, logged in as a new planner."""
    client = app.test_client()
    creds = make_user("planner")
    login(client, creds.username, creds.password)
    return client


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """The app served by waitress on a free loopback port; yields the base URL."""
    from webmap.serving import BackgroundServer

    server = BackgroundServer(app, threads=4).start()
    try:
        yield server.url.rstrip("/")
    finally:
        server.stop()


def chromium_path() -> str:
    """Path of the system Chromium, or fail the test with the install command."""
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if not path:
        pytest.fail(
            "Chromium saknas: installera med `apt-get install chromium` "
            "(headless Chromium krävs för webbläsartesterna)"
        )
    return path


@pytest.fixture(scope="session")
def _browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(_browser: Any) -> Iterator[Any]:
    """A fresh page (own context) that records console errors, requests and dialogs."""
    context = _browser.new_context(
        locale="sv-SE", timezone_id="Europe/Stockholm", accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    console_errors: list[str] = []
    request_urls: list[str] = []
    dialogs: list[str] = []

    def _on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on(
        "console",
        lambda msg: console_errors.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: console_errors.append(f"pageerror: {exc}"))
    page.on("request", lambda req: request_urls.append(req.url))
    page.on("dialog", _on_dialog)

    def foreign_requests(base_url: str) -> list[str]:
        own = urlsplit(base_url).netloc
        return [
            u
            for u in request_urls
            if not u.startswith(("data:", "blob:", "about:")) and urlsplit(u).netloc != own
        ]

    page.console_errors = console_errors
    page.request_urls = request_urls
    page.dialogs = dialogs
    page.foreign_requests = foreign_requests
    try:
        yield page
    finally:
        context.close()


#: End of the synthetic data (a reporting deadline, Tuesday 13:00) and its meeting week.
DEMO_END = "2026-11-17 13:00"
DEMO_WEEK = "2026-W47"


def insert_synthetic(app: Any, seed: int = 0, n_weeks: int = 26, extra: Any = None) -> Any:
    """Store seeded synthetic reports (planted hotspots) for norrtalje; return them."""
    import hashlib

    import pandas as pd

    from analysis.demo import synthetic_reports
    from geo.store import bump_version
    from geo.store.reports import insert_reports
    from webmap.state import EXTENSION_KEY

    reports, _truth = synthetic_reports(seed=seed, weeks=n_weeks, end=DEMO_END)
    reports = reports.copy()
    reports["description"] = pd.array(["Rapport"] * len(reports), dtype="string")
    if extra is not None:
        reports = pd.concat([reports, extra], ignore_index=True)
    reports["fingerprint"] = [
        hashlib.sha256(f"{seed}-{i}".encode()).hexdigest() for i in range(len(reports))
    ]
    engine = app.extensions[EXTENSION_KEY].engine
    with engine.begin() as conn:
        insert_reports(conn, reports)
        bump_version(conn, "norrtalje")
    return reports


@pytest.fixture
def demo_app(app: Any) -> Any:
    """``app`` with 26 weeks of synthetic reports (four planted hotspots) in Norrtälje."""
    insert_synthetic(app)
    return app
