/* /karta/publik: draws the published (k-suppressed) cells; filters reload them from
   /api/public/cells. No pins, no individual reports; text via textContent only. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var cfgEl = document.getElementById("map-config");
  var mapEl = document.getElementById("public-map");
  if (!cfgEl || !mapEl || typeof L === "undefined") { return; }
  var cfg = JSON.parse(cfgEl.textContent);
  var map = L.map(mapEl, { keyboard: true });
  map.setView(cfg.centre || [59.76, 18.70], 12);
  if (cfg.tiles) { L.tileLayer(cfg.tiles, { attribution: cfg.attribution, maxZoom: 18 }).addTo(map); }
  if (window.lagesbildLabels) { window.lagesbildLabels(map, cfg.labels); }
  if (cfg.outline) {
    L.geoJSON(cfg.outline, { interactive: false, style: { color: "#17324d", weight: 2, fill: false } }).addTo(map);
  }
  var layer = L.geoJSON(null, {
    style: function (f) {
      return { color: "#3d1400", weight: 1, fillColor: f.properties.colour, fillOpacity: 0.75 };
    },
    onEachFeature: function (f, l) {
      var where = [f.properties.locality, f.properties.near ? "nära " + f.properties.near : ""]
        .filter(Boolean).join(", ");
      var text = f.properties.count + " rapporter" + (where ? " (" + where + ")" : "");
      var tip = document.createElement("span");
      tip.textContent = text;
      l.bindTooltip(tip, { sticky: true });
    }
  }).addTo(map);
  var countEl = document.getElementById("cell-count");
  var groupEl = document.getElementById("group");
  var periodEl = document.getElementById("period");

  function show(data) {
    layer.clearLayers();
    layer.addData(data);
    countEl.textContent = String(data.cells);
    if (data.cells > 0) {
      var b = layer.getBounds();
      if (b.isValid()) { map.fitBounds(b, { maxZoom: 15, padding: [20, 20] }); }
    }
  }

  function reload() {
    var params = new URLSearchParams({ kommun: cfg.kommun, group: groupEl.value, period: periodEl.value });
    fetch(cfg.cellsUrl + "?" + params.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { show(data); } });
  }
  groupEl.addEventListener("change", reload);
  periodEl.addEventListener("change", reload);
  show(JSON.parse(document.getElementById("first-cells").textContent));
}());
