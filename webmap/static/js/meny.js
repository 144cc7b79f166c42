/* Page chrome on small screens: the main menu behind a "Meny" button and the map
   pages' side panel as a bottom sheet that opens and closes (no inline handlers: CSP). */
(function () {
  "use strict";
  var PHONE = window.matchMedia("(max-width: 47.99rem)");
  document.documentElement.classList.add("js");

  var toggle = document.querySelector(".menu-toggle");
  var nav = document.getElementById("huvudmeny");
  if (toggle && nav) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("open", open);
    });
  }

  var sheet = document.querySelector(".mapwrap .sidebar");
  if (sheet) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "sheet-toggle";
    button.setAttribute("aria-controls", sheet.id || "kartpanel");
    if (!sheet.id) { sheet.id = "kartpanel"; }
    var setOpen = function (open) {
      sheet.classList.toggle("collapsed", !open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.textContent = open ? "Dölj panelen ▾" : "Visa filter och förklaring ▴";
    };
    button.addEventListener("click", function () {
      setOpen(sheet.classList.contains("collapsed"));
    });
    sheet.insertBefore(button, sheet.firstChild);
    setOpen(!PHONE.matches);
  }

  /* On phones the map's legend and layer list live in the panel / behind a button. */
  function phoneControls() {
    if (!PHONE.matches) { return; }
    var legend = document.querySelector(".leaflet-control-container .legend");
    if (legend && sheet) {
      legend.classList.add("in-panel");
      sheet.appendChild(legend);
    }
    document.querySelectorAll(".leaflet-control-layers-expanded").forEach(function (ctl) {
      ctl.classList.remove("leaflet-control-layers-expanded");
      var link = ctl.querySelector(".leaflet-control-layers-toggle");
      if (link) {
        link.setAttribute("aria-label", "Kartlager");
        link.setAttribute("title", "Kartlager");
        link.addEventListener("click", function (ev) {
          ev.preventDefault();
          ctl.classList.toggle("leaflet-control-layers-expanded");
        });
      }
    });
  }
  if (document.readyState === "complete") { phoneControls(); } else { window.addEventListener("load", phoneControls); }
})();

/* Dark theme (patrol at night): follows prefers-color-scheme until the toggle is used. */
(function () {
  "use strict";
  var button = document.querySelector("[data-theme-toggle]");
  if (!button) { return; }
  var root = document.documentElement;
  var dark = window.matchMedia("(prefers-color-scheme: dark)");
  var stored = null;
  try { stored = window.localStorage.getItem("lagesbild-tema"); } catch (e) { stored = null; }
  function apply(theme) {
    root.setAttribute("data-theme", theme);
    button.textContent = theme === "dark" ? "Ljust läge" : "Mörkt läge";
    button.setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
  }
  apply(stored || (dark.matches ? "dark" : "light"));
  dark.addEventListener("change", function (ev) { if (!stored) { apply(ev.matches ? "dark" : "light"); } });
  button.hidden = false;
  button.addEventListener("click", function () {
    stored = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
    try { window.localStorage.setItem("lagesbild-tema", stored); } catch (e) { /* private mode */ }
    apply(stored);
  });
})();

/* Tables that scroll sideways on a small screen can be scrolled with the keyboard too. */
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll("table.data, table.plain, .table-scroll").forEach(function (node) {
      if (node.scrollWidth > node.clientWidth + 1 && !node.hasAttribute("tabindex")) {
        node.setAttribute("tabindex", "0");
        if (!node.hasAttribute("aria-label") && !node.hasAttribute("aria-labelledby")) {
          node.setAttribute("aria-label", "Tabell (kan rullas i sidled)");
        }
      }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", mark); } else { mark(); }
  window.addEventListener("resize", mark);
})();
