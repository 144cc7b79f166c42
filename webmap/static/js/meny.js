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
