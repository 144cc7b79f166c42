"""The client key: salted, rotating, never the raw address."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from webmap.privacy import DailySalt, address_to_key, client_key


def test_key_does_not_contain_the_address_and_rotates_daily() -> None:
    day = [dt.date(2026, 11, 18)]
    salt = DailySalt(today=lambda: day[0])
    first = address_to_key("192.0.2.17", salt.current())
    # a keyed hex digest: no dot, so no form of the dotted address can be in it
    assert len(first) == 24 and set(first) <= set("0123456789abcdef")
    assert first != hashlib.sha256(b"192.0.2.17").hexdigest()[:24]  # keyed, not a plain hash
    assert address_to_key("192.0.2.17", salt.current()) == first
    assert address_to_key("192.0.2.18", salt.current()) != first
    day[0] = dt.date(2026, 11, 19)
    assert address_to_key("192.0.2.17", salt.current()) != first


def test_proxy_header_is_honoured_only_when_configured(app: Any) -> None:
    with app.test_request_context(
        "/", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"X-Forwarded-For": "198.51.100.7"}
    ):
        direct = client_key()
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        assert client_key() == direct  # header ignored
    app.config["TRUSTED_PROXY_HEADER"] = "X-Forwarded-For"
    with app.test_request_context(
        "/",
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        headers={"X-Forwarded-For": "203.0.113.5, 198.51.100.7"},
    ):
        proxied = client_key()
    assert proxied != direct
    with app.test_request_context(
        "/", environ_base={"REMOTE_ADDR": "10.0.0.1"}, headers={"X-Forwarded-For": "198.51.100.7"}
    ):
        assert client_key() == proxied  # last entry = the address the proxy saw
