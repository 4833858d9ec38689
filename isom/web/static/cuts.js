/* The cut plan on the scan terminal: for the job step in hand, which reel to cut each piece
 * from so that the cuts leave the least remnant (GET .../cut-plan). It follows the job step the
 * terminal is on and refreshes every 20 s; steps that cut nothing to length show nothing. */
(function () {
  "use strict";
  var box = document.getElementById("t-cuts");
  if (!box) return;
  var shown = null, last = 0;

  function job() {
    try { return JSON.parse(localStorage.getItem("isom.terminal.job")); } catch (e) { return null; }
  }
  function cell(text) { var td = document.createElement("td"); td.textContent = text; return td; }
  function row(body, cells, attrs) {
    var tr = document.createElement("tr");
    Object.keys(attrs || {}).forEach(function (k) { tr.setAttribute(k, attrs[k]); });
    cells.forEach(function (c) { tr.appendChild(cell(c)); });
    body.appendChild(tr);
  }

  function paint(ref, plan) {
    var body = box.querySelector("tbody");
    body.textContent = "";
    var proposals = (plan && plan.proposals) || [];
    if (!proposals.length) { box.hidden = true; return; }
    box.querySelector("h2").textContent = "Cut plan for " + ref;
    proposals.forEach(function (p) {
      var count = {};
      p.pieces.forEach(function (piece) { var r = piece.reel || ""; count[r] = (count[r] || 0) + 1; });
      p.reels.forEach(function (r) {
        row(body, [p.item, count[r.reel] + " × " + p.cut_length + " " + p.unit, r.reel,
          r.left + " " + p.unit + (r.remnant ? " — remnant" : "")],
          { "data-reel": r.reel, "class": r.remnant ? "warn" : "" });
      });
      if (p.unplaced) {
        row(body, [p.item, p.unplaced + " × " + p.cut_length + " " + p.unit, "no reel", "short"],
          { "class": "warn" });
      }
    });
    var waste = proposals.map(function (p) { return p.waste + " " + p.unit + " " + p.item; });
    box.querySelector("p").textContent = "Remnant left: " + waste.join(", ") + ".";
    box.hidden = false;
  }

  function tick() {
    var j = job();
    if (!j || !j.number || !j.step) { box.hidden = true; shown = null; return; }
    var ref = j.number + "/" + j.step;
    if (ref === shown && Date.now() - last < 20000) return;
    shown = ref; last = Date.now();
    fetch("/api/v1/production/work-orders/" + encodeURIComponent(j.number) + "/steps/" + j.step +
          "/cut-plan", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (plan) { if (shown === ref) paint(ref, plan); })
      .catch(function () { /* offline: keep the last plan */ });
  }
  tick();
  setInterval(tick, 1000);
})();
