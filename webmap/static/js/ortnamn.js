/* Place names ("Ortnamn") as text labels: orientation on maps without background tiles.
 * window.lagesbildLabels(map, labels[, group]) draws [name, lat, lon, kind] rows; kind
 * "tatort" shows at every zoom, "plats" (squares, streets, stations) from zoom 13. Names
 * become text nodes, never HTML. Folium maps queue their labels in
 * window.lagesbildLabelSets before this file loads; they are drawn here. */
(function () {
  "use strict";
  if (typeof L === "undefined") { return; }

  function draw(map, labels, group) {
    var target = group || L.layerGroup().addTo(map);
    (labels || []).forEach(function (p) {
      var span = document.createElement("span");
      span.className = "map-label map-label-" + (p[3] === "tatort" ? "tatort" : "plats");
      span.textContent = String(p[0]);
      L.marker([p[1], p[2]], {
        icon: L.divIcon({className: "map-label-icon", html: span, iconSize: null}),
        interactive: false, keyboard: false
      }).addTo(target);
    });
    function near() { map.getContainer().classList.toggle("map-zoom-near", map.getZoom() >= 13); }
    map.on("zoomend", near);
    near();
    return target;
  }

  window.lagesbildLabels = draw;
  (window.lagesbildLabelSets || []).forEach(function (s) { draw(s.map, s.labels, s.group); });
  window.lagesbildLabelSets = [];
}());
