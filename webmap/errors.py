"""App-wide mapping of input errors to Swedish 4xx answers (never a 500 for bad input).

Every error the packages raise on purpose derives from :class:`geo.errors.LagesbildError`;
here its branches are mapped for the whole app:

=================================  ======  ==========================================
exception                          status  body
=================================  ======  ==========================================
:class:`geo.errors.NotFoundError`  404     ``{"error": …}``
:class:`geo.errors.GeocodingError` 503     ``{"error": …}`` (the geocoder, not the input)
``ValidationError`` (+ subclasses) 400     ``{"error": …}`` (problems joined)
:class:`pydantic.ValidationError`  400     ``{"error": …, "errors": [{field, code, message}]}``
:class:`UnicodeError`              400     lone surrogates and other unencodable text
=================================  ======  ==========================================

Other ``LagesbildError`` subclasses are faults of the server, not of the request (a
write that failed after retries): they stay 500s so they are logged and noticed.

JSON is answered under ``/api/`` (or when JSON is preferred), Open311's list of
``{code, description}`` under ``/open311/`` and the HTML error page elsewhere. A view
that knows better (a field-by-field answer) still catches the error itself; these
handlers are the floor under every route.
"""

from __future__ import annotations

from typing import Any

import pydantic
from flask import Flask, jsonify, render_template, request

from geo.errors import GeocodingError, LagesbildError, NotFoundError, ValidationError
from webmap.contracts.common import field_errors

#: Swedish message of an unencodable request (e.g. a lone surrogate ``\\ud800``).
UNICODE_MESSAGE = "Begäran innehåller ogiltiga tecken (ogiltig Unicode)."


def wants_json() -> bool:
    """Whether the current request should be answered with JSON."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_answer(
    status: int,
    message: str,
    errors: list[dict[str, str]] | None = None,
    *,
    as_json: bool = False,
) -> Any:
    """``(response, status)`` of an error in the form the current route speaks
    (``as_json``: JSON whatever the route)."""
    if request.path.startswith("/open311/"):
        from webmap.open311.views import error_response

        details = [f"{e['field']}: {e['message']}" for e in errors] if errors else [message]
        return error_response(status, details)
    if as_json or wants_json():
        body: dict[str, Any] = {"error": message}
        if errors is not None:
            body["errors"] = errors
        return jsonify(body), status
    text = message
    if errors:
        text = message + " " + " ".join(f"{e['field']}: {e['message']}" for e in errors)
    return render_template("error.html", code=status, message=text), status


def _problems_text(exc: LagesbildError) -> str:
    problems = getattr(exc, "problems", None)
    if problems:
        return "; ".join(str(p) for p in problems)[:500]
    return str(exc)[:500] or "Felaktig begäran."


def register_error_handlers(app: Flask) -> None:
    """Map the project's exception root (and pydantic's, and Unicode) to 4xx answers."""

    @app.errorhandler(pydantic.ValidationError)
    def _model(exc: pydantic.ValidationError) -> Any:
        errors = field_errors(exc)
        names = ", ".join(dict.fromkeys(e["field"] for e in errors))
        # the errors of a JSON body are answered in JSON, whatever the route
        return error_answer(400, f"Ogiltiga fält: {names}.", errors, as_json=request.is_json)

    @app.errorhandler(NotFoundError)
    def _not_found(exc: NotFoundError) -> Any:
        return error_answer(404, _problems_text(exc))

    @app.errorhandler(GeocodingError)
    def _geocoder(exc: GeocodingError) -> Any:
        return error_answer(503, "Adressökningen svarar inte just nu. Försök igen senare.")

    @app.errorhandler(ValidationError)
    def _input(exc: ValidationError) -> Any:
        return error_answer(400, "Felaktig begäran: " + _problems_text(exc))

    @app.errorhandler(UnicodeError)
    def _unicode(exc: UnicodeError) -> Any:
        return error_answer(400, UNICODE_MESSAGE)


__all__ = ["UNICODE_MESSAGE", "error_answer", "register_error_handlers", "wants_json"]
