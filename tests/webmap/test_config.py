"""Settings: ``LAGESBILD_*`` variables are typed, checked together and documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from geo.errors import ConfigError, LagesbildError
from webmap.config import Config, load_config

ROOT = Path(__file__).resolve().parents[2]
#: Framework switches set by the code, not by an operator.
INTERNAL = {
    "BABEL_DEFAULT_LOCALE",
    "BABEL_DEFAULT_TIMEZONE",
    "RATELIMIT_ENABLED",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "TESTING",
    "WTF_CSRF_ENABLED",
}


def test_variables_are_read_as_the_type_of_their_setting() -> None:
    cfg = load_config(
        env={
            "LAGESBILD_SMTP_PORT": "2525",
            "LAGESBILD_FAST_SUBMIT": "nej",
            "LAGESBILD_PUBLIC_REPLAY_SECONDS": "0.5",
            "LAGESBILD_SESSION_COOKIE_SECURE": "Ja",
        }
    )
    assert cfg["SMTP_PORT"] == 2525
    assert cfg["FAST_SUBMIT"] is False
    assert cfg["PUBLIC_REPLAY_SECONDS"] == 0.5
    assert cfg["SESSION_COOKIE_SECURE"] is True


def test_every_wrong_value_is_named_in_one_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(
            env={
                "LAGESBILD_SMTP_PORT": "tjugofem",
                "LAGESBILD_FAST_SUBMIT": "kanske",
                "LAGESBILD_MAIL_INTERVAL": "snart",
            }
        )
    text = str(caught.value)
    assert isinstance(caught.value, (LagesbildError, ValueError))
    for name, said in (
        ("LAGESBILD_SMTP_PORT", "heltal"),
        ("LAGESBILD_FAST_SUBMIT", "sant/falskt"),
        ("LAGESBILD_MAIL_INTERVAL", "ett tal"),
    ):
        assert re.search(rf"{name}: '[^']+' är inte [^;]*{said}", text), text


def test_every_operator_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [n for n in dir(Config) if n.isupper() and not n.startswith("_")]
    missing = [
        n
        for n in names
        if n not in INTERNAL
        and f"LAGESBILD_{n}" not in readme
        # grouped rows: `LAGESBILD_SMTP_PORT`, `_USER`, `_PASSWORD` …
        and not re.search(rf"`_{n.split('_', 1)[1]}`", readme)
    ]
    assert missing == []
