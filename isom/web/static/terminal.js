/* The operator's scan terminal. Plain JavaScript, no build step; the queue that survives the
 * network is in scanqueue.js.
 */
(function () {
  "use strict";
  var root = document.getElementById("terminal");
  var floor = JSON.parse(document.getElementById("t-floor").textContent);
  var reasons = JSON.parse(document.getElementById("t-reasons").textContent);
  var jobPattern = new RegExp(root.dataset.jobPattern, "i");
  var csrf = root.dataset.csrf;
  var $ = function (id) { return document.getElementById(id); };
  var scan = $("t-scan"), panel = $("t-panel"), message = $("t-message"), qtyForm = $("t-qty");

  var io = IsomScan.create({
    prefix: "isom.terminal.", csrf: csrf, message: message, keyPrefix: "terminal",
    onDone: done, onChange: function () { paint(); }
  });
  var say = io.say, esc = IsomScan.esc, load = io.load, save = io.save;

  var state = {
    station: load("station", null),   // workstation code
    badge: load("badge", null),       // the operator signed on at this terminal
    job: load("job", null),           // {number, step}
    jobs: load("jobs", {})            // work order views seen, for working offline
  };
  function enqueue(label, path, body) { io.enqueue(label, path, body); }

  function done(cmd, answer) {
    var detail = (answer && answer.detail) || {};
    var text = cmd.label + ": done";
    if (answer && answer.step_status) text += " — step " + answer.step + " is " + answer.step_status;
    if (/\/stop$/.test(cmd.path) && detail.container) {
      text += " — made into " + detail.container;
      state.made = detail.container;  // its label is offered until the next job
    }
    say("ok", text);
    refreshJob();
  }

  // --- jobs -------------------------------------------------------------------------------------
  function currentView() { return state.job ? state.jobs[state.job.number] : null; }
  function currentStep() {
    var view = currentView();
    if (!view || !state.job.step) return null;
    return view.steps.filter(function (s) { return s.sequence === state.job.step; })[0] || null;
  }
  function fetchJob(number) {
    return IsomScan.getJson("/api/v1/production/work-orders/" + encodeURIComponent(number))
      .then(function (body) { state.jobs[body.number] = body; save("jobs", state.jobs); return body; });
  }
  function refreshJob() {
    if (!state.job || io.size()) return paint();
    fetchJob(state.job.number).then(paint, paint);
  }
  function openJob(code) {
    var parts = code.toUpperCase().split("/");
    var number = parts[0], step = parts[1] ? parseInt(parts[1], 10) : null;
    var choose = function (view) {
      if (step === null) {
        var open = view.steps.filter(function (s) { return s.status !== "done" && s.status !== "waiting"; });
        if (open.length === 1) step = open[0].sequence;
      }
      state.job = { number: view.number || number, step: step };
      save("job", state.job);
      say("info", step ? "Job " + state.job.number + " step " + step + ": choose an action or scan a container."
                       : "Job " + state.job.number + ": choose the step.");
      paint();
    };
    fetchJob(number).then(choose, function (err) {
      if (err && err.refused) return say("error", err.text);
      var cached = state.jobs[number];
      if (cached) return choose(cached);
      if (step === null) return say("error", "Offline, and job " + number + " was not opened here before: scan the job step (" + number + "/10).");
      state.job = { number: number, step: step }; save("job", state.job);
      say("warn", "Offline: job " + number + " step " + step + " chosen without its details.");
      paint();
    });
  }

  // --- what a scan means depends on what the terminal is waiting for ----------------------------
  function station(code) { return floor.workstations.filter(function (w) { return w.code.toUpperCase() === code.toUpperCase(); })[0]; }
  function person(code) { return floor.people[code] || floor.people[code.toUpperCase()]; }
  function onScan(raw) {
    var code = raw.trim();
    if (!code) return;
    var ws = station(code);
    if (ws) { state.station = ws.code; save("station", ws.code); say("ok", "This terminal is " + ws.code + " — " + ws.name); return paint(); }
    if (person(code)) {
      state.badge = code; save("badge", code);
      say("ok", "Hello " + person(code).name + (state.job ? "" : ": scan the job."));
      return paint();
    }
    if (!state.station) return say("error", "Scan this terminal's workstation first (or choose it below). " + code + " is not a workstation.");
    if (!state.badge) return say("error", code + " is not a badge: scan your badge first.");
    if (jobPattern.test(code)) return openJob(code);
    if (!state.job || !state.job.step) return say("error", code + " is not a job: scan the job (e.g. WO-000004/10).");
    consume(code);
  }

  function stepBody(extra) {
    var body = { badge: state.badge, work_order: state.job.number, step: state.job.step, workstation: state.station };
    for (var k in extra) body[k] = extra[k];
    return body;
  }
  function act(path, label) {
    return function () { enqueue(label + " " + state.job.number + "/" + state.job.step, "/api/v1/production/scan/" + path, stepBody({})); };
  }

  function consume(container) {
    var step = currentStep();
    var needs = step ? step.inputs.filter(function (i) { return !i.floor_stock; }) : [];
    var ask = function (lines) {
      if (!lines.length) return say("error", "Container " + container + " holds nothing step " + state.job.step + " needs (" + needs.map(function (n) { return n.item; }).join(", ") + ").");
      askQuantity("Consume from " + container, lines, function (line, qty) {
        enqueue("Consume " + qty + " " + line.item + " from " + container, "/api/v1/production/scan/consume", {
          work_order: state.job.number, step: state.job.step, container: container,
          item: line.item, lot: line.lot || null, quantity: qty, badge: state.badge
        });
      });
    };
    IsomScan.getJson("/api/v1/containers/" + encodeURIComponent(container))
      .then(function (body) {
        var wanted = needs.map(function (n) { return n.item; });
        var lines = body.contents.filter(function (c) { return !wanted.length || wanted.indexOf(c.item) >= 0; })
          .map(function (c) {
            var need = needs.filter(function (n) { return n.item === c.item; })[0];
            var suggest = need && Number(need.quantity) < Number(c.quantity) ? need.quantity : c.quantity;
            return { item: c.item, lot: c.lot, unit: c.unit, have: c.quantity, suggest: suggest };
          });
        ask(lines);
      }, function (err) {
        if (err && err.refused) return say("error", err.text);
        // Offline: the step's own inputs say what the container should hold; the server checks it.
        ask(needs.map(function (n) { return { item: n.item, lot: null, unit: "", have: null, suggest: n.quantity }; }));
      });
  }

  // --- the quantity dialog ----------------------------------------------------------------------
  var dialog = IsomScan.dialog(qtyForm, scan, say), field = IsomScan.field;
  function decimal(id, label) { return IsomScan.decimal(id, label, say); }
  function askQuantity(title, lines, then) {
    var l0 = lines[0];
    var html = IsomScan.lineChoice(lines) +
      field("t-qty-value", "Quantity" + (l0.unit ? " (" + esc(l0.unit) + ")" : ""), l0.suggest, 'inputmode="decimal" required');
    var hint = lines.length === 1 ? l0.item + (l0.lot ? " lot " + l0.lot : "") + (l0.have !== null ? ", " + l0.have + " " + l0.unit + " in the container" : "") : "";
    dialog.open(title, hint, html, function () {
      var qty = decimal("t-qty-value", "Quantity");
      if (qty === null) return false;
      then(IsomScan.chosenLine(qtyForm, lines), qty);
      return true;
    });
  }
  function askStop() {
    var view = currentView(), step = currentStep();
    var left = view ? Math.max(0, Number(view.quantity) - Number(step ? step.quantity_good : 0)) : "";
    var html = field("t-good", "Good quantity", left, 'inputmode="decimal" required') +
      field("t-scrap", "Scrap quantity", "0", 'inputmode="decimal"') +
      '<label for="t-reason">Scrap reason<select id="t-reason"><option value="">—</option>' +
      reasons.map(function (r) { return "<option>" + esc(r) + "</option>"; }).join("") + "</select></label>" +
      '<label class="term-check"><input type="checkbox" id="t-complete" checked> The step is finished</label>';
    dialog.open("Stop " + state.job.number + "/" + state.job.step, "Count what you made; a label prints for the output.", html, function () {
      var good = decimal("t-good", "Good quantity"), scrap = decimal("t-scrap", "Scrap quantity");
      if (good === null || scrap === null) return false;
      var reason = $("t-reason").value;
      if (Number(scrap) > 0 && !reason) { say("error", "Choose why " + scrap + " was scrapped."); $("t-reason").focus(); return false; }
      enqueue("Stop " + state.job.number + "/" + state.job.step, "/api/v1/production/scan/stop", stepBody({
        good_quantity: good, scrap_quantity: scrap, scrap_reason: reason || null, complete: $("t-complete").checked
      }));
      return true;
    });
  }
  // --- painting ---------------------------------------------------------------------------------
  function button(label, handler, cls) {
    var b = document.createElement("button");
    b.type = "button"; b.textContent = label; b.className = "term-btn " + (cls || "");
    b.addEventListener("click", function () { handler(); if (!dialog.isOpen()) scan.focus(); });
    return b;
  }
  function paint() {
    var p = state.badge && person(state.badge);
    $("t-station").textContent = state.station || "none";
    $("t-person").textContent = p ? p.name + " (" + state.badge + ")" : "none";
    $("t-job").textContent = state.job ? state.job.number + (state.job.step ? "/" + state.job.step : "") : "none";
    $("t-net").textContent = io.online() ? "online" : "offline";
    $("t-net").className = "net " + (io.online() ? "online" : "offline");
    $("t-queue").textContent = String(io.size());
    panel.innerHTML = "";
    var prompt;
    if (!state.station) {
      prompt = "Scan this terminal's workstation";
      floor.workstations.forEach(function (w) {
        panel.appendChild(button(w.code + " — " + w.name, function () { onScan(w.code); }, "secondary"));
      });
    } else if (!state.badge) {
      prompt = "Scan your badge";
    } else if (!state.job) {
      prompt = "Scan the job";
    } else if (!state.job.step) {
      prompt = "Choose the step of " + state.job.number;
      var view = currentView();
      (view ? view.steps : []).forEach(function (s) {
        panel.appendChild(button(s.sequence + " " + s.name + " (" + s.status + ")", function () {
          state.job.step = s.sequence; save("job", state.job); paint();
        }, "secondary"));
      });
    } else {
      prompt = "Scan a container to consume, or choose an action";
      var step = currentStep();
      if (step) {
        var info = document.createElement("p");
        info.className = "term-step";
        info.textContent = step.sequence + " " + step.name + " — " + step.status + ", good so far " + step.quantity_good +
          (step.inputs.length ? "; needs " + step.inputs.map(function (i) { return i.quantity + " " + i.item; }).join(", ") : "");
        panel.appendChild(info);
      }
      var actions = document.createElement("div");
      actions.className = "term-actions";
      actions.appendChild(button("Start", act("start", "Start")));
      actions.appendChild(button("Stop…", askStop));
      actions.appendChild(button("Pause", act("pause", "Pause"), "secondary"));
      actions.appendChild(button("Resume", act("resume", "Resume"), "secondary"));
      actions.appendChild(button("Leave (break, end of shift)", act("leave", "Leave"), "secondary"));
      actions.appendChild(button("Other job", function () { state.job = null; state.made = null; save("job", null); paint(); }, "secondary"));
      actions.appendChild(button("Sign off", function () { state.badge = null; save("badge", null); paint(); }, "secondary"));
      if (state.made) {
        var label = document.createElement("a");
        label.className = "button term-btn";
        label.href = "/api/v1/devices/labels/container/" + encodeURIComponent(state.made) + ".pdf";
        label.target = "_blank";
        label.textContent = "Print label for " + state.made;
        actions.appendChild(label);
      }
      panel.appendChild(actions);
    }
    if (state.station) {
      var change = button("Change workstation", function () { state.station = null; save("station", null); paint(); }, "link");
      panel.appendChild(change);
    }
    $("t-prompt").textContent = prompt;
  }

  // --- the one scan field keeps the focus -------------------------------------------------------
  $("t-scan-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var value = scan.value; scan.value = "";
    onScan(value);
  });
  IsomScan.keepFocus(scan, function () { return !dialog.isOpen(); });

  paint();
  say("info", io.size() ? io.size() + " scan(s) from before are being sent." : "Ready.");
  if (state.job) refreshJob();
  io.pump();
})();
