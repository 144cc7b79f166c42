"""``POST /api/reports`` without Flask's request machinery (a small WSGI layer).

A citizen submission is a small JSON object; routing, the session, login, the
limiter's bookkeeping and the header hooks of Flask cost more than checking and
storing it. :class:`FastSubmit` answers an ordinary submission itself, through the
same functions as the Flask view (:func:`webmap.api.views.check_report` and
:func:`webmap.api.views.store_report`), so the checks, the stored rows and the answer
are the same:

* the first submission goes through Flask and its answer's headers are **recorded**
  (security headers, CSP, ``Cache-Control``…); every later answer carries those
  headers, with its own CSP nonce and ``Content-Length``, and Flask's JSON body;
* the request is checked as the view checks it (``Content-Type: application/json``, a
  ``Content-Length`` of at most 64 kB, a JSON object, an ``Idempotency-Key`` of 1–200
  characters) and then the submission itself; anything the checks refuse goes to
  Flask (with the body it sent), which answers the Swedish error as always, so a
  refused request costs two checks but never a stored row;
* the route's rate limit is counted like Flask-Limiter counts it, only for a request
  that passed the checks (a client over the limit goes to Flask: ``429``);
* once stored, the answer is given here: a stored submission is never handed on.

A request with a cookie or an ``Authorization`` header, or any other route, goes to
Flask unchanged. Setting ``FAST_SUBMIT = False`` leaves every request to Flask.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES

from webmap.api.views import MAX_BODY, check_report, store_report
from webmap.citizen.submissions import MAX_KEY
from webmap.public.replay import Environ, Record, RouteLimits, StartResponse, call_app, sets_cookie
from webmap.public.replay import fresh_nonce as _fresh_nonce

PATH = "/api/reports"
ENDPOINT = "api.create_report"


class FastSubmit:
    """WSGI middleware answering ordinary citizen submissions (see the module docstring).

    Parameters
    ----------
    app
        The Flask app.
    wsgi_app
        The WSGI callable to pass every other request to.
    limits
        The routes' rate limits of ``POST`` requests.
    """

    def __init__(
        self,
        app: Any,
        wsgi_app: Callable[[Environ, StartResponse], Iterable[bytes]],
        limits: RouteLimits,
    ) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.limits = limits
        self.template: Record | None = None
        self.answered = 0

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if (
            environ.get("REQUEST_METHOD") != "POST"
            or environ.get("PATH_INFO") != PATH
            or "HTTP_COOKIE" in environ
            or "HTTP_AUTHORIZATION" in environ
        ):
            return self.wsgi_app(environ, start_response)
        if self.template is None:
            return self._record(environ, start_response)
        data = self._read(environ)
        if data is None:
            return self.wsgi_app(environ, start_response)
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        with self.app.app_context():
            try:
                checked = check_report(data, key)
            except Exception:  # noqa: BLE001 - Flask answers it (a shape error: 400)
                checked = None
            if checked is None or isinstance(checked, tuple):
                return self._to_flask(environ, start_response)
            if not self.limits.allowed(environ, ENDPOINT):
                return self._to_flask(environ, start_response)  # Flask answers 429
            payload, status = store_report(checked)
            body = self.app.json.response(payload).get_data()
        nonce = _fresh_nonce()
        self.answered += 1
        line = f"{status} {HTTP_STATUS_CODES[status].upper()}"  # as werkzeug writes it
        start_response(line, self.template.headers_for(nonce, len(body)))
        return [body]

    def _record(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Flask answers; its headers become the template of later answers."""
        status, headers, body = call_app(self.wsgi_app, environ)
        json_answer = any(
            n.lower() == "content-type" and v.startswith("application/json") for n, v in headers
        )
        if json_answer and not sets_cookie(headers) and status[:3] in ("200", "201"):
            self.template = Record.of(status, headers, b"", ENDPOINT, 0.0)
        start_response(status, headers)
        return [body]

    @staticmethod
    def _read(environ: Environ) -> dict[str, Any] | None:
        """The JSON object of a request the view would accept, else None (the body
        read is put back for Flask)."""
        mimetype = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        if (
            mimetype != "application/json"
            or "HTTP_TRANSFER_ENCODING" in environ
            or (key is not None and not 1 <= len(key) <= MAX_KEY)
        ):
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        if not 0 < length <= MAX_BODY:
            return None
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)  # for Flask, when it answers after all
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return None
        return data if isinstance(data, dict) else None

    def _to_flask(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        environ["wsgi.input"].seek(0)
        return self.wsgi_app(environ, start_response)


_STATUS = {
    200: "200 OK",
    201: "201 CREATED",
    400: "400 BAD REQUEST",
    422: "422 UNPROCESSABLE ENTITY",
}

__all__ = ["ENDPOINT", "PATH", "FastSubmit"]
