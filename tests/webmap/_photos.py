"""Test images for the photo tests (made here, nothing committed; not a test module)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image, ImageCms

from webmap.citizen.photos import photo_dir

#: GPS IFD of a position in Norrtälje (what a phone writes into EXIF).
GPS = {1: "N", 2: (59.0, 45.0, 27.7), 3: "E", 4: (18.0, 41.0, 56.4), 0: b"\x02\x02\x00\x00"}
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>Anna Svensson</rdf:RDF></x:xmpmeta>'


def gps_jpeg(
    width: int = 3000, height: int = 2000, orientation: int = 6, tail: bytes = b""
) -> bytes:
    """A JPEG with EXIF (GPS, camera, orientation), XMP, an ICC profile and a comment."""
    img = Image.new("RGB", (width, height), (180, 40, 40))
    img.paste((20, 20, 200), (0, 0, width // 4, height // 4))  # a blue top-left corner
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Telefonbolaget"  # Make
    exif[0x0110] = "Telefon 15"  # Model
    exif[0x8825] = GPS
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes(), icc_profile=icc, comment=b"hemligt", xmp=XMP)
    data = out.getvalue()
    # the test file must really carry what the store has to drop
    back = Image.open(io.BytesIO(data))
    assert back.getexif().get_ifd(0x8825) and back.info.get("icc_profile") and back.info["xmp"]
    return data + tail


def png(width: int = 400, height: int = 300) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 160, 60)).save(out, "PNG")
    return out.getvalue()


def bomb() -> bytes:
    """A 10,000 × 10,000 px PNG (≈ 100 kB on disk, 100 megapixels decoded)."""
    out = io.BytesIO()
    Image.new("L", (10_000, 10_000)).save(out, "PNG", optimize=True)
    return out.getvalue()


def heic() -> bytes:
    import pillow_heif  # noqa: F401  (registers the HEIF writer)

    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (90, 90, 200)).save(out, "HEIF")
    return out.getvalue()


def assert_bare(data: bytes) -> Any:
    """``data`` is a JPEG without any metadata and at most 2048 px; returns the image."""
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG"
    assert max(img.size) <= 2048
    assert len(img.getexif()) == 0 and not img.getexif().get_ifd(0x8825)
    assert "exif" not in img.info and "icc_profile" not in img.info
    assert "xmp" not in img.info and "comment" not in img.info
    assert b"Exif" not in data and b"xmpmeta" not in data and b"ICC_PROFILE" not in data
    assert b"hemligt" not in data and b"Telefon" not in data
    assert data.endswith(b"\xff\xd9")  # nothing appended
    return img


def stored_files(app: Any) -> list[Path]:
    folder = photo_dir(app.instance_path)
    return sorted(folder.glob("*.jpg")) if folder.exists() else []
