/* lagesbild map client: fills folium's empty layer groups from the app's JSON APIs.
 *
 * Every text that comes from data (names, explanations, report texts, action titles)
 * is inserted with textContent / DOM nodes, never as HTML. Cells arrive as compact
 * H3 ids and are turned into hexagons with the vendored h3-js (global `h3`).
 * State (week, filters, place) lives in the URL query so views can be shared.
 */
(function () {
  "use strict";

  var STATE_KEYS = ["vecka", "tid", "kategori", "kalla", "ort"];
  /* Draw order, bottom to top. Every vector layer shares ONE canvas renderer, so a click
     reaches the topmost visible feature whatever layers are ticked (separate canvases
     would each swallow the clicks meant for the ones below). */
  var STACK = ["localities", "public_localities", "police", "cells", "public_cells", "actions", "zones"];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === "class") { node.className = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
      });
    }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  /* Tooltip content as a DOM node: Leaflet inserts string content as HTML. */
  function textTip(text) { return el("span", null, text); }

  function svgEl(tag, attrs) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  /* Inline SVG sparkline of a numeric series (last point marked). */
  function sparkline(values, width, height) {
    width = width || 160; height = height || 36;
    var svg = svgEl("svg", {width: width, height: height, viewBox: "0 0 " + width + " " + height,
      class: "sparkline", role: "img", "aria-label": "Trend"});
    if (!values || values.length < 2) { return svg; }
    var max = Math.max.apply(null, values.concat([1]));
    var step = (width - 6) / (values.length - 1);
    var pts = values.map(function (v, i) {
      return (3 + i * step).toFixed(1) + "," + (height - 3 - (v / max) * (height - 6)).toFixed(1);
    });
    svg.appendChild(svgEl("polyline", {points: pts.join(" "), fill: "none", stroke: "#17324d",
      "stroke-width": "1.5"}));
    var last = pts[pts.length - 1].split(",");
    svg.appendChild(svgEl("circle", {cx: last[0], cy: last[1], r: "2.5", fill: "#c62828"}));
    return svg;
  }

  function zColour(z) {
    if (z === null || z === undefined) { return "#bbbbbb"; }
    if (z >= 2.58) { return "#b2182b"; }
    if (z >= 1.96) { return "#ef8a62"; }
    if (z >= 1.65) { return "#fdae61"; }
    if (z <= -1.96) { return "#2166ac"; }
    if (z <= -1.65) { return "#67a9cf"; }
    return "#cccccc";
  }

  function countColour(c, max) {
    var t = Math.min(1, c / Math.max(1, max));
    if (t > 0.66) { return "#7a0177"; }
    if (t > 0.33) { return "#c51b8a"; }
    return "#f768a1";
  }

  function stateFromUrl() {
    var params = new URLSearchParams(window.location.search);
    var state = {};
    STATE_KEYS.forEach(function (k) {
      var all = params.getAll(k).filter(function (v) { return v !== ""; });
      if (all.length) { state[k] = all; }
    });
    return state;
  }

  function stateQuery(state) {
    var params = new URLSearchParams();
    STATE_KEYS.forEach(function (k) {
      (state[k] || []).forEach(function (v) { params.append(k, v); });
    });
    return params.toString();
  }

  function Ctx(entry) {
    this.map = entry.map;
    this.groups = entry.groups;
    this.specs = entry.specs;
    this.options = entry.options || {};
    this.state = stateFromUrl();
    if (!this.state.vecka && this.options.week) { this.state.vecka = [this.options.week]; }
    this.counts = {};
    this.byId = {zones: {}, actions: {}, localities: {}};
    this.generation = 0;
    this.status = document.getElementById("kartstatus");
    this.renderer = L.canvas({padding: 0.3, tolerance: 3});
  }

  Ctx.prototype.opts = function (key, extra) {
    void key;
    return Object.assign({renderer: this.renderer}, extra || {});
  };

  /* Restore the draw order after a layer was (re)drawn or switched on. */
  Ctx.prototype.restack = function () {
    var self = this;
    STACK.forEach(function (key) {
      var group = self.groups[key];
      if (!group || !self.map.hasLayer(group)) { return; }
      group.eachLayer(function bring(layer) {
        if (layer.eachLayer) { layer.eachLayer(bring); } else if (layer instanceof L.Path) { layer.bringToFront(); }
      });
    });
  };

  Ctx.prototype.setStatus = function (text) {
    if (this.status) { this.status.textContent = text; }
  };

  Ctx.prototype.fetchLayer = function (spec) {
    var sep = spec.url.indexOf("?") >= 0 ? "&" : "?";
    var q = stateQuery(this.state);
    return fetch(spec.url + (q ? sep + q : ""), {credentials: "same-origin",
      headers: {"Accept": "application/json"}}).then(function (resp) {
      if (!resp.ok) { throw new Error(spec.name + ": HTTP " + resp.status); }
      return resp.json();
    });
  };

  Ctx.prototype.draw = function (spec, data) {
    var group = this.groups[spec.key];
    group.clearLayers();
    var fn = DRAW[spec.key];
    var n = fn ? fn.call(this, group, data, spec) : 0;
    this.counts[spec.key] = n;
    this.restack();
    return n;
  };

  Ctx.prototype.load = function (keys) {
    var self = this;
    var gen = ++this.generation;
    var specs = this.specs.filter(function (s) { return !keys || keys.indexOf(s.key) >= 0; });
    window.lagesbild.ready = false;
    self.setStatus("Laddar …");
    return Promise.all(specs.map(function (spec) {
      return self.fetchLayer(spec).then(function (data) {
        if (gen !== self.generation) { return; }
        self.draw(spec, data);
        if (data && data.meta) { self.meta = data.meta; }
      });
    })).then(function () {
      if (gen !== self.generation) { return; }
      if (self.pendingFit) { fitWhenIdle(self.map, self.pendingFit); self.pendingFit = null; }
      window.lagesbild.ready = true;
      window.lagesbild.week = (self.state.vecka || [""])[0];
      window.lagesbild.counts = Object.assign({}, self.counts);
      document.body.setAttribute("data-loaded-week", window.lagesbild.week);
      self.setStatus(self.statusText());
    }).catch(function (err) {
      self.setStatus("Kunde inte ladda kartlager: " + err.message);
      window.lagesbild.error = String(err.message);
    });
  };

  Ctx.prototype.statusText = function () {
    var c = this.counts;
    var parts = [];
    if (c.zones !== undefined) { parts.push(c.zones + " hotspotzoner"); }
    if (c.cells !== undefined && this.groups.cells && this.map.hasLayer(this.groups.cells)) {
      parts.push(c.cells + " celler");
    }
    if (c.actions !== undefined) { parts.push(c.actions + " åtgärder"); }
    if (c.public_cells !== undefined) { parts.push(c.public_cells + " områden"); }
    return parts.join(" · ");
  };

  Ctx.prototype.setState = function (changes, reloadKeys) {
    var self = this;
    Object.keys(changes).forEach(function (k) {
      var v = changes[k];
      if (v === null || v === undefined || (Array.isArray(v) && !v.length) || v === "") {
        delete self.state[k];
      } else {
        self.state[k] = Array.isArray(v) ? v : [v];
      }
    });
    var q = stateQuery(this.state);
    window.history.replaceState(null, "", window.location.pathname + (q ? "?" + q : ""));
    var meet = document.getElementById("motelank");
    if (meet && this.state.vecka) {
      meet.setAttribute("href", meet.getAttribute("href").replace(/\d{4}-W\d{2}/, this.state.vecka[0]));
    }
    return this.load(reloadKeys);
  };

  Ctx.prototype.openPopup = function (kind, id) {
    var layer = this.byId[kind] && this.byId[kind][String(id)];
    if (!layer) { return false; }
    if (layer.getBounds) { this.map.fitBounds(layer.getBounds(), {maxZoom: 16}); }
    layer.openPopup();
    return true;
  };

  function gradeBadge(grade, label) {
    var span = el("span", {class: "grade grade-" + (grade || 0)}, grade ? String(grade) : "–");
    var wrap = el("span");
    wrap.appendChild(span);
    if (label) { wrap.appendChild(document.createTextNode(" " + label)); }
    return wrap;
  }

  /* Technical detail behind a "Visa detaljer" toggle (closed by default). */
  function details(lines) {
    var d = el("details", {class: "tech"});
    d.appendChild(el("summary", null, "Visa detaljer"));
    lines.forEach(function (line) { d.appendChild(el("p", {class: "muted"}, line)); });
    return d;
  }

  /* Plain-Swedish explanation: technical phrases move to the details toggle. */
  var TECH = [/,? ?efter FDR-korrigering/g, /\s*\(Gi\*[^)]*\)/g];
  function plain(text) {
    var out = String(text || "");
    TECH.forEach(function (re) { out = out.replace(re, ""); });
    return out;
  }

  function categoryLabel(code) {
    var input = document.querySelector("input[name=kategori][value='" + String(code).replace(/'/g, "") + "']");
    var label = input && input.parentNode ? input.parentNode.textContent.trim() : "";
    return label || String(code).replace(/_/g, " ");
  }

  function fmt(n) { return String(Math.round(Number(n) * 10) / 10).replace(".", ","); }

  var PATTERN_SYMBOLS = {"new": "★", "consecutive": "»", "intensifying": "▲", "persistent": "■",
    "diminishing": "▼", "oscillating": "≈", "historical": "◷", "sporadic": "⁘"};

  function patternSymbol(pattern) {
    if (!pattern) { return ""; }
    return PATTERN_SYMBOLS[pattern.replace(/_(hot|cold)$/, "")] || "";
  }

  /* Leaflet silently drops a new view while a zoom animation runs. The page's own first
     fit to the kommun animates and, on a phone, is still running when the layers arrive:
     fit when that animation is over (Leaflet fires zoomend then), otherwise now. */
  function fitWhenIdle(map, bounds, maxZoom) {
    var fit = function () { map.fitBounds(bounds, {maxZoom: maxZoom || 15, animate: false}); };
    if (map._animatingZoom) { map.once("zoomend", fit); } else { fit(); }
  }

  function zText(z) {
    if (z === null || z === undefined) { return "för få rapporter för att jämföra"; }
    if (z >= 1.96) { return "klart fler rapporter än omgivningen"; }
    if (z >= 1.65) { return "något fler rapporter än omgivningen"; }
    if (z <= -1.96) { return "klart färre rapporter än omgivningen"; }
    return "ungefär som omgivningen";
  }

  function cellPopup(id, w, z) {
    var box = el("div", {class: "popup cell-popup"});
    box.appendChild(el("h3", null, "Ruta på kartan"));
    box.appendChild(el("p", null, fmt(w) + " rapporter den här veckan (allvarliga räknas mer)."));
    box.appendChild(el("p", null, "Jämfört med grannrutorna: " + zText(z) + "."));
    box.appendChild(details(["Cell-id: " + id, "Gi* z: " + (z === null ? "–" : z), "Viktat antal: " + w]));
    return box;
  }

  var DRAW = {
    localities: function (group, fc) {
      var self = this;
      var layer = L.geoJSON(fc, this.opts("localities", {
        style: function (f) {
          return {color: "#17324d", weight: f.properties.primary ? 2 : 1, fillColor: f.properties.colour,
            fillOpacity: f.properties.grade ? 0.25 : 0.05};
        },
        onEachFeature: function (f, lyr) {
          var p = f.properties;
          var box = el("div", {class: "popup"});
          box.appendChild(el("h3", null, p.name));
          var g = el("p");
          var badge = gradeBadge(p.grade, p.label);
          if (!p.set_by_meeting) { badge.firstChild.className += " suggestion-badge"; }
          g.appendChild(badge);
          g.appendChild(el("span", {class: p.set_by_meeting ? "decided-tag" : "undecided-tag"},
            p.set_by_meeting ? "beslutad av mötet" : "förslag, ej beslutad"));
          box.appendChild(g);
          if (p.comment) { box.appendChild(el("p", null, "Mötets kommentar: " + p.comment)); }
          if (p.explanation) {
            box.appendChild(el("p", null, "Analysens förslag: " + plain(p.explanation)));
            if (plain(p.explanation) !== p.explanation) { box.appendChild(details([p.explanation])); }
          }
          if (p.series && p.series.length) { box.appendChild(sparkline(p.series)); }
          if (p.approximate) { box.appendChild(el("p", {class: "muted"}, "Gränsen är ungefärlig.")); }
          lyr.bindPopup(box, {maxWidth: 320});
          lyr.bindTooltip(textTip(p.name + (p.label ? " – " + p.label : "")), {sticky: true});
          self.byId.localities[p.code] = lyr;
        }
      }));
      layer.addTo(group);
      return fc.features.length;
    },

    zones: function (group, fc) {
      var self = this;
      var layer = L.geoJSON(fc, this.opts("zones", {
        style: function (f) {
          return {color: "#222", weight: 2, fillColor: f.properties.colour || "#f2c12e", fillOpacity: 0.55};
        },
        onEachFeature: function (f, lyr) {
          var p = f.properties;
          var box = el("div", {class: "popup zone-popup"});
          box.appendChild(el("h3", null, p.name || p.id));
          var g = el("p");
          g.appendChild(gradeBadge(p.grade, p.label));
          box.appendChild(g);
          box.appendChild(el("p", {class: "pattern"}, patternSymbol(p.pattern) + " Mönster: " + (p.pattern_sv || "–")));
          box.appendChild(el("p", {class: "explanation"}, plain(p.explanation)));
          var trend = el("div", {class: "trend"});
          trend.appendChild(el("span", {class: "muted"}, "Rapporter per vecka (allvarliga räknas mer): "));
          trend.appendChild(sparkline(p.series));
          box.appendChild(trend);
          box.appendChild(el("strong", null, "Åtgärder"));
          var ul = el("ul", {class: "zone-actions"});
          if (!p.actions.length) { ul.appendChild(el("li", {class: "muted"}, "Inga åtgärder kopplade")); }
          p.actions.forEach(function (a) {
            var li = el("li");
            li.appendChild(el("span", {class: "status-icon"}, (a.icon || "") + " "));
            var link = el("a", {href: "/atgarder/" + encodeURIComponent(a.id)}, a.title);
            li.appendChild(link);
            li.appendChild(el("span", {class: "muted"}, " (" + (a.status_sv || a.status) + ")"));
            ul.appendChild(li);
          });
          box.appendChild(ul);
          if (p.latest && p.latest.length) {
            box.appendChild(el("strong", null, "Senaste rapporterna"));
            var rl = el("ul", {class: "zone-reports"});
            p.latest.forEach(function (r) {
              rl.appendChild(el("li", null, r.date + " " + categoryLabel(r.category) + ": " + (r.text || "")));
            });
            box.appendChild(rl);
          }
          var tech = ["Zon-id: " + p.id];
          if (plain(p.explanation) !== (p.explanation || "")) { tech.push(p.explanation); }
          box.appendChild(details(tech));
          lyr.bindPopup(box, {maxWidth: 340});
          lyr.bindTooltip(textTip((p.name || p.id) + " – " + (p.pattern_sv || "")), {sticky: true});
          self.byId.zones[p.id] = lyr;
        }
      }));
      layer.addTo(group);
      if (!this.fittedZones && !this.state.ort && fc.features.length) {
        /* first view: around the most serious zone, not the whole kommun (zones would be specks) */
        this.fittedZones = true;
        var worst = null;
        layer.eachLayer(function (l) {
          if (!worst || (l.feature.properties.grade || 0) > (worst.feature.properties.grade || 0)) { worst = l; }
        });
        var centre = worst.getBounds().getCenter();
        var near = L.latLngBounds(worst.getBounds().getSouthWest(), worst.getBounds().getNorthEast());
        layer.eachLayer(function (l) {
          if (centre.distanceTo(l.getBounds().getCenter()) < 3000) { near.extend(l.getBounds()); }
        });
        this.pendingFit = near.pad(0.4);
      }
      fc.features.forEach(function (f) {
        var p = f.properties;
        if (p.lat === null || p.lon === null) { return; }
        var label = el("span", {class: "pattern-label"}, patternSymbol(p.pattern) + " " + (p.name || p.id));
        L.marker([p.lat, p.lon], {icon: L.divIcon({html: label, className: "zone-label", iconSize: null}),
          interactive: false, keyboard: false}).addTo(group);
      });
      return fc.features.length;
    },

    cells: function (group, data) {
      if (!data.ids || !data.ids.length || typeof h3 === "undefined") { return 0; }
      var maxW = Math.max.apply(null, data.w.concat([1]));
      for (var i = 0; i < data.ids.length; i++) {
        var ring = h3.cellToBoundary(data.ids[i]);
        var w = data.w[i];
        var poly = L.polygon(ring, {renderer: this.renderer, weight: 0.5, color: "#555",
          fillColor: zColour(data.z[i]), fillOpacity: Math.min(0.85, 0.2 + 0.65 * w / maxW)});
        poly.bindTooltip(textTip(fmt(w) + " rapporter (allvarliga räknas mer)"), {sticky: true});
        poly.bindPopup(cellPopup(data.ids[i], w, data.z[i]), {maxWidth: 280});
        poly.addTo(group);
      }
      var note = document.getElementById("cellnote");
      if (note) {
        note.textContent = data.coarsened ? "Rutorna visas sammanslagna till större rutor eftersom vyn " +
          "annars skulle rita för många." : "";
      }
      return data.ids.length;
    },

    actions: function (group, fc) {
      var self = this;
      var layer = L.geoJSON(fc, this.opts("actions", {
        /* outline only: the inside of an action's area stays clickable for what lies under it */
        style: function () { return {color: "#17324d", weight: 3, dashArray: "6 4", fill: false}; },
        pointToLayer: function (f, latlng) {
          var icon = el("span", {title: f.properties.status_sv || ""}, f.properties.icon || "•");
          return L.marker(latlng, {icon: L.divIcon({html: icon, className: "action-icon", iconSize: [26, 26]}),
            title: f.properties.title});
        },
        onEachFeature: function (f, lyr) {
          var p = f.properties;
          var box = el("div", {class: "popup action-popup"});
          box.appendChild(el("h3", null, (p.icon || "") + " " + p.title));
          box.appendChild(el("p", null, (p.kind_sv || p.kind) + " · " + (p.status_sv || p.status)));
          if (p.responsible) { box.appendChild(el("p", null, "Ansvarig: " + p.responsible)); }
          if (p.planned_start || p.planned_end) {
            box.appendChild(el("p", null, "Planerad: " + (p.planned_start || "?") + " – " + (p.planned_end || "?")));
          }
          if (p.place === "locality") { box.appendChild(el("p", {class: "muted"}, "Gäller hela tätorten")); }
          box.appendChild(el("a", {href: "/atgarder/" + encodeURIComponent(p.id)}, "Visa åtgärden"));
          lyr.bindPopup(box, {maxWidth: 300});
          self.byId.actions[String(p.id)] = lyr;
        }
      }));
      layer.addTo(group);
      return fc.features.length;
    },

    police: function (group, fc) {
      var layer = L.geoJSON(fc, this.opts("police", {
        style: function () { return {color: "#17324d", weight: 1.5, dashArray: "2 4", fill: false}; },
        onEachFeature: function (f, lyr) {
          var p = f.properties;
          lyr.bindTooltip(textTip("Polisen: " + p.count + " händelser i " + p.name + " (" + p.precision_sv + ")"),
            {permanent: false, sticky: true});
        }
      }));
      layer.addTo(group);
      var self = this;
      fc.features.forEach(function (f) {
        var p = f.properties;
        var c = L.geoJSON(f).getBounds().getCenter();
        var label = el("span", {class: "police-label"}, "Polisen: " + p.count + " (" + (p.level === "kommun" ? "kommunnivå" : "tätortsnivå") + ")");
        L.marker(c, {icon: L.divIcon({html: label, className: "police-area-label", iconSize: null}),
          interactive: false, keyboard: false}).addTo(group);
      });
      void self;
      return fc.features.length;
    },

    public_localities: function (group, fc) {
      L.geoJSON(fc, this.opts("public_localities", {
        style: function () { return {color: "#17324d", weight: 1.5, fillOpacity: 0.03}; },
        onEachFeature: function (f, lyr) { lyr.bindTooltip(textTip(f.properties.name), {sticky: true}); }
      })).addTo(group);
      return fc.features.length;
    },

    public_cells: function (group, data) {
      if (!data.ids || !data.ids.length || typeof h3 === "undefined") { return 0; }
      var max = Math.max.apply(null, data.c.concat([1]));
      for (var i = 0; i < data.ids.length; i++) {
        var poly = L.polygon(h3.cellToBoundary(data.ids[i]), {renderer: this.renderer, weight: 0.5,
          color: "#555", fillColor: countColour(data.c[i], max), fillOpacity: 0.55});
        poly.bindTooltip(textTip(data.c[i] + " rapporter"));
        poly.addTo(group);
      }
      if (!this.fittedCells) {  /* open where the reports are: around the busiest area */
        this.fittedCells = true;
        var top = data.c.indexOf(max);
        var centre = L.latLng(h3.cellToLatLng(data.ids[top]));
        var near = L.latLngBounds([centre, centre]);
        data.ids.forEach(function (id) {
          var ll = L.latLng(h3.cellToLatLng(id));
          if (centre.distanceTo(ll) < 4000) { near.extend(ll); }
        });
        this.pendingFit = near.pad(0.3);
      }
      return data.ids.length;
    }
  };

  function bindControls(ctx) {
    var form = document.getElementById("kartfilter");
    if (!form) { return; }
    var weeks = ctx.options.weeks || [];
    var select = form.querySelector("select[name=vecka]");
    var slider = document.getElementById("veckoreglage");
    var sliderLabel = document.getElementById("veckoreglage-text");

    function setWeek(week) {
      if (select) { select.value = week; }
      var idx = weeks.indexOf(week);
      if (slider && idx >= 0) { slider.value = String(idx); }
      if (sliderLabel) { sliderLabel.textContent = week.replace(/^(\d{4})-W0?(\d+)$/, "vecka $2, $1"); }
      return ctx.setState({vecka: week}, ["localities", "zones", "cells", "police"]);
    }
    window.lagesbild.setWeek = setWeek;

    if (select) { select.addEventListener("change", function () { setWeek(select.value); }); }
    if (slider) {
      slider.addEventListener("input", function () {
        var w = weeks[Number(slider.value)];
        if (sliderLabel && w) { sliderLabel.textContent = w.replace(/^(\d{4})-W0?(\d+)$/, "vecka $2, $1"); }
      });
      slider.addEventListener("change", function () { setWeek(weeks[Number(slider.value)]); });
    }
    function readMulti(name) {
      return Array.prototype.slice.call(form.querySelectorAll("input[name=" + name + "]:checked"))
        .map(function (i) { return i.value; });
    }
    form.querySelectorAll("input[name=kategori], input[name=kalla]").forEach(function (input) {
      input.addEventListener("change", function () {
        ctx.setState({kategori: readMulti("kategori"), kalla: readMulti("kalla")},
          ["localities", "zones", "cells"]);
      });
    });
    var tid = form.querySelector("select[name=tid]");
    if (tid) {
      tid.addEventListener("change", function () {
        ctx.setState({tid: tid.value === "alla" ? null : tid.value}, ["localities", "zones", "cells"]);
      });
    }
    var ort = form.querySelector("select[name=ort]");
    if (ort) {
      ort.addEventListener("change", function () {
        zoomToPlace(ctx, ort.value);
        ctx.setState({ort: ort.value || null}, []);
      });
    }
    var kommun = form.querySelector("select[name=kommun]");
    if (kommun) {
      kommun.addEventListener("change", function () {
        window.location.href = form.getAttribute("action") + "?kommun=" + encodeURIComponent(kommun.value);
      });
    }
    form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  }

  function zoomToPlace(ctx, code) {
    var bounds = (ctx.options.locality_bounds || {})[code];
    if (bounds) { fitWhenIdle(ctx.map, L.latLngBounds(bounds), 18); }
  }

  function init() {
    var entries = window.lagesbildMaps || [];
    if (!entries.length) { return; }
    var ctx = new Ctx(entries[0]);
    window.lagesbild = {ready: false, counts: {}, ctx: ctx, map: ctx.map,
      openPopup: function (kind, id) { return ctx.openPopup(kind, id); },
      sparkline: sparkline};
    bindControls(ctx);
    if (ctx.state.ort) { zoomToPlace(ctx, ctx.state.ort[0]); }
    ctx.map.on("overlayadd", function (e) {
      ctx.restack();
      if (e.layer === ctx.groups.cells) { ctx.setStatus(ctx.statusText()); }
    });
    ctx.load();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
