"""Revocable sessions (logout, password change, ``user disable``) and the per-account
login limit."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from webmap.auth.views import set_password
from webmap.cli import main
from webmap.state import EXTENSION_KEY


def _saved_session(client: Any) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return str(cookie.value)


def _replay(app: Any, value: str) -> Any:
    """A fresh client holding only a saved session cookie (as an attacker would)."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def _opens_map(client: Any) -> bool:
    resp = client.get("/karta")
    return resp.status_code == 200


def test_a_cookie_saved_before_logout_no_longer_opens_the_map(
    app: Any, client: Any, make_user: Any, login: Any, csrf_token: Any
) -> None:
    creds = make_user("planner")
    login(client, creds.username, creds.password)
    saved = _saved_session(client)
    assert _opens_map(_replay(app, saved))
    second_device = app.test_client()
    login(second_device, creds.username, creds.password)
    assert client.post("/logga-ut", data={"csrf_token": csrf_token(client, "/")}).status_code == 302
    assert not _opens_map(_replay(app, saved))
    resp = _replay(app, saved).get("/api/karta/norrtalje/tatorter")
    assert resp.status_code == 401 and resp.get_json()["error"] == "Du behöver logga in."
    # logout ends every session of the user, also the one on the other device
    assert not _opens_map(second_device)
    # and a new login works as before
    fresh = app.test_client()
    login(fresh, creds.username, creds.password)
    assert _opens_map(fresh)


def test_password_change_ends_every_session(
    app: Any, client: Any, make_user: Any, login: Any
) -> None:
    creds = make_user("reader")
    login(client, creds.username, creds.password)
    saved = _saved_session(client)
    with app.extensions[EXTENSION_KEY].engine.begin() as conn:
        set_password(conn, creds.username, "ett-nytt-lösenord-1")
    assert not _opens_map(client)
    assert not _opens_map(_replay(app, saved))


def test_user_disable_on_the_command_line_ends_sessions_for_good(
    app: Any, app_config: dict[str, Any], client: Any, make_user: Any, login: Any
) -> None:
    creds = make_user("planner")
    login(client, creds.username, creds.password)
    saved = _saved_session(client)
    env = {
        "LAGESBILD_DATABASE_URL": app_config["DATABASE_URL"],
        "LAGESBILD_INSTANCE_DIR": app_config["INSTANCE_DIR"],
    }
    runner = CliRunner()
    assert runner.invoke(main, ["user", "disable", creds.username], env=env).exit_code == 0
    assert not _opens_map(_replay(app, saved))
    # enabling the account again does not bring the old session back
    assert runner.invoke(main, ["user", "enable", creds.username], env=env).exit_code == 0
    assert not _opens_map(_replay(app, saved))
    login(client, creds.username, creds.password)
    assert _opens_map(client)


def _attempt(app: Any, csrf_token: Any, address: str, username: str, password: str) -> Any:
    client = app.test_client()
    token = csrf_token(client)
    return client.post(
        "/logga-in",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def test_login_attempts_are_limited_per_account_across_addresses(
    app: Any, make_user: Any, csrf_token: Any
) -> None:
    app.config["RATELIMIT_ENABLED"] = True
    target, bystander = make_user("planner"), make_user("planner")
    # ten guesses, each from another address: the per-address limit never trips
    codes = [
        _attempt(app, csrf_token, f"10.0.0.{i}", target.username, f"gissning-{i}").status_code
        for i in range(10)
    ]
    assert codes == [401] * 10
    blocked = _attempt(app, csrf_token, "10.0.1.1", target.username, target.password)
    assert blocked.status_code == 429
    assert "För många inloggningsförsök" in blocked.get_data(as_text=True)
    # the account name is compared case-insensitively
    upper = _attempt(app, csrf_token, "10.0.1.2", target.username.upper(), "x-gissning")
    assert upper.status_code == 429
    # other accounts are not affected
    ok = _attempt(app, csrf_token, "10.0.1.3", bystander.username, bystander.password)
    assert ok.status_code == 302


def test_the_account_limit_does_not_reveal_which_accounts_exist(
    app: Any, make_user: Any, csrf_token: Any
) -> None:
    real = make_user("planner")
    answers: dict[str, tuple[list[int], int, int]] = {}
    for name in (real.username, "finns-inte-alls"):
        codes = [
            _attempt(app, csrf_token, f"10.2.{len(answers)}.{i}", name, "fel-lösen").status_code
            for i in range(11)
        ]
        last = _attempt(app, csrf_token, "10.3.0.1", name, "fel-lösen")
        answers[name] = (codes, last.status_code, last.get_data(as_text=True).count("försök"))
    assert answers[real.username] == answers["finns-inte-alls"]
    assert answers[real.username][0] == [401] * 10 + [429]
