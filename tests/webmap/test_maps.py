"""Map builders: pure functions returning ``folium.Map``; no CDN; labels stay text."""

from __future__ import annotations

import pytest

from webmap.render.maps import build_planner_map, build_public_map, resolve_tiles

LABELS = [
    ("Norrtälje", 59.758, 18.705, "tatort"),
    ('<img src=x onerror=alert(1)></script>"', 59.757, 18.699, "plats"),
]


def _html(tiles: str = "") -> str:
    m = build_planner_map("/api/karta/norrtalje", tiles=tiles, labels=LABELS)
    return m.get_root().render()


def test_place_labels_reach_the_page_as_escaped_json() -> None:
    html = _html()
    assert "lagesbildLabelSets" in html and '"Norrtälje"' in html
    assert "<img src=x" not in html and "</script>\\" not in html
    assert "\\u003cimg src=x onerror=alert(1)\\u003e\\u003c/script\\u003e" in html


def test_labels_show_at_start_only_without_tiles() -> None:
    import re

    def shown(html: str) -> bool:
        found = re.search(r'"Ortnamn" : (feature_group_\w+)', html)  # the layer control
        assert found is not None
        return f"{found.group(1)}.addTo(" in html  # on the map at start

    offline = _html()
    online = _html("osm")
    assert "tile.openstreetmap.org" in online and "tile.openstreetmap.org" not in offline
    assert shown(offline) and not shown(online)


def test_public_map_without_labels_has_no_label_layer() -> None:
    html = build_public_map("/api/publik/norrtalje", k=3).get_root().render()
    assert "Ortnamn" not in html and "lagesbildLabelSets" not in html
    assert "cdn" not in html.lower()


def test_tile_presets_resolve_with_their_attribution() -> None:
    url, attr = resolve_tiles("lantmateriet")
    assert url.startswith("https://minkarta.lantmateriet.se/") and "Lantmäteriet" in attr
    osm = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert resolve_tiles("osm", "egen") == (osm, "egen")
    assert resolve_tiles("") == ("", "")
    with pytest.raises(ValueError, match="bad label kind"):
        build_planner_map("/x", labels=[("A", 59.0, 18.0, "gata")])


def test_legend_names_the_patterns_as_the_analysis_does() -> None:
    from analysis.emerging import PATTERN_LABELS_SV
    from webmap.render.maps import PATTERN_SYMBOLS, planner_legend_html

    legend = planner_legend_html()
    for rule, symbol in PATTERN_SYMBOLS.items():
        name = PATTERN_LABELS_SV[f"{rule}_hot"].removesuffix(" hotspot")
        assert f"{symbol} {name}" in legend
    assert "≈ växlande" in legend and "oscillerande" not in legend
