"""Folium map builders (pure: no Flask; they return :class:`folium.Map`).

The maps carry no data: each layer is an empty Leaflet feature group registered with
its JSON/GeoJSON API URL, and ``static/js/karta.js`` fetches and draws it (Canvas
renderer, ``preferCanvas``). So the page stays small however many cells there are,
and user text never passes through folium: the browser inserts it with
``textContent``.

Folium links CDNs for Leaflet, jQuery, Bootstrap and awesome-markers by default;
:func:`self_hosted` replaces them with the app's own copy of Leaflet (the only
library these maps need). :func:`map_parts` splits the rendered figure for embedding
in a Jinja page with a CSP nonce on every inline script.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
from branca.element import MacroElement
from jinja2 import Template

from analysis.emerging import PATTERN_LABELS_SV
from analysis.grading import GRADE_COLOURS, GRADE_LABELS

#: Named tile sources; any other non-empty value of ``TILES`` is used as a URL template.
TILE_PRESETS: dict[str, tuple[str, str]] = {
    "osm": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "&copy; OpenStreetMap-bidragsgivare",
    ),
    "lantmateriet": (
        "https://minkarta.lantmateriet.se/map/topowebbcache/?layer=topowebb&style=default"
        "&tilematrixset=3857&Service=WMTS&Request=GetTile&Version=1.0.0&Format=image%2Fpng"
        "&TileMatrix={z}&TileCol={x}&TileRow={y}",
        "&copy; Lantmäteriet",
    ),
}

LEAFLET_JS = "/static/vendor/leaflet/leaflet.js"
LEAFLET_CSS = "/static/vendor/leaflet/leaflet.css"

#: Pattern code (without ``_hot``/``_cold``) -> short symbol shown on zones.
PATTERN_SYMBOLS: dict[str, str] = {
    "new": "★",
    "consecutive": "»",
    "intensifying": "▲",
    "persistent": "■",
    "diminishing": "▼",
    "oscillating": "≈",
    "historical": "◷",
    "sporadic": "⁘",
}


def resolve_tiles(tiles: str | None, attribution: str | None = None) -> tuple[str, str]:
    """``(url_template, attribution)`` for a ``TILES`` setting (``""`` = no tiles)."""
    if not tiles:
        return "", ""
    if tiles in TILE_PRESETS:
        url, attr = TILE_PRESETS[tiles]
        return url, attribution or attr
    if tiles == TILE_PRESETS["osm"][0]:
        return tiles, attribution or TILE_PRESETS["osm"][1]
    return tiles, attribution or ""


def _json_for_script(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


@dataclass(frozen=True)
class LayerSpec:
    """One API-backed layer of a map.

    Attributes
    ----------
    key
        Layer kind understood by ``karta.js`` (``localities``, ``zones``, ``cells``,
        ``actions``, ``police``, ``public_cells``).
    name
        Swedish name in the layer control.
    url
        API URL (without the map state query; ``karta.js`` appends it).
    show
        Visible at start.
    """

    key: str
    name: str
    url: str
    show: bool = True


class ApiLayers(MacroElement):
    """Registers the map, its layer groups and their API URLs for ``karta.js``."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
