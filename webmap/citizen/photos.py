"""Citizens' photos without Flask: check, re-encode without metadata, store, decide, erase.

Every upload is decoded with Pillow and written anew as a JPEG, so nothing of the file
that was sent survives except its pixels:

* only JPEG, PNG and HEIC/HEIF are opened (``formats=``: no other Pillow plug-in ever
  parses citizen input), and the declared type (file name extension and content type)
  must match what the bytes are;
* the pixel count is read from the header and checked against :data:`MAX_PIXELS`
  *before* anything is decoded (a 10,000 × 10,000 px "decompression bomb" is refused
  without allocating its 300 MB);
* the EXIF orientation is applied, then the image is copied pixel by pixel into a new
  RGB image: EXIF (GPS included), XMP, ICC profiles and comments do not come along;
* the longest side is at most :data:`MAX_SIDE` px; JPEG quality :data:`JPEG_QUALITY`;
* anything appended to the file (a zip or HTML "polyglot") is never copied.

Files are stored as ``<instance>/photos/<random name>.jpg`` with names from
:mod:`secrets` (never the upload's name); the row of each photo is in
``citizen_photo`` (:mod:`geo.store.photos`).
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.engine import Connection

from geo.store.photos import (
    add_photo,
    delete_photo_rows,
    photo_by_id,
    photo_by_name,
    photo_count,
    photos_of,
    set_photo_status,
)
from webmap.citizen.submissions import FieldError, SubmissionError

try:  # HEIC/HEIF (iPhone photos) through libheif, when the wheel is installed
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF = True
except ImportError:  # pragma: no cover - pillow-heif is a runtime dependency
    HEIF = False

#: Most photos per report.
MAX_PHOTOS = 3
#: Largest upload per photo (bytes).
MAX_BYTES = 8 * 1024 * 1024
#: Largest image accepted (pixels, read from the header before decoding): 50 MP is more
#: than any phone camera writes by default (12–48 MP).
MAX_PIXELS = 50_000_000
#: Longest side of a stored photo (px).
MAX_SIDE = 2048
#: JPEG quality of stored photos.
JPEG_QUALITY = 85
#: Largest request body of an upload with photos (the other fields plus every photo).
MAX_UPLOAD_BODY = (MAX_PHOTOS + 1) * MAX_BYTES + 1024 * 1024

# Pillow's own guard (a warning above, an error at twice this) matches ours
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
Image.init()  # every plug-in registered, so that `formats=` below finds HEIF

_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "HEIF": "HEIC", "MPO": "JPEG"}
_OPEN_FORMATS = ["JPEG", "PNG", *(["HEIF"] if HEIF else [])]
_EXTENSIONS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".jpe": "JPEG",
    ".png": "PNG",
    ".heic": "HEIC",
    ".heif": "HEIC",
}
_MIMETYPES = {
    "image/jpeg": "JPEG",
    "image/pjpeg": "JPEG",
    "image/jpg": "JPEG",  # not registered, but sent by some phones
    "image/png": "PNG",
    "image/x-png": "PNG",
    "image/heic": "HEIC",
    "image/heif": "HEIC",
    "image/heic-sequence": "HEIC",
    "image/heif-sequence": "HEIC",
}
_UNKNOWN_TYPES = ("", "application/octet-stream")
FIELD = "photos"


@dataclass(frozen=True)
class Upload:
    """One uploaded file as the view received it (nothing of it is stored)."""

    filename: str
    mimetype: str
    stream: IO[bytes]


@dataclass(frozen=True)
class CleanPhoto:
    """A re-encoded photo ready to store: JPEG bytes without metadata."""

    data: bytes
    width: int
    height: int


def _label(filename: str, index: int) -> str:
    name = os.path.basename(str(filename or "").replace("\\", "/")).strip()
    name = "".join(ch for ch in name if ch.isprintable())[:80]
    return f"”{name}”" if name else f"Bild {index}"


def _error(code: str, message: str) -> FieldError:
    return FieldError(FIELD, code, message)


def _read_limited(stream: IO[bytes], limit: int) -> bytes | None:
    """At most ``limit`` bytes of ``stream``; None when it holds more."""
    data = stream.read(limit + 1)
    return None if len(data) > limit else data


def _declared(upload: Upload) -> set[str]:
    """Formats the upload claims to be (extension, content type); empty: no claim."""
    out = set()
    ext = os.path.splitext(str(upload.filename or "").lower())[1]
    if ext in _EXTENSIONS:
        out.add(_EXTENSIONS[ext])
    elif ext:
        out.add("?")
    mime = str(upload.mimetype or "").split(";")[0].strip().lower()
    if mime in _MIMETYPES:
        out.add(_MIMETYPES[mime])
    elif mime not in _UNKNOWN_TYPES:
        out.add("?")
    return out


def clean_photo(upload: Upload, index: int = 1) -> CleanPhoto:
    """Check one upload and re-encode it; :class:`SubmissionError` (Swedish) when bad.

    Parameters
    ----------
    upload
        The file as received.
    index
        1-based position of the file (names it when it has no name).
    """
    label = _label(upload.filename, index)
    data = _read_limited(upload.stream, MAX_BYTES)
    if data is None:
        mb = MAX_BYTES // (1024 * 1024)
        raise SubmissionError([_error("too_large", f"{label} är större än {mb} MB.")])
    if not data:
        raise SubmissionError([_error("empty", f"{label} är tom.")])
    not_image = _error(
        "not_an_image",
        f"{label} är ingen bild som kan läsas. Skicka en JPEG-, PNG- eller HEIC-bild.",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise SubmissionError([_bomb(label)]) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        if not HEIF and data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
            raise SubmissionError(
                [_error("heic", f"{label} är en HEIC-bild. Spara den som JPEG och försök igen.")]
            ) from None
        raise SubmissionError([not_image]) from None
    with img:
        kind = _FORMATS.get(str(img.format), "?")
        declared = _declared(upload)
        if declared and declared != {kind}:
            names = {"JPEG": "JPEG", "PNG": "PNG", "HEIC": "HEIC"}
            raise SubmissionError(
                [
                    _error(
                        "type_mismatch",
                        f"{label} är inte den bildtyp som filnamnet eller filtypen anger "
                        f"(innehållet är {names.get(kind, 'okänt')}).",
                    )
                ]
            )
        width, height = img.size
        if width * height > MAX_PIXELS or width < 1 or height < 1:
            raise SubmissionError([_bomb(label)])
        try:
            return _reencode(img)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            raise SubmissionError([not_image]) from None


def _bomb(label: str) -> FieldError:
    mp = MAX_PIXELS // 1_000_000
    return _error(
        "too_many_pixels",
        f"{label} har för många bildpunkter (högst {mp} megapixel). Ta en mindre bild.",
    )


def _reencode(img: Image.Image) -> CleanPhoto:
    """Orientation applied, metadata dropped, longest side ≤ :data:`MAX_SIDE`, JPEG."""
    if img.format in ("JPEG", "MPO"):
        # decode at the smallest DCT scale (1/2, 1/4, 1/8) still ≥ MAX_SIDE: a 48 MP photo
        # is decoded as 12 MP, four times less memory and time, before any pixel is read
        img.draft("RGB", (MAX_SIDE, MAX_SIDE))
    img.load()
    upright = ImageOps.exif_transpose(img) or img
    if upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    ):
        rgba = upright.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
    else:
        flat = upright.convert("RGB")
    flat.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # a new image from the pixels alone: no info, EXIF, XMP, ICC or comment comes along
    bare = Image.frombytes("RGB", flat.size, flat.tobytes())
    out = io.BytesIO()
    bare.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return CleanPhoto(out.getvalue(), bare.width, bare.height)


def clean_photos(uploads: Sequence[Upload], already: int = 0) -> list[CleanPhoto]:
    """Check and re-encode every upload; one :class:`SubmissionError` lists all problems.

    ``already`` counts photos the report has stored before (the API can add photos
    in more than one request, up to :data:`MAX_PHOTOS` in all).
    """
    errors: list[FieldError] = []
    room = MAX_PHOTOS - already
    if len(uploads) > room:
        errors.append(
            _error(
                "too_many",
                f"Högst {MAX_PHOTOS} bilder per rapport: ta bort "
                f"{len(uploads) - max(room, 0)} av de valda.",
            )
        )
    out: list[CleanPhoto] = []
    for i, upload in enumerate(uploads, start=1):
        try:
            out.append(clean_photo(upload, i))
        except SubmissionError as exc:
            errors.extend(exc.errors)
    if errors:
        raise SubmissionError(errors)
    return out


# -- storage ---------------------------------------------------------------------------------


def photo_dir(instance_dir: str | Path) -> Path:
    """Folder of the stored photos of an installation."""
    return Path(instance_dir) / "photos"


def photo_file(folder: Path, name: str) -> Path:
    """Path of the stored photo ``name`` (a name from this module, never user input)."""
    if not name or not all(ch.isalnum() or ch in "-_" for ch in name):
        raise ValueError("invalid photo name")
    return folder / f"{name}.jpg"


def save_photos(
    conn: Connection,
    folder: Path,
    report_id: int,
    photos: Iterable[CleanPhoto],
    written: list[str] | None = None,
) -> list[int]:
    """Write each photo under ``folder`` with a random name and store its row.

    The name of every file written is appended to ``written`` (see
    :func:`files_undone_on_error`: the caller's transaction may still fail).
    """
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    for photo in photos:
        name = secrets.token_urlsafe(24)
        tmp = folder / f".{name}.tmp"
        tmp.write_bytes(photo.data)
        os.replace(tmp, photo_file(folder, name))
        if written is not None:
            written.append(name)
        ids.append(add_photo(conn, report_id, name, photo.width, photo.height, len(photo.data)))
    return ids


@contextlib.contextmanager
def files_undone_on_error(folder: Path) -> Iterator[list[str]]:
    """Collects the names :func:`save_photos` writes; deletes those files on an error.

    Open it *outside* the transaction, so that a failed commit deletes the files too.
    """
    names: list[str] = []
    try:
        yield names
    except BaseException:
        erase_files(folder, names)
        raise


def room_for(conn: Connection, report_id: int) -> int:
    """How many more photos report ``report_id`` may get."""
    return max(MAX_PHOTOS - photo_count(conn, report_id), 0)


def erase_files(folder: Path, names: Iterable[str]) -> None:
    """Delete the files of ``names`` (missing files are fine)."""
    for name in names:
        with contextlib.suppress(ValueError):
            photo_file(folder, name).unlink(missing_ok=True)


def erase_photos(conn: Connection, folder: Path, rows: Sequence[dict[str, Any]]) -> None:
    """Delete the rows and the files of ``rows``."""
    delete_photo_rows(conn, [int(r["id"]) for r in rows])
    erase_files(folder, [str(r["name"]) for r in rows])


def decide_photo(
    conn: Connection, folder: Path, photo_id: int, action: str, actor: str
) -> dict[str, Any] | None:
    """Approve or reject one pending photo; a rejected photo's file is deleted at once.

    Returns the photo row (None when it does not exist or was already decided).
    """
    if action not in ("approve", "reject"):
        raise SubmissionError([_error("action", "Okänt beslut om bilden.")])
    row = photo_by_id(conn, photo_id)
    status = "approved" if action == "approve" else "rejected"
    if row is None or not set_photo_status(conn, photo_id, status, actor):
        return None
    if status == "rejected":
        erase_files(folder, [str(row["name"])])
    return {**row, "status": status}


def close_report_photos(conn: Connection, folder: Path, report_id: int, status: str) -> None:
    """The report was decided: its undecided photos go (all of them when it is rejected).

    The queue shows only pending reports, so a photo nobody approved before the report
    was decided would otherwise wait for ever; it is not kept.
    """
    if status == "rejected":
        erase_photos(conn, folder, photos_of(conn, [report_id]))
        return
    rows = photos_of(conn, [report_id], "pending")
    for row in rows:
        set_photo_status(conn, int(row["id"]), "rejected", "rapportbeslut")
    erase_files(folder, [str(r["name"]) for r in rows])


def receipt_photos(conn: Connection, report_id: int) -> tuple[list[dict[str, Any]], int]:
    """The approved photos of a report (public) and how many still wait for a decision."""
    rows = photos_of(conn, [report_id])
    approved = [r for r in rows if r["status"] == "approved"]
    return approved, sum(1 for r in rows if r["status"] == "pending")


def public_photo(conn: Connection, name: str) -> dict[str, Any] | None:
    """The row of photo ``name`` when the public may see it (approved), else None."""
    if not name or len(name) > 64:
        return None
    row = photo_by_name(conn, name)
    return row if row is not None and row["status"] == "approved" else None


def moderation_photos(conn: Connection, report_ids: Sequence[int]) -> dict[int, list[Any]]:
    """Photos a moderator decides (pending and approved), by report id."""
    out: dict[int, list[Any]] = {int(i): [] for i in report_ids}
    for row in photos_of(conn, report_ids):
        if row["status"] != "rejected":
            out.setdefault(int(row["report_id"]), []).append(row)
    return out


def photo_for_moderator(conn: Connection, photo_id: int) -> dict[str, Any] | None:
    """Photo ``photo_id`` with its report's ``kommun`` unless it was rejected (file gone)."""
    row = photo_by_id(conn, photo_id)
    return None if row is None or row["status"] == "rejected" else row


def retention_hook(folder: Path) -> Any:
    """A :func:`geo.retention.purge_citizen_text` hook erasing the photos of closed reports."""

    def erase_for_retention(conn: Connection, report_ids: list[int]) -> None:
        erase_photos(conn, folder, photos_of(conn, report_ids))

    return erase_for_retention


__all__ = [
    "HEIF",
    "MAX_BYTES",
    "MAX_PHOTOS",
    "MAX_PIXELS",
    "MAX_SIDE",
    "MAX_UPLOAD_BODY",
    "CleanPhoto",
    "Upload",
    "clean_photo",
    "clean_photos",
    "close_report_photos",
    "decide_photo",
    "erase_files",
    "erase_photos",
    "files_undone_on_error",
    "photo_dir",
    "moderation_photos",
    "photo_file",
    "photo_for_moderator",
    "public_photo",
    "receipt_photos",
    "retention_hook",
    "room_for",
    "save_photos",
]
