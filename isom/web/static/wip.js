/* The live WIP board: redraw the table from each "wip" server-sent event, no reload. */
(function () {
  function esc(t) { return String(t).replace(/[&<>"]/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]; }); }
  var src = new EventSource("/api/v1/production/wip/stream");
  src.addEventListener("wip", function (e) {
    var b = JSON.parse(e.data), rows = [];
    b.jobs.forEach(function (j) {
      j.steps.forEach(function (s, i) {
        var used = Object.keys(s.consumed).map(function (k) { return esc(k) + " " + esc(s.consumed[k]); }).join("<br>");
        var after = s.after_step.map(function (c) { return esc(c.container) + " " + esc(c.quantity); }).join("<br>") +
          (Number(s.returned) ? "<small>returned to stock " + esc(s.returned) + "</small>" : "");
        var rework = Number(s.rework_pending) ? " <small>(rework " + esc(s.rework_pending) + ")</small>" : "";
        rows.push("<tr><td>" + (i ? "" : "<strong>" + esc(j.work_order) + "</strong>" + (j.late ? " late" : "") + (j.stuck ? " stuck" : "")) +
          "</td><td>" + (i ? "" : esc(j.item) + " × " + esc(j.quantity)) + "</td><td>" + (i ? "" : esc(j.due_date)) +
          "</td><td>" + s.sequence + " " + esc(s.operation) + "</td><td>" + esc(s.status) + "</td><td>" + used + "</td><td class=\"num\">" + esc(s.at_step) + rework + "</td><td>" + after +
          "</td><td>" + esc(s.people.join(", ")) + "</td><td class=\"num\">" + esc(s.elapsed_minutes) + " / " + esc(s.standard_minutes) + "</td></tr>");
      });
    });
    document.getElementById("wip-body").innerHTML = rows.join("");
    document.getElementById("wip-late").textContent = b.late.join(", ") || "none";
    document.getElementById("wip-stuck").textContent = b.stuck.join(", ") || "none";
    document.getElementById("wip-at").textContent = new Date().toISOString();
  });
})();
