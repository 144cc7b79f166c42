"""Login, logout, roles, disabled users and the login rate limit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from geo.store.tables import users
from webmap.auth.views import authenticate, safe_next, set_active
from webmap.state import EXTENSION_KEY


def test_password_is_stored_as_argon2_hash(app: Any, make_user: Any) -> None:
    creds = make_user("reader", password="hemligt-lösen-1")
    engine = app.extensions[EXTENSION_KEY].engine
    with engine.connect() as conn:
        stored = conn.execute(
            select(users.c.password_hash).where(users.c.username == creds.username)
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "hemligt" not in stored
    assert authenticate(engine, creds.username, "hemligt-lösen-1") is not None
    assert authenticate(engine, creds.username, "fel-lösen-123") is None
    assert authenticate(engine, "finns-inte", "hemligt-lösen-1") is None


def test_login_page_is_swedish_and_login_redirects_by_role(
    client: Any, make_user: Any, login: Any
) -> None:
    page = client.get("/logga-in").get_data(as_text=True)
    assert "Användarnamn" in page and "Lösenord" in page
    creds = make_user("planner")
    resp = login(client, creds.username, creds.password)
    assert resp.headers["Location"].endswith("/karta")


def test_wrong_password_is_refused(client: Any, make_user: Any, csrf_token: Any) -> None:
    creds = make_user("planner")
    token = csrf_token(client)
    resp = client.post(
        "/logga-in", data={"username": creds.username, "password": "nope-nope", "csrf_token": token}
    )
    assert resp.status_code == 401
    assert "Fel användarnamn eller lösenord" in resp.get_data(as_text=True)


def test_login_without_csrf_token_is_rejected(client: Any, make_user: Any) -> None:
    creds = make_user("planner")
    resp = client.post("/logga-in", data={"username": creds.username, "password": creds.password})
    assert resp.status_code == 400


def test_next_parameter_cannot_redirect_elsewhere(
    client: Any, make_user: Any, csrf_token: Any
) -> None:
    creds = make_user("reader")
    token = csrf_token(client)
    resp = client.post(
        "/logga-in?next=//evil.example/x",
        data={"username": creds.username, "password": creds.password, "csrf_token": token},
    )
    assert resp.status_code == 302
    assert "evil" not in resp.headers["Location"]
    assert safe_next("/karta?vecka=2026-W47") == "/karta?vecka=2026-W47"
    for bad in ("https://evil.example/", "//evil.example", "karta", "/\\evil.example"):
        assert safe_next(bad) is None


def test_login_is_rate_limited_per_client(client: Any, make_user: Any, csrf_token: Any) -> None:
    creds = make_user("planner")
    token = csrf_token(client)
    codes = [
        client.post(
            "/logga-in",
            data={"username": creds.username, "password": "wrong-pass", "csrf_token": token},
        ).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [401] * 10
    assert codes[10] == 429
    # even the right password is refused while limited
    resp = client.post(
        "/logga-in",
        data={"username": creds.username, "password": creds.password, "csrf_token": token},
    )
    assert resp.status_code == 429


def test_logout_requires_post_and_ends_session(
    client: Any, make_user: Any, login: Any, csrf_token: Any
) -> None:
    creds = make_user("planner")
    login(client, creds.username, creds.password)
    assert client.get("/logga-ut").status_code == 405
    token = csrf_token(client, "/")
    assert client.post("/logga-ut", data={"csrf_token": token}).status_code == 302
    # a protected POST-only route now refuses
    resp = client.post("/logga-ut", data={"csrf_token": csrf_token(client)})
    assert resp.status_code == 302 and "/logga-in" in resp.headers["Location"]


def test_disabled_user_is_logged_out_and_cannot_log_in(
    app: Any, client: Any, make_user: Any, login: Any, csrf_token: Any
) -> None:
    creds = make_user("planner")
    login(client, creds.username, creds.password)
    engine = app.extensions[EXTENSION_KEY].engine
    with engine.begin() as conn:
        set_active(conn, creds.username, False)
    token = csrf_token(client)
    resp = client.post("/logga-ut", data={"csrf_token": token})
    assert resp.status_code == 302 and "/logga-in" in resp.headers["Location"]
    resp = client.post(
        "/logga-in",
        data={"username": creds.username, "password": creds.password, "csrf_token": token},
    )
    assert resp.status_code == 401


def test_session_cookie_flags(client: Any, make_user: Any, login: Any) -> None:
    creds = make_user("planner")
    resp = login(client, creds.username, creds.password)
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
