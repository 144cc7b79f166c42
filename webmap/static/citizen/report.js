/* /rapportera: choose a position by tapping the map, "Använd min position", place search,
   the map centre or arrow keys on the marker. Only same-origin requests (tiles if configured).
   User-visible text is set with textContent only. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var cfgEl = document.getElementById("map-config");
  var mapEl = document.getElementById("map");
  if (!cfgEl || !mapEl || typeof L === "undefined") { return; }
  var cfg = JSON.parse(cfgEl.textContent);
  var latEl = document.getElementById("lat");
  var lonEl = document.getElementById("lon");
  var statusEl = document.getElementById("pos-status");
  var resultsEl = document.getElementById("place-results");
  var placeEl = document.getElementById("field-place");

  var centre = cfg.centre || [59.76, 18.70];
  var map = L.map(mapEl, { keyboard: true, zoomControl: true, attributionControl: true });
  map.setView(centre, 13);
  if (cfg.bounds) {
    var b = cfg.bounds; // south, west, north, east
    map.setMaxBounds(L.latLngBounds([b[0] - 0.2, b[1] - 0.4], [b[2] + 0.2, b[3] + 0.4]));
  }
  if (cfg.tiles) {
    L.tileLayer(cfg.tiles, { attribution: cfg.attribution, maxZoom: 19 }).addTo(map);
  }
  if (window.lagesbildLabels) { window.lagesbildLabels(map, cfg.labels); }
  if (cfg.outline) {
    L.geoJSON(cfg.outline, {
      interactive: false,
      style: { color: "#17324d", weight: 2, fill: true, fillColor: "#ffffff", fillOpacity: 0.35 }
    }).addTo(map);
  }

  var marker = null;
  var STEP_M = 15;

  function fmt(x) { return (Math.round(x * 100000) / 100000).toFixed(5); }

  function say(text) { statusEl.textContent = text; }

  function onMarkerKey(ev) {
    var keys = { ArrowUp: [1, 0], ArrowDown: [-1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    var d = keys[ev.key];
    if (!d) { return; }
    ev.preventDefault();
    ev.stopPropagation();
    var pos = marker.getLatLng();
    var metres = ev.shiftKey ? STEP_M * 7 : STEP_M;
    var dLat = d[0] * metres / 111320;
    var dLon = d[1] * metres / (111320 * Math.cos(pos.lat * Math.PI / 180));
    setPosition(pos.lat + dLat, pos.lng + dLon, null, false);
    map.panTo(marker.getLatLng(), { animate: false });
  }

  function setPosition(lat, lon, label, pan) {
    latEl.value = lat.toFixed(6);
    lonEl.value = lon.toFixed(6);
    if (!marker) {
      marker = L.marker([lat, lon], {
        keyboard: true, draggable: true, autoPan: true,
        alt: "Vald plats", title: "Vald plats. Flytta med piltangenterna."
      }).addTo(map);
      marker.on("dragend", function () {
        var p = marker.getLatLng();
        setPosition(p.lat, p.lng, null, false);
      });
      var el = marker.getElement();
      el.setAttribute("aria-label", "Vald plats. Flytta med piltangenterna.");
      el.addEventListener("keydown", onMarkerKey);
    } else {
      marker.setLatLng([lat, lon]);
    }
    if (pan) { map.setView([lat, lon], Math.max(map.getZoom(), 16)); }
    say("Vald plats: " + (label ? label + " (" : "") + fmt(lat) + ", " + fmt(lon) + (label ? ")" : "") +
        ". Du kan flytta markören med piltangenterna.");
  }

  map.on("click", function (e) { setPosition(e.latlng.lat, e.latlng.lng, null, false); });

  document.getElementById("centre-pin").addEventListener("click", function () {
    var c = map.getCenter();
    setPosition(c.lat, c.lng, "kartans mitt", false);
    marker.getElement().focus();
  });

  document.getElementById("locate").addEventListener("click", function () {
    if (!navigator.geolocation) { say("Din webbläsare kan inte ge din position. Tryck i kartan eller sök en plats."); return; }
    say("Hämtar din position …");
    navigator.geolocation.getCurrentPosition(function (p) {
      setPosition(p.coords.latitude, p.coords.longitude, "din position", true);
    }, function () {
      say("Din position kunde inte hämtas. Tryck i kartan eller sök en plats.");
    }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  });

  function clearResults() { while (resultsEl.firstChild) { resultsEl.removeChild(resultsEl.firstChild); } }

  function search() {
    var q = placeEl.value.trim();
    clearResults();
    if (q.length < 2) { say("Skriv minst två tecken för att söka."); return; }
    var url = cfg.placesUrl + "?" + new URLSearchParams({ q: q, kommun: cfg.kommun }).toString();
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { places: [] }; })
      .then(function (data) {
        var places = data.places || [];
        if (!places.length) { say("Ingen plats hittades för ”" + q + "”. Tryck i kartan i stället."); return; }
        places.forEach(function (p) {
          var li = document.createElement("li");
          var btn = document.createElement("button");
          btn.type = "button";
          btn.textContent = p.name + (p.approximate || p.precision === "locality" ? " (ungefärligt läge)" : "");
          btn.addEventListener("click", function () {
            setPosition(p.lat, p.lon, p.name, true);
            clearResults();
            if (marker) { marker.getElement().focus(); }
          });
          li.appendChild(btn);
          resultsEl.appendChild(li);
        });
        say(places.length + (places.length === 1 ? " plats hittades." : " platser hittades.") + " Välj en i listan.");
        resultsEl.querySelector("button").focus();
      })
      .catch(function () { say("Sökningen misslyckades. Tryck i kartan i stället."); });
  }
  document.getElementById("search-place").addEventListener("click", search);
  placeEl.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); search(); }
  });

  var desc = document.getElementById("description");
  var count = document.getElementById("desc-count");
  function updateCount() { count.textContent = desc.value.length + " av " + count.getAttribute("data-max") + " tecken"; }
  desc.addEventListener("input", updateCount);
  updateCount();

  var form = document.getElementById("report-form");
  form.addEventListener("submit", function () {
    var btn = document.getElementById("submit-report");
    window.setTimeout(function () { btn.disabled = true; }, 0);
  });

  if (latEl.value && lonEl.value) {
    setPosition(parseFloat(latEl.value), parseFloat(lonEl.value), null, true);
  }
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
}());
