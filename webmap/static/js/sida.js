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
