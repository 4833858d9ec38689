/* The workstation's dispatch list on the scan terminal: what to run next, and why, from the
 * plan in force. It follows the workstation the terminal is set to and refreshes every 30 s. */
(function () {
  "use strict";
  var box = document.getElementById("t-dispatch");
  if (!box) return;
  var shown = null, last = 0;

  function station() {
    try { return JSON.parse(localStorage.getItem("isom.terminal.station")); } catch (e) { return null; }
  }
  function cell(text) { var td = document.createElement("td"); td.textContent = text; return td; }
  function hhmm(iso) { var d = new Date(iso); return d.toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" }); }

  function paint(code, rows) {
    var body = box.querySelector("tbody");
    body.textContent = "";
    box.querySelector("h2").textContent = "Next at " + code;
    if (!rows.length) {
      var tr = document.createElement("tr"); var td = cell("Nothing planned here.");
      td.colSpan = 4; td.className = "empty"; tr.appendChild(td); body.appendChild(tr);
    }
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-step", r.work_order + "/" + r.sequence);
      tr.appendChild(cell(r.work_order + "/" + r.sequence + " " + r.operation));
      tr.appendChild(cell(r.item));
      tr.appendChild(cell(hhmm(r.start)));
      tr.appendChild(cell(r.why));
      body.appendChild(tr);
    });
    box.hidden = false;
  }

  function tick() {
    var code = station();
    if (!code) { box.hidden = true; shown = null; return; }
    if (code === shown && Date.now() - last < 30000) return;
    shown = code; last = Date.now();
    fetch("/api/v1/planning/dispatch/" + encodeURIComponent(code), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (rows) { if (station() === code) paint(code, rows); })
      .catch(function () { /* offline: keep the last list */ });
  }
  tick();
  setInterval(tick, 1000);
})();
