/* Small progressive enhancements of ordinary pages (no inline handlers: CSP). */
(function () {
  "use strict";
  document.querySelectorAll("select[data-week-select]").forEach(function (sel) {
    sel.addEventListener("change", function () {
      var url = new URL(window.location.href);
      url.pathname = url.pathname.replace(/\d{4}-W\d{2}/, sel.value);
      window.location.href = url.toString();
    });
  });
})();

/* Action list filters (status, locality, overdue): rows are hidden, never removed. */
(function () {
  "use strict";
  var table = document.getElementById("actions-table");
  var status = document.getElementById("filter-status");
  if (!table || !status) { return; }
  var locality = document.getElementById("filter-locality");
  var overdue = document.getElementById("filter-overdue");
  var count = document.getElementById("filter-count");
  function apply() {
    var shown = 0, all = 0;
    table.querySelectorAll("tbody tr[data-status]").forEach(function (row) {
      all += 1;
      var st = row.getAttribute("data-status");
      var ok = (!status.value || st === status.value ||
                (status.value === "aktiv" && (st === "planerad" || st === "pågår"))) &&
               (!locality.value || row.getAttribute("data-locality") === locality.value) &&
               (!overdue.checked || row.getAttribute("data-overdue") === "1");
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown === all ? "" : "Visar " + shown + " av " + all + " åtgärder.";
  }
  [status, locality, overdue].forEach(function (input) { input.addEventListener("change", apply); });
  apply();
})();
