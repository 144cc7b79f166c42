/* Point picker of the report form: a click sets the hidden lat/lon fields. No tiles are
 * needed (the map shows a grid box); the bounds come from a data attribute. */
(function () {
  "use strict";
  var box = document.getElementById("pickmap");
  if (!box || typeof L === "undefined") { return; }
  var bounds = JSON.parse(box.getAttribute("data-bounds") || "null");
  var map = L.map(box, {preferCanvas: true});
  if (bounds) { map.fitBounds(bounds); } else { map.setView([59.76, 18.70], 12); }
  var tiles = box.getAttribute("data-tiles");
  if (tiles) { L.tileLayer(tiles, {maxZoom: 19}).addTo(map); }
  if (bounds) { L.rectangle(bounds, {weight: 1, fill: false, color: "#17324d"}).addTo(map); }
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var label = document.getElementById("picked");
  var marker = null;
  function set(latlng) {
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    if (marker) { marker.setLatLng(latlng); } else { marker = L.circleMarker(latlng, {radius: 7}).addTo(map); }
    label.textContent = "Vald punkt: " + lat.value + ", " + lon.value;
  }
  if (lat.value && lon.value) { set(L.latLng(Number(lat.value), Number(lon.value))); }
  map.on("click", function (e) { set(e.latlng); });
})();
