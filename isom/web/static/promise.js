/* Capable-to-promise on the order form: for a line's item and quantity, ask the plan in force
 * when a new job would be done, show it, and put it in the line's due date. */
(function () {
  "use strict";
  document.querySelectorAll("[data-promise]").forEach(function (button) {
    button.addEventListener("click", function () {
      var n = button.getAttribute("data-promise");
      var out = document.getElementById("promise_" + n);
      var item = document.getElementById("item_" + n).value.trim();
      var qty = document.getElementById("quantity_" + n).value.trim();
      var priority = (document.querySelector("select[name=priority]") || {}).value || "normal";
      if (!item || !qty) { out.textContent = "enter the item and quantity first"; return; }
      out.textContent = "…";
      var q = "item=" + encodeURIComponent(item) + "&quantity=" + encodeURIComponent(qty) + "&priority=" + priority;
      fetch("/api/v1/planning/promise?" + q, { credentials: "same-origin" })
        .then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
        .then(function (res) {
          if (!res[0]) { out.textContent = res[1].detail || "no promise date"; return; }
          out.textContent = res[1].promise_date;
          document.getElementById("due_" + n).value = res[1].promise_date;
        })
        .catch(function () { out.textContent = "offline"; });
    });
  });
})();
