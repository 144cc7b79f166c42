/* Place of an action picked on a map: a click sets the point and selects the locality
 * and the hotspot zone under it (drawn from the planner map's APIs). No inline handlers. */
(function () {
  "use strict";
  var box = document.getElementById("action-pickmap");
  if (!box || typeof L === "undefined") { return; }
  var api = box.getAttribute("data-api");
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var locality = document.getElementById("locality");
  var zone = document.getElementById("zone_id");
  var label = document.getElementById("picked");
  var renderer = L.canvas({padding: 0.3});
  var map = L.map(box, {preferCanvas: true, renderer: renderer});
  map.setView([59.76, 18.70], 11);
  var tiles = box.getAttribute("data-tiles");
  if (tiles) { L.tileLayer(tiles, {maxZoom: 19}).addTo(map); }
  L.control.scale({imperial: false}).addTo(map);
  var localities = L.geoJSON(null, {renderer: renderer, interactive: false,
    style: {color: "#17324d", weight: 1.5, fillOpacity: 0.04}}).addTo(map);
  var zones = L.geoJSON(null, {renderer: renderer, interactive: false,
    style: {color: "#222", weight: 1.5, fillColor: "#f2c12e", fillOpacity: 0.35}}).addTo(map);
  var marker = null;

  function inRing(pt, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if (((yi > pt[1]) !== (yj > pt[1])) && (pt[0] < (xj - xi) * (pt[1] - yi) / (yj - yi) + xi)) { inside = !inside; }
    }
    return inside;
  }
  function contains(geom, pt) {
    if (!geom) { return false; }
    var polys = geom.type === "Polygon" ? [geom.coordinates] : geom.type === "MultiPolygon" ? geom.coordinates : [];
    return polys.some(function (poly) {
      return inRing(pt, poly[0]) && !poly.slice(1).some(function (hole) { return inRing(pt, hole); });
    });
  }
  function under(group, pt) {
    var hit = null;
    group.eachLayer(function (l) { if (!hit && contains(l.feature.geometry, pt)) { hit = l.feature.properties; } });
    return hit;
  }
  function selectValue(select, value) {
    if (!select) { return; }
    var has = Array.prototype.some.call(select.options, function (o) { return o.value === value; });
    select.value = has ? value : "";
  }
  function set(latlng, fromClick) {
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    if (marker) { marker.setLatLng(latlng); } else { marker = L.circleMarker(latlng, {radius: 8, color: "#0b5cad", weight: 3}).addTo(map); }
    var text = "Vald punkt";
    if (fromClick) {
      var pt = [latlng.lng, latlng.lat];
      var loc = under(localities, pt);
      var z = under(zones, pt);
      selectValue(locality, loc ? String(loc.code) : "");
      selectValue(zone, z ? String(z.id) : "");
      if (loc) { text += " i " + loc.name; }
      if (z) { text += ", zon " + (z.name || z.id); }
    }
    label.textContent = text + ".";
  }
  function load(path) {
    return fetch(api + path, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : {type: "FeatureCollection", features: []}; });
  }
  Promise.all([load("/tatorter"), load("/zoner")]).then(function (data) {
    localities.addData(data[0]);
    zones.addData(data[1]);
    if (lat.value && lon.value) {
      var ll = L.latLng(Number(lat.value), Number(lon.value));
      set(ll, false);
      map.setView(ll, 15);
    } else {
      var primary = null;
      localities.eachLayer(function (l) { if (!primary && l.feature.properties.primary) { primary = l; } });
      var target = primary || localities;
      if (target.getBounds && target.getBounds().isValid()) { map.fitBounds(target.getBounds()); }
    }
    box.setAttribute("data-ready", "1");
  });
  map.on("click", function (e) { set(e.latlng, true); });
  [lat, lon].forEach(function (input) {
    input.addEventListener("change", function () {
      if (lat.value && lon.value && !isNaN(Number(lat.value)) && !isNaN(Number(lon.value))) {
        set(L.latLng(Number(lat.value), Number(lon.value)), true);
      }
    });
  });
})();
