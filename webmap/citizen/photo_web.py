"""Flask side of citizens' photos: uploads of a request, the body limit, serving a file.

The rules (checks, re-encoding, storage, decisions) are in :mod:`webmap.citizen.photos`,
which runs without Flask; the views of the form, the API and moderation use these helpers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import abort, current_app, request, send_file

from webmap.citizen.photos import MAX_UPLOAD_BODY, Upload, photo_dir, photo_file

#: Form and multipart field of the photos.
PHOTO_FIELD = "photos"


def photo_folder() -> Path:
    """The app's photo folder (``<instance>/photos``)."""
    return photo_dir(current_app.instance_path)


def allow_photo_body(endpoints: tuple[str, ...]) -> Any:
    """A blueprint URL-value preprocessor raising the body limit for ``endpoints``.

    It runs before every ``before_request`` function (the CSRF check reads the form), so
    the larger limit (:data:`MAX_UPLOAD_BODY`) applies from the first byte read; every
    other route keeps the app's ``MAX_CONTENT_LENGTH``.
    """

    def preprocess(endpoint: str | None, _values: dict[str, Any] | None) -> None:
        if endpoint in endpoints and request.method == "POST":
            request.max_content_length = MAX_UPLOAD_BODY

    return preprocess


def uploads(field: str = PHOTO_FIELD) -> list[Upload]:
    """The files sent in ``field`` (an empty file input sends a nameless empty part)."""
    out = []
    for f in request.files.getlist(field):
        if not f.filename:
            head = f.stream.read(1)
            if not head:
                continue
            f.stream.seek(0)
        out.append(Upload(str(f.filename or ""), str(f.mimetype or ""), f.stream))
    return out


def photo_response(name: str, cache_control: str) -> Any:
    """The stored JPEG ``name``: fixed ``image/jpeg``, ``nosniff``, ``cache_control``."""
    try:
        path = photo_file(photo_folder(), name)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    resp = send_file(path, mimetype="image/jpeg", conditional=False, etag=False)
    resp.headers["Content-Type"] = "image/jpeg"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = cache_control
    resp.headers["Content-Disposition"] = "inline"
    return resp


__all__ = ["PHOTO_FIELD", "allow_photo_body", "photo_folder", "photo_response", "uploads"]
