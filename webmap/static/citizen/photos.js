/* Photos on /rapportera: thumbnails of the chosen images, each can be removed before sending.
   Without JavaScript the file input works as it is. */
(function () {
  "use strict";
  var input = document.getElementById("photos");
  var list = document.getElementById("photo-list");
  var status = document.getElementById("photo-status");
  if (!input || !list || typeof DataTransfer === "undefined") { return; }
  var max = parseInt(input.getAttribute("data-max") || "3", 10);
  var maxBytes = parseInt(input.getAttribute("data-max-mb") || "8", 10) * 1024 * 1024;
  var chosen = [];
  // the native control's text follows the browser's language: a Swedish button instead
  input.classList.add("photo-input");

  function sync() {
    var dt = new DataTransfer();
    chosen.forEach(function (f) { dt.items.add(f); });
    input.files = dt.files;
  }

  function say(text) { status.textContent = text; }

  function render() {
    list.textContent = "";
    chosen.forEach(function (file, i) {
      var li = document.createElement("li");
      if (file.size > maxBytes) { li.className = "too-big"; }
      var img = document.createElement("img");
      img.alt = "Vald bild " + (i + 1);
      var reader = new FileReader();
      reader.onload = function () { img.src = String(reader.result); };
      if (/^image\/(jpeg|png|gif|webp)$/.test(file.type) && file.size <= maxBytes) {
        reader.readAsDataURL(file);
      }
      var name = document.createElement("p");
      name.className = "photo-name";
      name.textContent = file.name + (file.size > maxBytes ? " – för stor" : "");
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "secondary";
      remove.textContent = "Ta bort";
      remove.setAttribute("aria-label", "Ta bort " + file.name);
      remove.addEventListener("click", function () {
        chosen.splice(i, 1);
        sync();
        render();
        say(file.name + " togs bort.");
        input.focus();
      });
      li.appendChild(img);
      li.appendChild(name);
      li.appendChild(remove);
      list.appendChild(li);
    });
    if (chosen.length > max) {
      say("Högst " + max + " bilder: ta bort " + (chosen.length - max) + ".");
    } else if (chosen.length) {
      say(chosen.length + " av högst " + max + " bilder valda.");
    }
  }

  input.addEventListener("change", function () {
    Array.prototype.forEach.call(input.files, function (f) { chosen.push(f); });
    sync();
    render();
  });
})();
