"""Citizens' photos: stored without metadata, refused with Swedish reasons, moderated,
served only when approved, erased by retention (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from _citizen import age_report, api_report, count_reports, engine, form_data, report_by_receipt
from _photos import assert_bare, bomb, gps_jpeg, heic, png, stored_files
from click.testing import CliRunner

from geo.store.photos import photos_of
from webmap.citizen.photos import photo_dir
from webmap.cli import main

RECEIPT_URL = re.compile(r"/rapportera/kvitto/([0-9A-Z-]+)")


def _send_form(client: Any, files: list[tuple[bytes, str, str]], **fields: Any) -> Any:
    data: dict[str, Any] = form_data(client, **fields)
    data["photos"] = [(io.BytesIO(b), name, mime) for b, name, mime in files]
    return client.post("/rapportera", data=data, content_type="multipart/form-data")


def _photos(app: Any, receipt: str) -> list[dict[str, Any]]:
    rid = int(report_by_receipt(app, receipt).report_id)
    with engine(app).connect() as conn:
        return photos_of(conn, [rid])


def _file(app: Any, name: str) -> bytes:
    return (photo_dir(app.instance_path) / f"{name}.jpg").read_bytes()


@pytest.fixture
def planner(planner_client: Any) -> Any:
    return planner_client


def _csrf(client: Any) -> str:
    html = client.get("/moderering").get_data(as_text=True)
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m
    return m.group(1)


def test_form_photo_with_gps_is_stored_and_served_without_metadata(
    app: Any, client: Any, planner: Any
) -> None:
    polyglot = gps_jpeg(tail=b"PK\x03\x04zip<html><script>alert(1)</script></html>")
    resp = _send_form(client, [(polyglot, "IMG_0042.JPG", "image/jpeg"), (png(), "k.png", "")])
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    m = RECEIPT_URL.search(resp.headers["Location"])
    assert m
    receipt = m.group(1)
    rows = _photos(app, receipt)
    assert [r["status"] for r in rows] == ["pending", "pending"]
    first = rows[0]
    assert "IMG_0042" not in first["name"] and len(first["name"]) >= 32
    data = _file(app, first["name"])
    img = assert_bare(data)
    # the EXIF orientation (6: rotate 90°) was applied before the tags were dropped
    assert img.size == (1365, 2048) == (first["width"], first["height"])
    assert first["bytes"] == len(data)
    assert img.getpixel((img.width - 10, 10))[2] > 150  # blue corner now top right
    assert len(stored_files(app)) == 2

    # the public sees nothing yet: the receipt page says the photos wait for moderation
    page = client.get(f"/rapportera/kvitto/{receipt}").get_data(as_text=True)
    assert "2 bilder väntar på granskning" in page and first["name"] not in page
    assert client.get(f"/rapportera/bild/{first['name']}.jpg").status_code == 404

    # moderators see it (never cached), the public does not reach that route
    shown = planner.get(f"/moderering/bild/{first['id']}")
    assert shown.status_code == 200 and shown.headers["Content-Type"] == "image/jpeg"
    assert shown.headers["Cache-Control"] == "private, no-store"
    assert_bare(shown.data)
    anonymous = app.test_client().get(f"/moderering/bild/{first['id']}")
    assert anonymous.status_code in (302, 401) and anonymous.data[:3] != b"\xff\xd8\xff"


def test_bad_files_are_refused_each_named_and_nothing_is_stored(app: Any, client: Any) -> None:
    before = count_reports(app)
    files = [
        (bomb(), "bomb.png", "image/png"),
        (b"Det h\xc3\xa4r \xc3\xa4r ingen bild.\n", "semester.jpg", "image/jpeg"),
        (png(), "maskerad.jpg", "image/jpeg"),  # a PNG claiming to be a JPEG
        (b"\xff\xd8\xff" + b"\0" * (8 * 1024 * 1024), "stor.jpg", "image/jpeg"),
    ]
    resp = _send_form(client, files, description="Mörkt vid tunneln.")
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "”bomb.png” har för många bildpunkter" in html
    assert "”semester.jpg” är ingen bild som kan läsas" in html
    assert "”maskerad.jpg” är inte den bildtyp som filnamnet eller filtypen anger" in html
    assert "”stor.jpg” är större än 8 MB" in html
    assert "Högst 3 bilder per rapport: ta bort 1 av de valda." in html
    assert "Välj bilderna igen" in html
    assert "Mörkt vid tunneln." in html  # what was typed stays in the form
    assert count_reports(app) == before and stored_files(app) == []


def test_heic_is_accepted_as_jpeg_and_other_fields_errors_come_together(
    app: Any, client: Any
) -> None:
    resp = _send_form(client, [(b"inte en bild", "a.jpg", "image/jpeg")], category="")
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "Välj vad rapporten gäller." in html and "”a.jpg” är ingen bild" in html

    resp = _send_form(client, [(heic(), "IMG_1.HEIC", "image/heic")])
    assert resp.status_code == 303
    m = RECEIPT_URL.search(resp.headers["Location"])
    assert m
    (row,) = _photos(app, m.group(1))
    assert (row["width"], row["height"]) == (1200, 900)
    assert_bare(_file(app, row["name"]))


def test_moderator_approves_one_photo_rejects_another_public_sees_only_approved(
    app: Any, client: Any, planner: Any
) -> None:
    resp = _send_form(
        client, [(gps_jpeg(), "a.jpg", "image/jpeg"), (gps_jpeg(orientation=1), "b.jpg", "")]
    )
    m = RECEIPT_URL.search(resp.headers["Location"])
    assert m
    receipt = m.group(1)
    keep, drop = _photos(app, receipt)
    queue = planner.get("/moderering?kommun=norrtalje").get_data(as_text=True)
    assert f"/moderering/bild/{keep['id']}" in queue and f"/moderering/bild/{drop['id']}" in queue
    token = _csrf(planner)
    ok = planner.post(
        f"/moderering/bild/{keep['id']}", data={"action": "approve", "csrf_token": token}
    )
    assert ok.status_code == 302
    no = planner.post(
        f"/moderering/bild/{drop['id']}", data={"action": "reject", "csrf_token": token}
    )
    assert no.status_code == 302
    again = planner.post(  # a stale page cannot overturn a decision
        f"/moderering/bild/{keep['id']}",
        data={"action": "reject", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Bilden är redan granskad" in again.get_data(as_text=True)
    gone = planner.post(
        f"/moderering/bild/{drop['id']}", data={"action": "approve", "csrf_token": token}
    )
    assert gone.status_code == 404  # a rejected photo is gone

    statuses = {r["id"]: r["status"] for r in _photos(app, receipt)}
    assert statuses == {keep["id"]: "approved", drop["id"]: "rejected"}
    assert not (photo_dir(app.instance_path) / f"{drop['name']}.jpg").exists()

    public = app.test_client()
    page = public.get(f"/rapportera/kvitto/{receipt}").get_data(as_text=True)
    assert f"/rapportera/bild/{keep['name']}.jpg" in page and drop["name"] not in page
    served = public.get(f"/rapportera/bild/{keep['name']}.jpg")
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Cache-Control"] == "public, max-age=3600"
    assert_bare(served.data)
    assert public.get(f"/rapportera/bild/{drop['name']}.jpg").status_code == 404
    assert public.get("/rapportera/bild/..%2Fsecret_key.jpg").status_code == 404

    # deciding the report: the photo nobody approved is not kept, the approved one stays
    rid = int(report_by_receipt(app, receipt).report_id)
    done = planner.post(f"/moderering/{rid}", data={"action": "approve", "csrf_token": token})
    assert done.status_code == 302
    assert [r["status"] for r in _photos(app, receipt)] == ["approved", "rejected"]


def test_rejecting_a_report_deletes_all_its_photos(app: Any, client: Any, planner: Any) -> None:
    resp = _send_form(client, [(gps_jpeg(), "a.jpg", "image/jpeg")])
    m = RECEIPT_URL.search(resp.headers["Location"])
    assert m
    rid = int(report_by_receipt(app, m.group(1)).report_id)
    token = _csrf(planner)
    resp = planner.post(f"/moderering/{rid}", data={"action": "reject", "csrf_token": token})
    assert resp.status_code == 302
    assert _photos(app, m.group(1)) == [] and stored_files(app) == []


def test_api_adds_photos_by_receipt_up_to_three(app: Any, client: Any, planner: Any) -> None:
    receipt = api_report(client, description="Klotter").get_json()["receipt"]
    url = f"/api/reports/{receipt}/photos"

    def post(*files: tuple[bytes, str]) -> Any:
        body = {"photos": [(io.BytesIO(b), n) for b, n in files]}
        return client.post(url, data=body, content_type="multipart/form-data")

    assert client.post(url, json={"photos": []}).status_code == 415
    assert client.post("/api/reports/AAAA-BBBB-CCCC/photos", data={}).status_code == 415
    none = client.post(
        "/api/reports/AAAA-BBBB-CCCC/photos",
        data={"photos": (io.BytesIO(png()), "a.png")},
        content_type="multipart/form-data",
    )
    assert none.status_code == 404 and none.get_json()["error"] == "Kvittot finns inte."

    created = post((gps_jpeg(), "a.jpg"), (png(), "b.png"))
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["added"] == 2 and created.get_json()["photos"] == 2

    bad = post((bomb(), "bomb.png"), (b"<html>", "x.jpg"))
    assert bad.status_code == 400
    errors = bad.get_json()["errors"]
    assert [e["field"] for e in errors] == ["photos"] * 3
    messages = " ".join(e["message"] for e in errors)
    assert "Högst 3 bilder" in messages and "”bomb.png”" in messages and "”x.jpg”" in messages
    assert len(_photos(app, receipt)) == 2  # nothing of the refused request was stored

    assert post((png(), "c.png")).status_code == 201
    assert len(_photos(app, receipt)) == 3 and len(stored_files(app)) == 3
    for row in _photos(app, receipt):
        assert_bare(_file(app, row["name"]))

    # once the report is decided, no more photos
    other = api_report(client, description="Annat").get_json()["receipt"]
    rid = int(report_by_receipt(app, other).report_id)
    token = _csrf(planner)
    planner.post(f"/moderering/{rid}", data={"action": "approve", "csrf_token": token})
    late = client.post(
        f"/api/reports/{other}/photos",
        data={"photos": (io.BytesIO(png()), "a.png")},
        content_type="multipart/form-data",
    )
    assert late.status_code == 409


def test_retention_erases_photos_of_closed_reports_and_keeps_open_ones(
    app: Any, client: Any
) -> None:
    def report_with_photo() -> str:
        receipt = str(api_report(client).get_json()["receipt"])
        resp = client.post(
            f"/api/reports/{receipt}/photos",
            data={"photos": (io.BytesIO(gps_jpeg()), "a.jpg")},
            content_type="multipart/form-data",
        )
        assert resp.status_code == 201
        return receipt

    old, new = report_with_photo(), report_with_photo()
    age_report(app, old, 200)
    (old_row,), (new_row,) = _photos(app, old), _photos(app, new)
    folder = photo_dir(app.instance_path)
    env = {
        "LAGESBILD_DATABASE_URL": app.config["DATABASE_URL"],
        "LAGESBILD_INSTANCE_DIR": app.instance_path,
    }
    result = CliRunner().invoke(main, ["retention", "run", "--days", "180", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reports"] == 1
    assert _photos(app, old) == [] and not (folder / f"{old_row['name']}.jpg").exists()
    assert [r["id"] for r in _photos(app, new)] == [new_row["id"]]
    assert (folder / f"{new_row['name']}.jpg").exists()


def test_an_empty_file_input_sends_no_photo(app: Any, client: Any) -> None:
    resp = _send_form(client, [(b"", "", "application/octet-stream")])
    assert resp.status_code == 303, resp.get_data(as_text=True)[:1000]
    m = RECEIPT_URL.search(resp.headers["Location"])
    assert m and _photos(app, m.group(1)) == [] and stored_files(app) == []
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "väntar på granskning." not in page.split("Vad händer nu?")[0]


def test_transparent_png_is_flattened_on_white(app: Any, client: Any) -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 0, 0, 0)).save(out, "PNG")
    resp = _send_form(client, [(out.getvalue(), "genomskinlig.png", "image/png")])
    assert resp.status_code == 303
    m = RECEIPT_URL.search(resp.headers["Location"])
    assert m
    (row,) = _photos(app, m.group(1))
    img = assert_bare(_file(app, row["name"]))
    assert img.mode == "RGB" and min(img.getpixel((150, 100))) > 245


def test_declared_type_must_match_the_content() -> None:
    from webmap.citizen.photos import Upload, clean_photo
    from webmap.citizen.submissions import SubmissionError

    jpeg = gps_jpeg(width=400, height=300, orientation=1)
    for name, mime in [("a.jpeg", "image/jpg"), ("utan-filandelse", ""), ("A.JPG", "image/jpeg")]:
        photo = clean_photo(Upload(name, mime, io.BytesIO(jpeg)))
        assert (photo.width, photo.height) == (400, 300)
    for name, mime in [("a.gif", "image/gif"), ("a.png", ""), ("a.jpg", "image/png")]:
        with pytest.raises(SubmissionError) as info:
            clean_photo(Upload(name, mime, io.BytesIO(jpeg)))
        assert info.value.errors[0].code == "type_mismatch", (name, mime)
        assert f"”{name}”" in info.value.errors[0].message


def test_a_failed_transaction_leaves_no_photo_file(app: Any, client: Any) -> None:
    from webmap.citizen.photos import (
        Upload,
        clean_photo,
        files_undone_on_error,
        save_photos,
    )

    receipt = api_report(client).get_json()["receipt"]
    rid = int(report_by_receipt(app, receipt).report_id)
    photo = clean_photo(Upload("a.png", "image/png", io.BytesIO(png())))
    folder = photo_dir(app.instance_path)
    with (
        pytest.raises(RuntimeError),
        files_undone_on_error(folder) as written,
        engine(app).begin() as conn,
    ):
        save_photos(conn, folder, rid, [photo, photo], written)
        assert len(written) == 2 and len(stored_files(app)) == 2
        raise RuntimeError("the rest of the transaction failed")
    assert stored_files(app) == [] and _photos(app, receipt) == []
