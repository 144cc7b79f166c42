"""The patrol page ``/patrull``: access, plan rendering and caching, observations.

Real SQLite file, the real app with CSRF and rate limits on, seeded synthetic reports
(``demo_app``: 26 weeks in Norrtälje ending 2026-11-17).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from geo.store import bump_version
from geo.store.tables import patrol_observation, quarantine
from geo.store.tables import report as report_table
from webmap.patrol.observations import Observation, store_observation
from webmap.patrol.plan import default_date
from webmap.patrol.views import runtime
from webmap.state import EXTENSION_KEY

DATE = "2026-11-20"  # a Friday after the synthetic data
CENTRE = (59.7577, 18.6990)  # Busstorget, Norrtälje
MALMO = (55.605, 13.0038)
_CONFIG_RE = re.compile(
    r'<script type="application/json" id="patrol-config"[^>]*>(.*?)</script>', re.S
)


def _engine(app: Any) -> Any:
    return app.extensions[EXTENSION_KEY].engine


def _patrol_client(
    app: Any, make_user: Callable[..., Any], login: Callable[..., Any], **kw: Any
) -> Any:
    creds = make_user("patrol", kommuner=kw.pop("kommuner", ("norrtalje",)), **kw)
    client = app.test_client()
    login(client, creds.username, creds.password)
    return client


def _token(client: Any) -> str:
    resp = client.get("/patrull/token", headers={"Accept": "application/json"})
    assert resp.status_code == 200
    return str(resp.get_json()["csrf"])


def _post(client: Any, body: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["X-CSRFToken"] = token
    return client.post("/patrull/observation", data=json.dumps(body), headers=headers,
                       content_type="application/json")  # fmt: skip


def _observation(**over: Any) -> dict[str, Any]:
    body = {
        "key": str(uuid.uuid4()),
        "kommun": "norrtalje",
        "category": "storande_grupp",
        "note": "Grupp vid busskuren, lugnt efter samtal",
        "lat": CENTRE[0],
        "lon": CENTRE[1],
        "observed_at": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat(),
    }
    body.update(over)
    return body


def _count_reports(app: Any, note: str) -> int:
    r = report_table
    with _engine(app).connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(r.c.source == "patrol", r.c.description == note)
            ).scalar_one()
        )


def _config(html: str) -> dict[str, Any]:
    match = _CONFIG_RE.search(html)
    assert match, "the page embeds its map configuration"
    return json.loads(match.group(1))  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- access
@pytest.mark.parametrize("path", ["/patrull", "/patrull/utskrift", "/patrull/token"])
def test_anonymous_users_are_sent_to_login(client: Any, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/logga-in?next=")
    as_json = client.get(path, headers={"Accept": "application/json"})
    assert as_json.status_code == 401
    assert as_json.get_json()["error"] == "Du behöver logga in."


def test_anonymous_observation_is_refused(client: Any, csrf_token: Callable[..., str]) -> None:
    token = csrf_token(client)  # a valid token of the login page: only the role check answers
    resp = _post(client, _observation(), token)
    assert resp.status_code == 401


@pytest.mark.parametrize("role", ["reporter", "reader"])
def test_other_roles_are_forbidden(
    app: Any, make_user: Callable[..., Any], login: Callable[..., Any], role: str
) -> None:
    creds = make_user(role)
    client = app.test_client()
    login(client, creds.username, creds.password)
    for path in ("/patrull", "/patrull/utskrift", "/patrull/token"):
        assert client.get(path).status_code == 403, path
    token = _csrf_from_login_page(client)
    resp = _post(client, _observation(), token)
    assert resp.status_code == 403
    assert resp.get_json()["error"] == "Du saknar behörighet till den här sidan."


def _csrf_from_login_page(client: Any) -> str:
    html = client.get("/logga-in").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match
    return match.group(1)


@pytest.mark.parametrize("role", ["patrol", "planner"])
def test_patrol_and_planner_may_open_the_page(
    demo_app: Any, make_user: Callable[..., Any], login: Callable[..., Any], role: str
) -> None:
    creds = make_user(role)
    client = demo_app.test_client()
    resp = login(client, creds.username, creds.password)
    if role == "patrol":
        assert resp.headers["Location"] == "/patrull"  # a patrol host lands on the page
    page = client.get(f"/patrull?datum={DATE}")
    assert page.status_code == 200
    assert 'href="/patrull"' in page.get_data(as_text=True)  # in the menu


# ----------------------------------------------------------------------------- the plan
def test_plan_shows_areas_in_walking_order_with_windows_and_reasons(
    demo_app: Any, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    from analysis.patrol import plan_shift
    from geo.boundaries import localities_to_cells, read_boundaries
    from geo.store.reports import read_reports

    client = _patrol_client(demo_app, make_user, login)
    resp = client.get(f"/patrull?kommun=norrtalje&datum={DATE}&pass=18-02&omraden=3")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Fredag 20 november 2026" in html and "kl. 18–02" in html

    # the same plan straight from the analysis: the page shows its reasons in its order
    with _engine(demo_app).connect() as conn:
        reports = read_reports(conn, "norrtalje", end="2026-11-20T17:00:00Z")
        loc = read_boundaries(conn, "norrtalje", "locality")
    plan, _risk = plan_shift(reports, DATE, "18-02", 3, localities=localities_to_cells(loc, 10))
    expected = [plan.areas[i] for i in plan.order]
    reasons = re.findall(
        r'<p class="area-reason"><span class="visually-hidden">Varför: </span>(.*?)</p>', html
    )
    windows = re.findall(r'<span class="area-window">kl\. (.*?)</span>', html)
    assert reasons == [a.reason for a in expected]
    assert windows == [a.window_label for a in expected]
    assert all(re.search(r"\d+ rapport(er)? ", r) for r in reasons)
    steps = re.findall(r'<li class="patrol-area-item" data-step="(\d+)">', html)
    assert steps == ["1", "2", "3"]
    names = {str(c): str(n) for c, n in zip(loc["code"], loc["name"], strict=True)}
    shown = re.findall(r'<span class="area-name">(.*?)</span>', html)
    assert shown == [names.get(str(a.locality), "Utanför tätort") for a in expected]

    cfg = _config(html)
    assert [a["step"] for a in cfg["areas"]] == [1, 2, 3]
    for area, want in zip(cfg["areas"], expected, strict=True):
        assert area["outline"]["type"] == "Polygon"  # one outline per disk of 19 hexagons
        assert area["centre"] == [round(want.centre[0], 6), round(want.centre[1], 6)]
    assert cfg["tiles"] == ""  # tests run without tiles
    assert "Promenad mellan områdenas mitt" in html
    # expected counts come with their 80 % interval, and the page says how often it hit
    meta = re.findall(r"Förväntat ([\d,]+) \(troligen (\d+)–(\d+)\) händelser", html)
    assert [(int(lo), int(hi)) for _, lo, hi in meta] == [
        (int(a.interval[0]), int(a.interval[1])) for a in expected if a.interval is not None
    ]
    assert len(meta) == 3 and all(int(lo) <= int(hi) for _, lo, hi in meta)
    assert _risk.hit_text_ in html and "som prognosen pekade ut" in html


def test_plan_is_cached_per_kommun_version_date_shift_and_k(
    demo_app: Any, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    client = _patrol_client(demo_app, make_user, login)
    with demo_app.app_context():
        rt = runtime()
    url = f"/patrull?datum={DATE}&pass=18-02&omraden=3"
    first = client.get(url).get_data(as_text=True)
    assert rt.computed == 1
    again = client.get(url).get_data(as_text=True)
    assert rt.computed == 1  # served from the cache
    assert _config(first)["areas"] == _config(again)["areas"]
    client.get(f"/patrull/utskrift?datum={DATE}&pass=18-02&omraden=3")
    assert rt.computed == 1  # the printable sheet uses the same cached plan
    client.get(f"/patrull?datum={DATE}&pass=18-02&omraden=2")
    client.get(f"/patrull?datum={DATE}&pass=20-04&omraden=3")
    client.get("/patrull?datum=2026-11-21&pass=18-02&omraden=3")
    assert rt.computed == 4
    with _engine(demo_app).begin() as conn:
        bump_version(conn, "norrtalje")  # new data: the plan is computed again
    client.get(url)
    assert rt.computed == 5
    client.get(url)
    assert rt.computed == 5


def test_defaults_are_today_evening_shift_and_three_areas(
    demo_app: Any, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    client = _patrol_client(demo_app, make_user, login)
    html = client.get("/patrull").get_data(as_text=True)
    today = default_date("Europe/Stockholm")
    assert f'name="datum" value="{today.isoformat()}"' in html
    assert '<option value="18-02" selected>18–02</option>' in html
    assert '<option value="3" selected>3</option>' in html


def test_default_date_is_the_shift_that_started_yesterday_after_midnight() -> None:
    tz = "Europe/Stockholm"
    # 00:30 local on Saturday 21 Nov (23:30 UTC on Friday)
    after_midnight = dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC)
    assert default_date(tz, "18-02", after_midnight) == dt.date(2026, 11, 20)
    evening = dt.datetime(2026, 11, 21, 16, 0, tzinfo=dt.UTC)  # 17:00 local
    assert default_date(tz, "18-02", evening) == dt.date(2026, 11, 21)
    assert default_date(tz, "08-16", after_midnight) == dt.date(2026, 11, 21)


def test_bad_plan_arguments_fall_back_with_swedish_messages(
    demo_app: Any, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    client = _patrol_client(demo_app, make_user, login)
    resp = client.get("/patrull?datum=igår&pass=kväll&omraden=40")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "ska skrivas ÅÅÅÅ-MM-DD; visar i dag." in html
    assert "ska skrivas som t.ex. 18-02; visar 18–02." in html
    assert "Antal områden ska vara 1–8; visar 3 områden." in html


def test_without_reports_the_page_says_so_in_swedish(
    app: Any, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    client = _patrol_client(app, make_user, login)
    resp = client.get(f"/patrull?datum={DATE}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Det finns ingen plan för passet" in html
    assert "inga godkända rapporter" in html
    assert _config(html)["areas"] == []


def test_printable_sheet_has_map_order_windows_and_reasons(
    demo_app: Any, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    client = _patrol_client(demo_app, make_user, login)
    page = client.get(f"/patrull?datum={DATE}").get_data(as_text=True)
    sheet = client.get(f"/patrull/utskrift?datum={DATE}")
    assert sheet.status_code == 200
    html = sheet.get_data(as_text=True)
    overview = html.split('<figure class="sheet-map">')[1].split("</figure>")[0]
    assert overview.count('class="svg-area"') == 3
    assert html.count('<figure class="detail-map">') == 3
    assert html.count('<tr class="sheet-area">') == 3
    assert re.findall(r'<td class="nr">(\d)</td>', html) == ["1", "2", "3"]
    reasons = re.findall(r'<span class="visually-hidden">Varför: </span>(.*?)</p>', page)
    for reason in reasons:
        assert reason in html
    windows = re.findall(r'<span class="area-window">kl\. (.*?)</span>', page)
    assert re.findall(r'<td class="nowrap">(.*?)</td>', html) == windows
    assert "Nära Busstorget" in html  # named places of the gazetteer near the areas
    css = client.get("/static/patrol/patrull.css").get_data(as_text=True)
    assert "@media print" in css and ".topbar" in css


# ----------------------------------------------------------------------------- observations
def test_observation_retries_with_the_same_key_store_once(
    demo_app: Any, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    client = _patrol_client(demo_app, make_user, login, org="Trygghetsvärdarna Norrtälje")
    token = _token(client)
    body = _observation(note="Krossad ruta i busskuren")
    first = _post(client, body, token)
    assert first.status_code == 201, first.get_data(as_text=True)
    report_id = first.get_json()["report_id"]
    assert first.get_json()["status"] == "stored"
    for _ in range(3):
        again = _post(client, body, token)
        assert again.status_code == 200
        assert again.get_json() == {"report_id": report_id, "status": "already_stored",
                                    "key": body["key"]}  # fmt: skip
    assert _count_reports(demo_app, "Krossad ruta i busskuren") == 1
    with _engine(demo_app).connect() as conn:
        row = conn.execute(select(report_table).where(report_table.c.id == report_id)).one()
        keys = conn.execute(
            select(patrol_observation).where(patrol_observation.c.key == body["key"])
        ).all()
    assert row.source == "patrol" and row.status == "approved"
    assert row.reporter_org == "Trygghetsvärdarna Norrtälje"
    assert row.category == "storande_grupp" and row.precision == "point"
    assert row.cell is not None and row.locality == "0188TC109"
    assert row.external_id == body["key"]
    assert len(keys) == 1 and keys[0].report_id == report_id
    # a new key is a new observation
    other = _post(client, {**body, "key": str(uuid.uuid4())}, token)
    assert other.status_code == 201 and other.get_json()["report_id"] != report_id
    # the user's observations are listed on the page
    html = client.get(f"/patrull?datum={DATE}").get_data(as_text=True)
    assert html.count("Krossad ruta i busskuren") == 2


def test_concurrent_retries_store_once(
    demo_app: Any, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    creds = make_user("patrol")
    clients = []
    for _ in range(4):
        c = demo_app.test_client()
        login(c, creds.username, creds.password)
        clients.append((c, _token(c)))
    body = _observation(note="Samtidiga försök")
    results: list[Any] = []
    barrier = threading.Barrier(len(clients))

    def send(client: Any, token: str) -> None:
        barrier.wait()
        resp = _post(client, body, token)
        results.append((resp.status_code, resp.get_json()["report_id"]))

    threads = [threading.Thread(target=send, args=ct) for ct in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s for s, _ in results) == [200, 200, 200, 201]
    assert len({rid for _, rid in results}) == 1
    assert _count_reports(demo_app, "Samtidiga försök") == 1


def test_store_once_without_a_shared_lock(demo_app: Any) -> None:
    """Writers that do not share the in-process lock (other processes) rely on the key."""
    engine = _engine(demo_app)
    obs = Observation(
        key=str(uuid.uuid4()),
        kommun="norrtalje",
        category="klotter",
        note="Utan gemensamt lås",
        lat=CENTRE[0],
        lon=CENTRE[1],
        precision="point",
        occurred_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        reporter_org="Trygghetsvärdar",
    )
    out: list[tuple[int, bool]] = []
    barrier = threading.Barrier(3)

    def run() -> None:
        barrier.wait()
        out.append(store_observation(engine, obs, user_id=1))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(created for _, created in out) == [False, False, True]
    assert len({rid for rid, _ in out}) == 1
    assert _count_reports(demo_app, "Utan gemensamt lås") == 1


def test_validation_errors_are_swedish_and_store_nothing(
    demo_app: Any, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    client = _patrol_client(demo_app, make_user, login)
    token = _token(client)
    with _engine(demo_app).connect() as conn:
        before = conn.execute(select(func.count()).select_from(report_table)).scalar_one()

    def errors(**over: Any) -> list[str]:
        resp = _post(client, _observation(**over), token)
        assert resp.status_code == 422, resp.get_data(as_text=True)
        return [e["message"] for e in resp.get_json()["errors"]]

    assert errors(category="pyroteknik") == ["Okänd kategori 'pyroteknik'; välj en i listan."]
    assert errors(lat=MALMO[0], lon=MALMO[1]) == ["Positionen ligger utanför Norrtälje kommun."]
    assert errors(category="", lat=None, lon=None) == [
        "Välj en kategori.",
        "Position saknas: använd din position eller tryck i kartan.",
    ]
    assert errors(note="x" * 1001) == ["Anteckningen är för lång (högst 1000 tecken)."]
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    assert errors(observed_at=future) == ["Tidpunkten ligger i framtiden."]
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=9)).isoformat()
    assert errors(observed_at=old) == ["Observationen är äldre än 7 dagar."]
    assert errors(accuracy=1500) == [
        "Positionen är för osäker (±1500 m); tryck i kartan i stället."
    ]
    assert errors(key="kort") == ["Nyckeln saknas eller är ogiltig (8–64 tecken)."]
    assert errors(kommun="atlantis") == ["Okänd kommun 'atlantis'."]
    with _engine(demo_app).connect() as conn:
        after = conn.execute(select(func.count()).select_from(report_table)).scalar_one()
        quarantined = conn.execute(select(func.count()).select_from(quarantine)).scalar_one()
        keys = conn.execute(select(func.count()).select_from(patrol_observation)).scalar_one()
    assert after == before and quarantined == 0 and keys == 0


def test_a_poor_gps_fix_is_stored_at_street_precision(
    demo_app: Any, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    client = _patrol_client(demo_app, make_user, login)
    resp = _post(client, _observation(note="Osäker position", accuracy=240), _token(client))
    assert resp.status_code == 201
    with _engine(demo_app).connect() as conn:
        precision = conn.execute(
            select(report_table.c.precision).where(
                report_table.c.id == resp.get_json()["report_id"]
            )
        ).scalar_one()
    assert precision == "street"


def test_observation_needs_the_csrf_header(
    demo_app: Any, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    client = _patrol_client(demo_app, make_user, login)
    body = _observation(note="Utan token")
    refused = _post(client, body)
    assert refused.status_code == 400
    assert "säkerhetstoken" in refused.get_json()["error"]
    assert _count_reports(demo_app, "Utan token") == 0
    page = client.get(f"/patrull?datum={DATE}").get_data(as_text=True)
    assert _post(client, body, _config(page)["csrf"]).status_code == 201


def test_key_of_another_user_and_kommun_access(
    demo_app: Any, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    first = _patrol_client(demo_app, make_user, login)
    body = _observation(note="Första användaren")
    assert _post(first, body, _token(first)).status_code == 201
    second = _patrol_client(demo_app, make_user, login)
    clash = _post(second, body, _token(second))
    assert clash.status_code == 409
    assert clash.get_json()["error"] == "Nyckeln har redan använts av en annan användare."
    elsewhere = _patrol_client(demo_app, make_user, login, kommuner=("kungsor",))
    denied = _post(elsewhere, _observation(note="Fel kommun"), _token(elsewhere))
    assert denied.status_code == 403
    assert _count_reports(demo_app, "Fel kommun") == 0


def test_dates_outside_the_supported_years_fall_back_in_swedish(
    app: Any, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    client = _patrol_client(app, make_user, login)
    for day in ("9999-12-31", "0001-01-01"):
        for path in ("/patrull", "/patrull/utskrift"):
            resp = client.get(f"{path}?datum={day}")
            assert resp.status_code == 200, (path, day)
            assert "ligger utanför åren 1900–2200; visar i dag." in resp.get_data(as_text=True)


def test_timestamps_beyond_the_calendar_answer_422_not_500(
    app: Any, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    # a 500 would keep the observation at the head of the phone's queue for ever
    client = _patrol_client(app, make_user, login)
    token = _token(client)
    for when in ("0001-01-01T00:00:00+14:00", "0001-01-01T00:30:00", "9999-12-31T23:59:59-14:00"):
        resp = _post(client, _observation(observed_at=when), token)
        assert resp.status_code == 422, when
        fields = [e["field"] for e in resp.get_json()["errors"]]
        assert fields == ["observed_at"], when
