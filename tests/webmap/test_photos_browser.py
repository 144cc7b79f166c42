"""Photos through a phone-sized Chromium: chosen, thumbnailed, one removed, sent; bad files
refused on the page; a moderator approves one and rejects another; the public sees one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from _citizen import browser_login, engine, report_by_receipt, serious_violations
from _photos import assert_bare, bomb, gps_jpeg, png

from geo.store.photos import photos_of
from webmap.citizen.photos import photo_dir

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _file(name: str, data: bytes, mime: str) -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": data}


def _start_report(page: Any, base: str, description: str, *files: dict[str, Any]) -> None:
    """A report form with a place, a category, ``description`` and ``files`` chosen."""
    page.goto(f"{base}/rapportera")
    page.locator("#map").click(position={"x": 150, "y": 150})
    assert page.locator("#lat").input_value() != ""
    page.locator("#cat-belysning").check()
    page.locator("#description").fill(description)
    page.set_input_files("#photos", files=list(files))


def _photos(app: Any, receipt: str) -> list[dict[str, Any]]:
    rid = int(report_by_receipt(app, receipt).report_id)
    with engine(app).connect() as conn:
        return photos_of(conn, [rid])


def _loaded_images(page: Any, selector: str) -> list[int]:
    return list(
        page.eval_on_selector_all(selector, "els => els.map(e => e.complete ? e.naturalWidth : 0)")
    )


def test_phone_upload_strips_metadata_bad_files_refused_moderator_decides_per_photo(
    app: Any, live_server: str, browser_page: Any, make_user: Any, tmp_path: Path
) -> None:
    page = browser_page
    page.set_viewport_size(PHONE)

    # 1. three photos chosen, thumbnails shown, one removed before sending
    _start_report(
        page,
        live_server,
        "Trasig belysning i gångtunneln.",
        _file("IMG_0001.jpg", gps_jpeg(), "image/jpeg"),
        _file("IMG_0002.jpg", gps_jpeg(orientation=1), "image/jpeg"),
        _file("skarmbild.png", png(), "image/png"),
    )
    thumbs = page.locator("#photo-list li")
    assert thumbs.count() == 3
    page.wait_for_function(
        "() => [...document.querySelectorAll('#photo-list img')].every(i => i.naturalWidth > 0)"
    )
    page.get_by_role("button", name="Ta bort skarmbild.png").click()
    assert thumbs.count() == 2
    assert "skarmbild.png togs bort" in page.locator("#photo-status").inner_text()
    assert page.evaluate("document.getElementById('photos').files.length") == 2
    # keyboard: Tab reaches the (visually replaced) file input and its button shows focus
    page.locator("#description").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "photos"
    pick = "getComputedStyle(document.querySelector('.photo-pick')).outlineStyle"
    assert page.evaluate(pick) != "none"
    assert page.locator(".photo-pick").inner_text() == "Ta eller välj bilder"
    page.locator("#field-photos").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "formular-med-bilder.png"))
    assert serious_violations(page) == []
    page.locator("#submit-report").click()
    page.wait_for_url(re.compile(r".*/rapportera/kvitto/.*"))
    receipt = page.locator("#receipt-number").inner_text().strip()
    assert "2 bilder väntar på granskning" in page.locator("#photos-pending").inner_text()

    rows = _photos(app, receipt)
    assert len(rows) == 2
    folder = photo_dir(app.instance_path)
    for row in rows:
        img = assert_bare((folder / f"{row['name']}.jpg").read_bytes())
        assert max(img.size) == 2048
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{r['name']}.jpg" for r in rows)

    # 2. a decompression bomb and a text file named .jpg: refused, said on the page
    _start_report(
        page,
        live_server,
        "Andra försöket.",
        _file("bomb.png", bomb(), "image/png"),
        _file("semester.jpg", "Det här är ingen bild.".encode(), "image/jpeg"),
    )
    page.locator("#submit-report").click()
    page.wait_for_load_state("domcontentloaded")
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    text = summary.inner_text()
    assert "”bomb.png” har för många bildpunkter (högst 50 megapixel)" in text
    assert "”semester.jpg” är ingen bild som kan läsas" in text
    assert page.locator("#err-photos").first.is_visible()
    assert page.locator("#description").input_value() == "Andra försöket."
    assert serious_violations(page) == []
    assert len(list(folder.iterdir())) == 2  # nothing of it was stored

    # 3. a moderator approves one photo and rejects the other
    planner = make_user("planner")
    browser_login(page, live_server, planner)
    page.goto(f"{live_server}/moderering?kommun=norrtalje")
    item = page.locator(f'article[data-receipt="{receipt}"]')
    assert all(w > 0 for w in _loaded_images(page, f'article[data-receipt="{receipt}"] img'))
    assert item.locator(".mod-photos img").count() == 2
    item.locator(".mod-photos").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "moderering.png"))
    assert serious_violations(page) == []
    keep, drop = rows
    page.locator(f"#photo-{keep['id']} button[value=approve]").click()
    page.wait_for_load_state("networkidle")
    assert "får visas" in page.locator(".flashes").inner_text()
    page.locator(f"#photo-{drop['id']} button[value=reject]").click()
    page.wait_for_load_state("networkidle")
    assert "avvisades och raderades" in page.locator(".flashes").inner_text()
    assert not (folder / f"{drop['name']}.jpg").exists()

    # 4. the public sees the approved photo only
    public = page.context.browser.new_context(locale="sv-SE", viewport=PHONE)
    try:
        other = public.new_page()
        other.goto(f"{live_server}/rapportera/kvitto/{receipt}")
        shown = other.locator("#receipt-photos img")
        assert shown.count() == 1
        assert shown.get_attribute("src") == f"/rapportera/bild/{keep['name']}.jpg"
        assert _loaded_images(other, "#receipt-photos img")[0] > 0
        other.screenshot(path=str(tmp_path / "kvitto.png"), full_page=True)
        resp = other.request.get(f"{live_server}/rapportera/bild/{keep['name']}.jpg")
        assert resp.status == 200 and resp.headers["content-type"] == "image/jpeg"
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert_bare(resp.body())
        assert other.request.get(f"{live_server}/rapportera/bild/{drop['name']}.jpg").status == 404
        guarded = other.request.get(f"{live_server}/moderering/bild/{keep['id']}")
        assert "/logga-in" in guarded.url and guarded.headers["content-type"] != "image/jpeg"
    finally:
        public.close()

    assert page.foreign_requests(live_server) == []
    assert page.dialogs == []
