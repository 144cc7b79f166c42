/* /patrull/utskrift: the "Skriv ut" button opens the browser's print dialog. */
(function () {
  "use strict";
  var button = document.getElementById("print-button");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }
}());
