/* /patrull: the shift's areas on a Leaflet map and the quick observation form.
 *
 * Observations are queued in localStorage first (one queue per user), then sent one at a
 * time as JSON to /patrull/observation with the CSRF token in X-CSRFToken and an
 * idempotency key made in the page (crypto.randomUUID). The server stores each key once
 * and answers a repeat with the same report id, so sending again after a lost answer
 * never creates a duplicate. While offline (navigator.onLine false) nothing is sent;
 * the queue is retried on the "online" event, when the page becomes visible, on load and
 * on a timer with exponential back-off (5 s doubling to 5 min, with jitter). An expired
 * CSRF token (long shifts) is refreshed from /patrull/token and the send repeated.
 * Text from data or users is inserted with textContent only. Only same-origin requests
 * are made (and map tiles when configured).
 */
(function () {
  "use strict";
  var cfgEl = document.getElementById("patrol-config");
  if (!cfgEl) { return; }
  var cfg = JSON.parse(cfgEl.textContent);
  var QUEUE_KEY = "lagesbild.patrull.ko." + cfg.user;
  var BASE_DELAY = 5000;
  var MAX_DELAY = 300000;
  var csrf = cfg.csrf;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function fmt(x) { return (Math.round(x * 100000) / 100000).toFixed(5); }
  function clock(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return ""; }
    return d.toLocaleTimeString("sv-SE", { hour: "2-digit", minute: "2-digit" });
  }

  // ------------------------------------------------------------------ map
  var map = null;
  var areaLayers = {};
  var positionMarker = null;
  var mapEl = $("patrol-map");
  if (mapEl && typeof L !== "undefined") {
    map = L.map(mapEl, { zoomControl: true, attributionControl: true });
    if (cfg.tiles) {
      L.tileLayer(cfg.tiles, { attribution: cfg.attribution, maxZoom: 19 }).addTo(map);
    }
    if (window.lagesbildLabels) { window.lagesbildLabels(map, cfg.labels); }
    if (cfg.localities && cfg.localities.features && cfg.localities.features.length) {
      L.geoJSON(cfg.localities, {
        className: "patrol-locality",
        interactive: false,
        style: { color: "#6b7482", weight: 1, fillColor: "#ffffff", fillOpacity: 0.55 }
      }).addTo(map);
    }
    (cfg.areas || []).forEach(function (a) {
      var layer = L.geoJSON(a.outline, {
        className: "patrol-area",
        interactive: false,
        style: { color: "#8e0000", weight: 3, fillColor: "#c62828", fillOpacity: 0.28 }
      }).addTo(map);
      areaLayers[a.step] = layer;
      var badge = el("span", null, a.step);
      L.marker([a.centre[0], a.centre[1]], {
        icon: L.divIcon({ className: "patrol-step-icon", html: badge, iconSize: [28, 28] }),
        interactive: false,
        keyboard: false,
        alt: "Område " + a.step
      }).addTo(map);
    });
    if (cfg.bounds) {
      map.fitBounds(cfg.bounds, { padding: [24, 24], maxZoom: 16, animate: false });
    } else {
      map.setView(cfg.centre || [59.76, 18.70], 12);
    }
    map.on("click", function (e) {
      setPosition(e.latlng.lat, e.latlng.lng, null, "vald i kartan");
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll(".zoom-area"), function (btn) {
    btn.addEventListener("click", function () {
      var layer = areaLayers[btn.getAttribute("data-step")];
      if (!map || !layer) { return; }
      map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 17, animate: false });
      mapEl.scrollIntoView({ block: "start" });
    });
  });

  // ------------------------------------------------------------------ position
  var position = null; // {lat, lon, accuracy}
  var posEl = $("obs-position");

  function setPosition(lat, lon, accuracy, how) {
    position = { lat: lat, lon: lon, accuracy: accuracy };
    if (map) {
      if (!positionMarker) {
        positionMarker = L.circleMarker([lat, lon], {
          className: "obs-position", radius: 9, color: "#0b5cad", weight: 3,
          fillColor: "#ffffff", fillOpacity: 0.9, interactive: false
        }).addTo(map);
      } else {
        positionMarker.setLatLng([lat, lon]);
      }
    }
    var acc = accuracy ? " (±" + Math.round(accuracy) + " m)" : "";
    posEl.textContent = "Position " + how + ": " + fmt(lat) + ", " + fmt(lon) + acc + ".";
  }

  function clearPosition() {
    position = null;
    if (positionMarker && map) { map.removeLayer(positionMarker); }
    positionMarker = null;
    posEl.textContent = "Ingen position vald. Använd din position eller tryck i kartan.";
  }

  $("obs-locate").addEventListener("click", function () {
    if (!navigator.geolocation) {
      posEl.textContent = "Telefonen kan inte ge din position. Tryck i kartan i stället.";
      return;
    }
    posEl.textContent = "Hämtar din position …";
    navigator.geolocation.getCurrentPosition(function (p) {
      setPosition(p.coords.latitude, p.coords.longitude, p.coords.accuracy, "från telefonen");
      if (map) { map.setView([p.coords.latitude, p.coords.longitude], Math.max(map.getZoom(), 16)); }
    }, function () {
      posEl.textContent = "Din position kunde inte hämtas. Tryck i kartan i stället.";
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
  });

  // ------------------------------------------------------------------ queue
  var memoryQueue = [];
  var storageOk = (function () {
    try {
      var probe = QUEUE_KEY + ".probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return true;
    } catch (e) { return false; }
  }());

  function loadQueue() {
    if (!storageOk) { return memoryQueue.slice(); }
    try {
      var q = JSON.parse(window.localStorage.getItem(QUEUE_KEY) || "[]");
      return Array.isArray(q) ? q : [];
    } catch (e) { return []; }
  }
  function saveQueue(q) {
    memoryQueue = q.slice();
    if (!storageOk) { return; }
    try { window.localStorage.setItem(QUEUE_KEY, JSON.stringify(q)); } catch (e) { storageOk = false; }
  }
  function removeFromQueue(key) {
    saveQueue(loadQueue().filter(function (it) { return it.key !== key; }));
  }
  function updateInQueue(item) {
    saveQueue(loadQueue().map(function (it) { return it.key === item.key ? item : it; }));
  }

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // ------------------------------------------------------------------ rendering
  var banner = $("queue-banner");
  var pendingList = $("pending-list");
  var pendingEmpty = $("pending-empty");
  var failedList = $("failed-list");
  var failedWrap = $("failed-wrap");
  var sentList = $("sent-list");
  var resultEl = $("obs-result");
  var loginNeeded = false;

  function describe(item) {
    var label = (cfg.categories && cfg.categories[item.category]) || item.category;
    return clock(item.observed_at) + " " + label + (item.note ? ": " + item.note : "");
  }

  function render() {
    var q = loadQueue();
    clear(pendingList);
    q.forEach(function (item) {
      var li = el("li", null, describe(item));
      li.setAttribute("data-key", item.key);
      li.appendChild(el("span", "tag", "väntar på att skickas"));
      pendingList.appendChild(li);
    });
    pendingEmpty.hidden = q.length > 0;
    if (!q.length) {
      banner.hidden = true;
      banner.textContent = "";
      return;
    }
    var text = q.length === 1 ? "1 observation väntar på att skickas" :
      q.length + " observationer väntar på att skickas";
    if (navigator.onLine === false) {
      text += " – ingen förbindelse just nu. De sparas i telefonen och skickas när nätet är tillbaka.";
    } else if (loginNeeded) {
      text += " – du behöver logga in igen för att de ska skickas.";
    } else {
      text += ". Nytt försök görs automatiskt.";
    }
    banner.className = "queue-banner";
    banner.textContent = text;
    banner.hidden = false;
  }

  function addSent(item, reportId) {
    var li = el("li", null, describe(item));
    li.setAttribute("data-report-id", String(reportId));
    li.setAttribute("data-key", item.key);
    var existing = sentList.querySelector('li[data-report-id="' + String(Number(reportId)) + '"]');
    if (existing) { return; }
    sentList.insertBefore(li, sentList.firstChild);
  }

  function addFailed(item, errors) {
    var li = el("li", null, describe(item) + " – " + errors.join(" "));
    li.setAttribute("data-key", item.key);
    var edit = el("button", null, "Ändra");
    edit.type = "button";
    edit.addEventListener("click", function () {
      $("obs-category").value = item.category;
      $("obs-note").value = item.note || "";
      if (typeof item.lat === "number" && typeof item.lon === "number") {
        setPosition(item.lat, item.lon, item.accuracy, "från observationen");
      }
      li.parentNode.removeChild(li);
      failedWrap.hidden = !failedList.children.length;
      $("obs-category").focus();
    });
    var drop = el("button", null, "Ta bort");
    drop.type = "button";
    drop.addEventListener("click", function () {
      li.parentNode.removeChild(li);
      failedWrap.hidden = !failedList.children.length;
    });
    li.appendChild(edit);
    li.appendChild(drop);
    failedList.appendChild(li);
    failedWrap.hidden = false;
  }

  // ------------------------------------------------------------------ sending
  var sending = false;
  var timer = null;
  var failures = 0;

  function post(item) {
    var body = {
      key: item.key, kommun: item.kommun, category: item.category, note: item.note,
      lat: item.lat, lon: item.lon, observed_at: item.observed_at
    };
    if (typeof item.accuracy === "number") { body.accuracy = item.accuracy; }
    return fetch(cfg.observationUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if ((r.status === 200 || r.status === 201) && typeof data.report_id === "number") {
          return { kind: "done", reportId: data.report_id, repeat: r.status === 200 };
        }
        if (r.status === 422 || r.status === 403 || r.status === 409) {
          var errs = (data.errors || []).map(function (e) { return e.message; });
          if (!errs.length) { errs = [data.error || "Observationen kunde inte sparas."]; }
          return { kind: "failed", errors: errs };
        }
        if (r.status === 400) { return { kind: "token" }; }
        if (r.status === 401) { return { kind: "login" }; }
        return { kind: "retry" };
      });
    }, function () { return { kind: "retry" }; });
  }

  function refreshToken() {
    return fetch(cfg.tokenUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 401) { loginNeeded = true; return false; }
        return r.ok ? r.json().then(function (d) { csrf = d.csrf; return true; }) : false;
      }, function () { return false; });
  }

  function sendOne(item, tokenRetried) {
    return post(item).then(function (res) {
      if (res.kind === "token" && !tokenRetried) {
        return refreshToken().then(function (ok) {
          return ok ? sendOne(item, true) : { kind: "retry" };
        });
      }
      if (res.kind === "token") {
        return { kind: "failed", errors: ["Observationen avvisades av servern."] };
      }
      return res;
    });
  }

  function schedule() {
    if (timer !== null) { return; }
    var delay = Math.min(MAX_DELAY, BASE_DELAY * Math.pow(2, Math.min(failures, 10)));
    delay = Math.round(delay * (0.8 + Math.random() * 0.4));
    timer = window.setTimeout(function () { timer = null; flush(); }, delay);
  }

  function cancelTimer() {
    if (timer !== null) { window.clearTimeout(timer); timer = null; }
  }

  function sendNext() {
    var q = loadQueue();
    if (!q.length) { failures = 0; return Promise.resolve(); }
    if (navigator.onLine === false) { schedule(); return Promise.resolve(); }
    var item = q[0];
    return sendOne(item, false).then(function (res) {
      if (res.kind === "done") {
        failures = 0;
        loginNeeded = false;
        removeFromQueue(item.key);
        addSent(item, res.reportId);
        resultEl.textContent = "Observationen är sparad (" + describe(item) + ").";
        return sendNext();
      }
      if (res.kind === "failed") {
        removeFromQueue(item.key);
        addFailed(item, res.errors);
        resultEl.textContent = "";
        var errList = $("obs-errors");
        clear(errList);
        res.errors.forEach(function (m) { errList.appendChild(el("li", null, m)); });
        return sendNext();
      }
      if (res.kind === "login") { loginNeeded = true; }
      item.attempts = (item.attempts || 0) + 1;
      updateInQueue(item);
      failures += 1;
      schedule();
      return undefined;
    });
  }

  function flush() {
    if (sending) { return Promise.resolve(); }
    sending = true;
    cancelTimer();
    return sendNext().then(function () {
      sending = false;
      render();
    }, function () {
      sending = false;
      render();
      schedule();
    });
  }

  // ------------------------------------------------------------------ form
  var form = $("observation-form");
  form.hidden = false;
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var errList = $("obs-errors");
    clear(errList);
    var category = $("obs-category").value;
    var note = $("obs-note").value.trim();
    var problems = [];
    if (!category) { problems.push("Välj en kategori."); }
    if (!position) { problems.push("Ange position: använd din position eller tryck i kartan."); }
    if (note.length > cfg.maxNote) { problems.push("Anteckningen är för lång (högst " + cfg.maxNote + " tecken)."); }
    if (problems.length) {
      problems.forEach(function (m) { errList.appendChild(el("li", null, m)); });
      return;
    }
    var item = {
      key: newKey(),
      kommun: cfg.kommun,
      category: category,
      note: note || null,
      lat: Math.round(position.lat * 1e6) / 1e6,
      lon: Math.round(position.lon * 1e6) / 1e6,
      observed_at: new Date().toISOString(),
      attempts: 0
    };
    if (typeof position.accuracy === "number") { item.accuracy = Math.round(position.accuracy); }
    var q = loadQueue();
    q.push(item);
    saveQueue(q);
    form.reset();
    clearPosition();
    resultEl.textContent = navigator.onLine === false ?
      "Ingen förbindelse: observationen väntar på att skickas." : "Skickar observationen …";
    render();
    failures = 0;
    flush();
  });

  window.addEventListener("online", function () { failures = 0; render(); flush(); });
  window.addEventListener("offline", function () { render(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { flush(); }
  });

  // state for tests and debugging (read-only use)
  window.lagesbildPatrol = {
    map: map,
    areaLayers: areaLayers,
    flush: flush,
    queue: loadQueue,
    queueKey: QUEUE_KEY,
    ready: true
  };
  render();
  flush();
}());
