"""Helpers shared by the citizen-channel tests (not a test module)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine, func, select

from geo.store.tables import citizen_report, report
from geo.store.tables import kommun as kommun_table
from webmap.state import EXTENSION_KEY

#: Busstorget, Norrtälje (inside the kommun and the tätort).
INSIDE = (59.7577, 18.6990)
#: Stockholm city (outside Norrtälje kommun).
OUTSIDE = (59.3326, 18.0649)

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FORM = re.compile(r'name="form_token" value="([^"]+)"')


def engine(app: Any) -> Engine:
    return app.extensions[EXTENSION_KEY].engine  # type: ignore[no-any-return]


def tokens(client: Any, path: str = "/rapportera") -> tuple[str, str]:
    """(csrf_token, form_token) of a freshly rendered report form."""
    html = client.get(path).get_data(as_text=True)
    csrf, form = _CSRF.search(html), _FORM.search(html)
    assert csrf and form, "the report form lacks its tokens"
    return csrf.group(1), form.group(1)


def form_data(client: Any, **fields: Any) -> dict[str, Any]:
    csrf, form = tokens(client)
    data = {
        "csrf_token": csrf,
        "form_token": form,
        "kommun": "norrtalje",
        "lat": str(INSIDE[0]),
        "lon": str(INSIDE[1]),
        "category": "otrygg_plats",
        "description": "Mörkt vid busstationen på kvällarna.",
        "webbplats": "",
    }
    data.update({k: v for k, v in fields.items()})
    return {k: v for k, v in data.items() if v is not None}


def count_reports(app: Any) -> int:
    with engine(app).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(report)).scalar_one())


def count_citizen_rows(app: Any) -> int:
    with engine(app).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(citizen_report)).scalar_one())


def report_by_receipt(app: Any, receipt: str) -> Any:
    with engine(app).connect() as conn:
        return conn.execute(
            select(report, citizen_report)
            .join(citizen_report, citizen_report.c.report_id == report.c.id)
            .where(citizen_report.c.receipt == receipt)
        ).first()


def set_settings(app: Any, key: str = "norrtalje", **settings: Any) -> None:
    """Merge ``settings`` into a tenant's settings and drop the app's cached geography."""
    with engine(app).begin() as conn:
        current = conn.execute(
            select(kommun_table.c.settings).where(kommun_table.c.key == key)
        ).scalar_one()
        conn.execute(
            kommun_table.update()
            .where(kommun_table.c.key == key)
            .values(settings={**current, **settings})
        )
    app.extensions[EXTENSION_KEY].citizen.geo.clear()


def api_report(client: Any, key: str | None = None, **payload: Any) -> Any:
    body = {"category": "otrygg_plats", "lat": INSIDE[0], "lon": INSIDE[1]}
    body.update(payload)
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/api/reports", json=body, headers=headers)


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page (empty: none)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def age_report(app: Any, receipt: str, days: int) -> None:
    """Make the report of ``receipt`` look ``days`` old (submitted and stored then)."""
    import datetime as dt

    from sqlalchemy import text

    when = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=days)
    rid = int(report_by_receipt(app, receipt).report_id)
    with engine(app).begin() as conn:
        conn.execute(
            text("update report set reported_at = :w, created_at = :w where id = :i"),
            {"w": when, "i": rid},
        )


def browser_login(page: Any, base: str, creds: Any) -> None:
    """Log ``creds`` in through the login form of the page's browser."""
    page.goto(f"{base}/logga-in")
    page.fill("#username", creds.username)
    page.fill("#password", creds.password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def behind_proxy(app_config: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """``app_config`` with ``settings`` and clients told apart by ``X-Forwarded-For``."""
    return {**app_config, "TRUSTED_PROXY_HEADER": "X-Forwarded-For", **settings}
