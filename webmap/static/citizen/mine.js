/* "Mina rapporter": receipts are kept in this browser only (localStorage).
 * On a receipt page the receipt is remembered; on /mina-rapporter every remembered
 * receipt is listed with its current status, fetched in one POST /api/reports/status.
 * Text from the server reaches the page only through textContent. */
(function () {
  "use strict";
  var KEY = "lagesbild.kvitton";
  var MAX = 20;

  function load() {
    try {
      var list = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(list) ? list.filter(function (r) { return r && typeof r.receipt === "string"; }) : [];
    } catch (e) {
      return [];
    }
  }

  function save(list) {
    try {
      window.localStorage.setItem(KEY, JSON.stringify(list.slice(0, MAX)));
      return true;
    } catch (e) {
      return false; /* private mode or storage full: the page still works */
    }
  }

  function remember(item) {
    var list = load().filter(function (r) { return r.receipt !== item.receipt; });
    list.unshift(item);
    return save(list);
  }

  function forget(receipt) {
    save(load().filter(function (r) { return r.receipt !== receipt; }));
  }

  function normalise(value) {
    var raw = String(value || "").toUpperCase().replace(/[^0-9A-Z]/g, "")
      .replace(/O/g, "0").replace(/[IL]/g, "1");
    return raw.length === 12 ? raw.slice(0, 4) + "-" + raw.slice(4, 8) + "-" + raw.slice(8) : null;
  }

  /* --- receipt page: remember this receipt ---------------------------------------- */
  var box = document.getElementById("receipt-number");
  if (box && box.dataset.receipt) {
    remember({
      receipt: box.dataset.receipt,
      kommun: box.dataset.kommun || "",
      category: box.dataset.category || "",
      submitted: box.dataset.submitted || ""
    });
  }

  /* --- /mina-rapporter ---------------------------------------------------------------- */
  var root = document.getElementById("mine");
  if (!root) { return; }
  MAX = parseInt(root.dataset.max, 10) || MAX;
  var listEl = document.getElementById("my-reports");
  var stateEl = document.getElementById("mine-state");
  var form = document.getElementById("add-receipt");
  var input = document.getElementById("receipt-input");
  form.hidden = false;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function card(item, status) {
    var li = el("li", "my-report");
    li.dataset.receipt = item.receipt;
    li.dataset.status = status ? (status.found ? status.status : "unknown") : "loading";
    li.appendChild(el("p", "nr", item.receipt));
    li.appendChild(el("p", "status", status ? status.status_text : "Hämtar status …"));
    var meta = [item.category, item.kommun, item.submitted ? "inskickad " + item.submitted : ""]
      .filter(Boolean).join(" · ");
    if (meta) { li.appendChild(el("p", "meta", meta)); }
    var row = el("div", "row");
    if (!status || status.found) {
      var link = el("a", "", "Visa kvittot");
      link.href = root.dataset.receiptUrl.replace("KVITTO", encodeURIComponent(item.receipt));
      row.appendChild(link);
    }
    var drop = el("button", "secondary", "Ta bort från listan");
    drop.type = "button";
    drop.setAttribute("aria-label", "Ta bort " + item.receipt + " från listan");
    drop.addEventListener("click", function () { forget(item.receipt); refresh(); });
    row.appendChild(drop);
    li.appendChild(row);
    return li;
  }

  function draw(items, statuses) {
    var byNr = {};
    (statuses || []).forEach(function (s) { byNr[s.receipt] = s; });
    listEl.textContent = "";
    items.forEach(function (item) {
      listEl.appendChild(card(item, statuses ? byNr[item.receipt] || null : null));
    });
    listEl.hidden = items.length === 0;
  }

  function refresh() {
    var items = load();
    draw(items, null);
    if (!items.length) {
      stateEl.textContent = "Inga rapporter är sparade i den här webbläsaren än. " +
        "När du skickar en rapport sparas kvittot här.";
      return;
    }
    stateEl.textContent = "Hämtar status för " + items.length +
      (items.length === 1 ? " rapport …" : " rapporter …");
    fetch(root.dataset.statusUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ receipts: items.map(function (r) { return r.receipt; }) }),
      credentials: "same-origin"
    }).then(function (resp) {
      if (resp.status === 429) { throw new Error("För många förfrågningar. Vänta en stund och försök igen."); }
      if (!resp.ok) { throw new Error("Statusen kunde inte hämtas just nu. Försök igen senare."); }
      return resp.json();
    }).then(function (data) {
      draw(items, data.reports || []);
      stateEl.textContent = items.length === 1 ? "1 rapport" : items.length + " rapporter";
    }).catch(function (err) {
      stateEl.textContent = err && err.message ? err.message : "Statusen kunde inte hämtas.";
    });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var nr = normalise(input.value);
    if (!nr) {
      stateEl.textContent = "Kvittonumret ska ha 12 tecken, till exempel ABCD-EFGH-JKLM.";
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    input.removeAttribute("aria-invalid");
    input.value = "";
    remember({ receipt: nr, kommun: "", category: "", submitted: "" });
    refresh();
  });

  refresh();
})();
