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

  var fitted = false;
  function show(data) {
    layer.clearLayers();
    layer.addData(data);
    countEl.textContent = String(data.cells);
    if (data.cells > 0 && !fitted) {
      /* open around the busiest area (the whole kommun would make the areas specks) */
      fitted = true;
      var busiest = null;
      layer.eachLayer(function (l) {
        if (!busiest || l.feature.properties.count > busiest.feature.properties.count) { busiest = l; }
      });
      var centre = busiest.getBounds().getCenter();
      var near = L.latLngBounds([centre, centre]);
      layer.eachLayer(function (l) {
        var c = l.getBounds().getCenter();
        if (centre.distanceTo(c) < 4000) { near.extend(l.getBounds()); }
      });
      map.fitBounds(near, { maxZoom: 15, padding: [20, 20] });
    }
  }

  function reload() {
    var params = new URLSearchParams({ kommun: cfg.kommun, group: groupEl.value, period: periodEl.value });
    fetch(cfg.cellsUrl + "?" + params.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { show(data); } });
  }
  /* Published grades: the graded localities' outlines in their grade colour, labelled. */
  var GRADE_COLOURS = {1: "#1a6b32", 2: "#6aa84f", 3: "#d4a106", 4: "#e07b00", 5: "#b71c1c"};
  var gradesEl = document.getElementById("grades");
  if (gradesEl) {
    var graded = {};
    JSON.parse(gradesEl.textContent).forEach(function (g) { if (g.grade) { graded[g.code] = g; } });
    if (Object.keys(graded).length) {
      fetch(gradesEl.getAttribute("data-url"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (fc) {
          if (!fc) { return; }
          fc.features = fc.features.filter(function (f) { return graded[f.properties.code]; });
          L.geoJSON(fc, {
            interactive: false,
            style: function (f) {
              return { color: GRADE_COLOURS[graded[f.properties.code].grade], weight: 4, fill: false, dashArray: "8 4" };
            },
            onEachFeature: function (f, l) {
              var g = graded[f.properties.code];
              var label = document.createElement("span");
              label.className = "grade-label g" + g.grade;
              label.textContent = g.name + ": " + g.grade + " " + (g.label || "");
              L.marker(l.getBounds().getCenter(), { interactive: false, keyboard: false,
                icon: L.divIcon({ html: label, className: "grade-label-icon", iconSize: null }) }).addTo(map);
            }
          }).addTo(map);
        });
    }
  }
  groupEl.addEventListener("change", reload);
  periodEl.addEventListener("change", reload);
  show(JSON.parse(document.getElementById("first-cells").textContent));
}());
