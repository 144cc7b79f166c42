"""``POST /api/reports`` answered without Flask's request machinery (fast_submit.py)."""

from __future__ import annotations

import json
import re
import threading
import urllib.request
import uuid
from typing import Any

import pytest
from _citizen import (
    INSIDE,
    OUTSIDE,
    behind_proxy,
    count_citizen_rows,
    count_reports,
    report_by_receipt,
)

from webmap.citizen.fast_submit import FastSubmit
from webmap.serving import BackgroundServer

NONCE = re.compile(r"'nonce-([A-Za-z0-9_\-]+)'")
BODY = {"category": "klotter", "lat": INSIDE[0], "lon": INSIDE[1], "description": "Klotter"}


def _layer(app: Any) -> FastSubmit:
    layer = app.wsgi_app
    while not isinstance(layer, FastSubmit):
        layer = layer.wsgi_app
    return layer


def _post(app: Any, body: Any = None, key: str | None = None, **headers: str) -> Any:
    sent = {"Idempotency-Key": key} if key else {}
    return app.test_client().post(
        "/api/reports",
        data=json.dumps(body or BODY),
        content_type="application/json",
        headers={**sent, **headers},
    )


def _headers(resp: Any) -> dict[str, str]:
    nonce = NONCE.search(resp.headers["Content-Security-Policy"])
    assert nonce is not None
    out = {k: v.replace(nonce.group(1), "NONCE") for k, v in resp.headers.items()}
    out.pop("Content-Length")
    return out


def test_submissions_are_stored_once_with_flasks_headers(app: Any) -> None:
    layer = _layer(app)
    first = _post(app)  # through Flask: its headers are the template
    assert first.status_code == 201 and layer.answered == 0
    second, third = _post(app), _post(app, key="k-1")
    assert second.status_code == third.status_code == 201
    assert layer.answered == 2
    assert _headers(second) == _headers(first) == _headers(third)
    assert second.headers["Content-Length"] == str(len(second.get_data()))
    assert NONCE.search(second.headers["Content-Security-Policy"]).group(1) != NONCE.search(
        third.headers["Content-Security-Policy"]
    ).group(1)
    assert set(second.get_json()) == set(first.get_json())
    row = report_by_receipt(app, third.get_json()["receipt"])
    assert row.status == "pending" and row.category == "klotter" and row.channel == "api"
    assert count_reports(app) == count_citizen_rows(app) == 3


def test_a_repeated_key_returns_the_first_receipt_and_a_changed_body_is_refused(
    app: Any,
) -> None:
    _post(app)
    a, b = _post(app, key="same"), _post(app, key="same")
    assert (a.status_code, b.status_code) == (201, 200)
    assert a.get_json()["receipt"] == b.get_json()["receipt"]
    changed = _post(app, {**BODY, "category": "nedskrapning"}, key="same")
    assert changed.status_code == 422 and "Idempotency-Key" in changed.get_json()["error"]
    assert count_reports(app) == 2
    assert _layer(app).answered == 3


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        ({"category": "klotter"}, {}, 400),  # no position
        ({**BODY, "lat": OUTSIDE[0], "lon": OUTSIDE[1]}, {}, 400),
        ({**BODY, "kommun": "finns-inte"}, {}, 404),
        ({**BODY, "category": 7}, {}, 400),  # shape error: the app's handler
        ([1, 2], {}, 400),
        (BODY, {"Idempotency-Key": "x" * 201}, 400),
    ],
)
def test_refused_submissions_get_flasks_swedish_answer_and_store_nothing(
    app: Any, body: Any, headers: dict[str, str], status: int
) -> None:
    _post(app)
    resp = _post(app, body, **headers)
    assert resp.status_code == status
    assert resp.get_json()["error"]
    assert count_reports(app) == 1
    assert _layer(app).answered == 0


def test_a_body_that_is_not_json_is_refused_by_flask(app: Any) -> None:
    _post(app)
    resp = app.test_client().post(
        "/api/reports", data=b"{not json", content_type="application/json"
    )
    assert resp.status_code == 400 and "JSON" in resp.get_json()["error"]
    assert count_reports(app) == 1


class TestRateLimit:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return behind_proxy(app_config, CITIZEN_RATE_LIMIT="3/minute")

    def test_the_per_client_limit_holds(self, app: Any) -> None:
        one = {"X-Forwarded-For": "198.51.100.31"}
        codes = [_post(app, **one).status_code for _ in range(4)]
        assert codes == [201, 201, 201, 429]
        assert _layer(app).answered == 2
        assert _post(app, **{"X-Forwarded-For": "198.51.100.32"}).status_code == 201
        assert count_reports(app) == 4


class TestOverHttp:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "CITIZEN_RATE_LIMIT": "1000/minute"}

    def test_concurrent_copies_are_stored_once(self, app: Any) -> None:
        """A real server: copies of one submission sent at once give one row and one receipt."""
        statuses: list[int] = []
        receipts: set[str] = set()
        lock = threading.Lock()

        def send(url: str, key: str) -> None:
            request = urllib.request.Request(
                url + "api/reports",
                data=json.dumps(BODY).encode(),
                headers={"Content-Type": "application/json", "Idempotency-Key": key},
            )
            with urllib.request.urlopen(request, timeout=30) as resp:
                got = json.loads(resp.read())
                with lock:
                    statuses.append(resp.status)
                    receipts.add(got["receipt"])

        with BackgroundServer(app, threads=8) as server:
            send(server.url, "warm-up")
            keys = [uuid.uuid4().hex for _ in range(5)]
            threads = [
                threading.Thread(target=send, args=(server.url, key))
                for key in keys
                for _ in range(4)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert sorted(statuses).count(201) == 6 and len(statuses) == 21
        assert len(receipts) == 6
        assert count_reports(app) == count_citizen_rows(app) == 6
        assert _layer(app).answered >= 20