window.lagesbildMaps = window.lagesbildMaps || [];
window.lagesbildMaps.push({
  map: {{ this._parent.get_name() }},
  groups: { {% for key, group in this.groups %}"{{ key }}": {{ group.get_name() }},{% endfor %} },
  specs: {{ this.specs_json }},
  options: {{ this.options_json }}
});
{% endmacro %}
"""
    )

    def __init__(
        self,
        groups: Sequence[tuple[str, folium.FeatureGroup]],
        specs: Sequence[LayerSpec],
        options: Mapping[str, Any],
    ) -> None:
        super().__init__()
        self._name = "ApiLayers"
        for key, _ in groups:
            if not re.fullmatch(r"[a-z_]+", key):
                raise ValueError(f"bad layer key {key!r}")
        self.groups = list(groups)
        self.specs_json = _json_for_script(
            [{"key": s.key, "name": s.name, "url": s.url, "show": s.show} for s in specs]
        )
        self.options_json = _json_for_script(dict(options))


class PlaceLabels(MacroElement):
    """Place names drawn as text on a map, for orientation when there are no tiles.

    Labels are ``(name, lat, lon, kind)``; ``kind`` ``"tatort"`` is shown at every zoom,
    ``"plats"`` (named squares, streets, stations) from zoom 13. Names reach the page
    as JSON; ``static/js/ortnamn.js`` (loaded after the map script) draws them as text
    nodes, never HTML.
    """

    _template = Template(
        """
{% macro script(this, kwargs) %}
window.lagesbildLabelSets = window.lagesbildLabelSets || [];
window.lagesbildLabelSets.push({
  map: {{ this._parent.get_name() }},
  group: {{ this.group.get_name() }},
  labels: {{ this.labels_json }}
});
{% endmacro %}
"""
    )

    def __init__(self, group: folium.FeatureGroup, labels: Sequence[Sequence[Any]]) -> None:
        super().__init__()
        self._name = "PlaceLabels"
        self.group = group
        rows = []
        for name, lat, lon, kind in labels:
            if kind not in ("tatort", "plats"):
                raise ValueError(f"bad label kind {kind!r}")
            rows.append([str(name), round(float(lat), 5), round(float(lon), 5), kind])
        self.labels_json = _json_for_script(rows)


def add_place_labels(
    m: folium.Map, labels: Sequence[Sequence[Any]], *, show: bool = True
) -> folium.Map:
    """Add an "Ortnamn" layer of place names to ``m`` (see :class:`PlaceLabels`)."""
    if len(labels):
        group = folium.FeatureGroup(name="Ortnamn", show=show)
        group.add_to(m)
        PlaceLabels(group, labels).add_to(m)
    return m


class Legend(MacroElement):
    """A static Swedish legend (trusted HTML built here, never from user data)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function () {
  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "legend");
    div.innerHTML = {{ this.html_json }};
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  legend.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
"""
    )

    def __init__(self, html: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.html_json = _json_for_script(html)


def planner_legend_html() -> str:
    """Legend of the planner map: grades, patterns, cells, actions, police context."""
    grade_rows = "".join(
        f'<div><span class="sw" style="background:{GRADE_COLOURS[g]}"></span>'
        f"{g} {GRADE_LABELS[g]}</div>"
        for g in sorted(GRADE_LABELS)
    )
    patterns = " ".join(
        f"{symbol} {PATTERN_LABELS_SV[f'{rule}_hot'].removesuffix(' hotspot')}"
        for rule, symbol in PATTERN_SYMBOLS.items()
    )
    return (
        "<strong>Bedömning</strong>" + grade_rows + "<strong>Hotspotmönster</strong>"
        f"<div>{patterns}</div>"
        "<strong>Rutor</strong><div>rött = fler rapporter än omgivningen, blått = färre; "
        "starkare färg = fler rapporter</div>"
        "<strong>Åtgärder</strong><div>○ planerad ◐ pågår ● genomförd ✕ avbruten</div>"
        "<strong>Polisen</strong><div>händelser per tätort/kommun – Polisen anger inte "
        "exakt plats</div>"
    )


def public_legend_html(k: int) -> str:
    """Legend of the public start page."""
    return (
        "<strong>Rapporter per område</strong>"
        "<div>Antal godkända rapporter de senaste 12 månaderna per hexagon "
        f"(cirka 0,1 km²). Områden med färre än {int(k)} rapporter visas inte.</div>"
    )


def self_hosted(m: folium.Map) -> folium.Map:
    """Point folium's script/style links at the app's own Leaflet (no CDN)."""
    m.default_js = [("leaflet", LEAFLET_JS)]
    m.default_css = [("leaflet_css", LEAFLET_CSS)]
    return m


def _base_map(
    bounds: Sequence[Sequence[float]] | None,
    tiles: str,
    tiles_attribution: str,
    center: Sequence[float] | None = None,
    zoom: int = 11,
) -> folium.Map:
    m = folium.Map(
        location=list(center) if center else [59.76, 18.70],
        zoom_start=zoom,
        tiles=None,
        prefer_canvas=True,
        control_scale=True,
        width="100%",
        height="100%",
    )
    self_hosted(m)
    url, attr = resolve_tiles(tiles, tiles_attribution)
    if url:
        folium.TileLayer(
            tiles=url, attr=attr or " ", name="Bakgrundskarta", max_zoom=19, control=False
        ).add_to(m)
    if bounds:
        m.fit_bounds([list(bounds[0]), list(bounds[1])])
    return m


@dataclass(frozen=True)
class MapOptions:
    """State handed to ``karta.js`` (JSON)."""

    values: dict[str, Any] = field(default_factory=dict)


def build_api_map(
    layers: Sequence[LayerSpec],
    *,
    bounds: Sequence[Sequence[float]] | None = None,
    tiles: str = "",
    tiles_attribution: str = "",
    legend_html: str | None = None,
    options: Mapping[str, Any] | None = None,
    collapsed_control: bool = False,
    labels: Sequence[Sequence[Any]] = (),
) -> folium.Map:
    """A folium map whose layers are filled from API URLs by ``karta.js``.

    Parameters
    ----------
    layers
        Layer specs in drawing order (later ones on top).
    bounds
        ``[[south, west], [north, east]]`` to fit.
    tiles, tiles_attribution
        Tile URL template or preset name (``""`` = no tiles, as in tests).
    legend_html
        Static legend (trusted HTML).
    options
        Extra state for ``karta.js`` (kommun, week, filters, max cells ...).
    labels
        Place names ``(name, lat, lon, kind)`` for an "Ortnamn" layer on top, shown
        at start when there are no tiles (see :func:`add_place_labels`).
    """
    m = _base_map(bounds, tiles, tiles_attribution)
    groups = []
    for spec in layers:
        group = folium.FeatureGroup(name=spec.name, show=spec.show)
        group.add_to(m)
        groups.append((spec.key, group))
    add_place_labels(m, labels, show=not resolve_tiles(tiles)[0])
    folium.LayerControl(collapsed=collapsed_control).add_to(m)
    if legend_html:
        Legend(legend_html).add_to(m)
    ApiLayers(groups, layers, options or {}).add_to(m)
    return m


def build_planner_map(
    api_base: str,
    *,
    bounds: Sequence[Sequence[float]] | None = None,
    tiles: str = "",
    tiles_attribution: str = "",
    options: Mapping[str, Any] | None = None,
    labels: Sequence[Sequence[Any]] = (),
) -> folium.Map:
    """The planner map (``/karta``): localities, cells, zones, actions, police context.

    ``api_base`` is the kommun's layer API prefix, e.g. ``/api/karta/norrtalje``.
    """
    layers = [
        LayerSpec("localities", "Tätorter (bedömning)", f"{api_base}/tatorter"),
        LayerSpec("police", "Polisens händelser (sammanhang)", f"{api_base}/polisen", False),
        LayerSpec("cells", "Rutor (antal rapporter)", f"{api_base}/celler", False),
        LayerSpec("zones", "Hotspotzoner", f"{api_base}/zoner"),
        LayerSpec("actions", "Åtgärder", f"{api_base}/atgarder"),
    ]
    return build_api_map(
        layers,
        bounds=bounds,
        tiles=tiles,
        tiles_attribution=tiles_attribution,
        legend_html=planner_legend_html(),
        options=options,
        labels=labels,
    )


def build_public_map(
    api_base: str,
    *,
    k: int,
    bounds: Sequence[Sequence[float]] | None = None,
    tiles: str = "",
    tiles_attribution: str = "",
    options: Mapping[str, Any] | None = None,
    labels: Sequence[Sequence[Any]] = (),
) -> folium.Map:
    """The public start page map: localities and k-suppressed counts per cell."""
    layers = [
        LayerSpec("public_localities", "Tätorter", f"{api_base}/tatorter"),
        LayerSpec("public_cells", "Rapporter per område", f"{api_base}/celler"),
    ]
    return build_api_map(
        layers,
        bounds=bounds,
        tiles=tiles,
        tiles_attribution=tiles_attribution,
        legend_html=public_legend_html(k),
        options=options,
        labels=labels,
    )


@dataclass(frozen=True)
class MapParts:
    """A rendered folium figure split for embedding: header links/styles, the map div and
    the map script (without ``<script>`` tags)."""

    header: str
    html: str
    script: str


_BARE_SCRIPT = re.compile(r"<script>")


def map_parts(m: folium.Map, nonce: str = "") -> MapParts:
    """Render ``m`` and split it; inline ``<script>`` tags of the header get ``nonce``."""
    fig: Any = m.get_root()
    fig.render()
    header = fig.header.render()
    if nonce:
        header = _BARE_SCRIPT.sub(f'<script nonce="{nonce}">', header)
    # drop folium's full-page styles for html/body/#map: the app's layout owns the page
    header = re.sub(r"<style>html, body \{.*?</style>", "", header, flags=re.S)
    header = re.sub(r"<style>#map \{.*?</style>", "", header, flags=re.S)
    header = re.sub(r'<meta name="viewport"[^>]*/>', "", header, flags=re.S)
    return MapParts(header=header, html=fig.html.render(), script=fig.script.render())
