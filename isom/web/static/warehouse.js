/* Warehouse flows by scanning: each task is a short list of prompts (scan a container, scan a
 * location, confirm a quantity) that ends in one ledger command, sent through the queue in
 * scanqueue.js so a dropped network loses nothing. Plain JavaScript, no build step.
 */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var root = $("warehouse");
  var scan = $("t-scan"), panel = $("t-panel"), message = $("t-message"), form = $("t-qty");
  var io = IsomScan.create({
    prefix: "isom.warehouse.", csrf: root.dataset.csrf, message: message, keyPrefix: "warehouse",
    onDone: done, onChange: function () { paint(); }
  });
  var say = io.say, esc = IsomScan.esc, field = IsomScan.field;
  var dialog = IsomScan.dialog(form, scan, say);
  function decimal(id, label) { return IsomScan.decimal(id, label, say); }

  // A task: its prompts in order, then the command it makes from what was scanned and typed.
  // A prompt is {scan: "<name>", text} or {ask: function (values, next)} that opens the dialog.
  var TASKS = {
    move: {
      title: "Put away / move",
      prompts: [{ scan: "container", text: "Scan the container to move" },
                { scan: "to_location", text: "Scan the location to put it" }],
      command: function (v) { return ["Move " + v.container + " to " + v.to_location, "move", { container: v.container, to_location: v.to_location }]; }
    },
    pallet: {
      title: "Start a pallet",
      prompts: [{ scan: "container", text: "Scan the new pallet's label" },
                { scan: "location", text: "Scan where the pallet stands" }],
      command: function (v) {
        return ["New pallet " + v.container + " at " + v.location, "create-container",
          { container: v.container, container_kind: "pallet", location: v.location }];
      }
    },
    nest: {
      title: "Nest onto a pallet",
      repeat: true,
      prompts: [{ scan: "parent", text: "Scan the pallet (or carton) to load" },
                { scan: "container", text: "Scan a container to put on it; Done when loaded" }],
      command: function (v) { return ["Put " + v.container + " on " + v.parent, "nest", { container: v.container, parent: v.parent }]; }
    },
    unnest: {
      title: "Take off a pallet",
      prompts: [{ scan: "container", text: "Scan the container to take off" }],
      command: function (v) { return ["Take " + v.container + " off", "unnest", { container: v.container }]; }
    },
    split: {
      title: "Split",
      prompts: [{ scan: "container", text: "Scan the container to split" },
                { ask: askLine("Split off", "Quantity to split off") },
                { scan: "into", text: "Scan the new container's label (or an existing container)" }],
      command: function (v) {
        return ["Split " + v.quantity + " " + v.item + " from " + v.container + " into " + v.into, "split",
          { container: v.container, new_container: v.into, lines: [{ item: v.item, lot: v.lot, quantity: v.quantity }] }];
      }
    },
    merge: {
      title: "Merge",
      prompts: [{ scan: "container", text: "Scan the container to empty" },
                { scan: "into", text: "Scan the container to merge it into" }],
      command: function (v) { return ["Merge " + v.container + " into " + v.into, "merge", { container: v.container, into: v.into }]; }
    },
    count: {
      title: "Count",
      prompts: [{ scan: "container", text: "Scan the container you count" },
                { ask: askLine("Count", "Counted quantity", true) }],
      command: function (v) {
        return ["Count " + v.item + " in " + v.container + ": " + v.quantity, "count",
          { container: v.container, item: v.item, lot: v.lot, counted_quantity: v.quantity }];
      }
    },
    hold: {
      title: "Hold",
      prompts: [{ scan: "container", text: "Scan the container to hold" }, { ask: askReason("Hold", true) }],
      command: function (v) { return ["Hold " + v.container, "hold", { container: v.container, reason: v.reason }]; }
    },
    release: {
      title: "Release a hold",
      prompts: [{ scan: "container", text: "Scan the container to release" }, { ask: askReason("Release", false) }],
      command: function (v) { return ["Release " + v.container, "release", { container: v.container, reason: v.reason || null }]; }
    }
  };

  var task = null, values = {}, at = 0;

  function done(cmd, answer) {
    var balances = (answer && answer.balances) || [];
    var text = cmd.label + ": done";
    if (balances.length === 1 && balances[0].quantity !== undefined) text += " — " + balances[0].quantity + " on hand there";
    say("ok", text);
  }

  // A container's lines, from the server when online; offline the clerk types item and lot.
  function linesOf(container) {
    return IsomScan.getJson("/api/v1/containers/" + encodeURIComponent(container)).then(function (body) {
      return body.contents.map(function (c) { return { item: c.item, lot: c.lot, unit: c.unit, have: c.quantity }; });
    });
  }
  function askLine(verb, label, blank) {
    return function (v, next) {
      var open = function (lines, offline) {
        var l0 = lines[0] || {};
        var html = offline
          ? field("t-item", "Item", "", "required") + field("t-lot", "Lot (if any)", "")
          : IsomScan.lineChoice(lines);
        html += field("t-qty-value", label + (l0.unit && lines.length === 1 ? " (" + esc(l0.unit) + ")" : ""),
          blank || offline ? "" : l0.have, 'inputmode="decimal" required');
        var hint = offline ? "Offline: type the item and lot from the label." :
          lines.length === 1 ? l0.item + (l0.lot ? " lot " + l0.lot : "") + ": " + l0.have + " " + l0.unit + " in " + v.container : "";
        dialog.open(verb + " " + v.container, hint, html, function () {
          var qty = decimal("t-qty-value", label);
          if (qty === null) return false;
          var line = offline ? { item: $("t-item").value.trim(), lot: $("t-lot").value.trim() || null } : IsomScan.chosenLine(form, lines);
          if (!line.item) { say("error", "Type the item code from the label."); return false; }
          v.item = line.item; v.lot = line.lot || null; v.quantity = qty;
          next();
          return true;
        });
      };
      linesOf(v.container).then(function (lines) {
        if (!lines.length) return say("error", "Container " + v.container + " is empty.");
        open(lines, false);
      }, function (err) {
        if (err && err.refused) { say("error", err.text); return restart(); }
        open([], true);
      });
    };
  }
  function askReason(verb, required) {
    return function (v, next) {
      dialog.open(verb + " " + v.container, required ? "Say why, so the next person knows." : "", field("t-reason", "Reason", "", required ? "required maxlength=500" : "maxlength=500"), function () {
        var reason = $("t-reason").value.trim();
        if (required && !reason) { say("error", "Say why the container is held."); return false; }
        v.reason = reason;
        next();
        return true;
      });
    };
  }

  function begin(name) {
    task = name; values = {}; at = 0;
    say("info", TASKS[name].title + ": " + TASKS[name].prompts[0].text.toLowerCase() + ".");
    paint();
  }
  function restart() { values = task && TASKS[task].repeat ? keepFirst() : {}; at = task && TASKS[task].repeat ? 1 : 0; paint(); }
  function keepFirst() { var first = TASKS[task].prompts[0].scan, kept = {}; kept[first] = values[first]; return kept; }
  function advance() {
    at += 1;
    var prompts = TASKS[task].prompts;
    if (at < prompts.length) {
      var p = prompts[at];
      if (p.ask) return p.ask(values, advance);
      return paint();
    }
    var made = TASKS[task].command(values);
    io.enqueue(made[0], "/api/v1/ledger/" + made[1], made[2]);
    restart();
  }
  function onScan(raw) {
    var code = raw.trim();
    if (!code) return;
    if (!task) return say("error", "Choose a task first, then scan.");
    var p = TASKS[task].prompts[at];
    if (!p.scan) return;
    values[p.scan] = code;
    advance();
  }

  function button(label, handler, cls) {
    var b = document.createElement("button");
    b.type = "button"; b.textContent = label; b.className = "term-btn " + (cls || "");
    b.addEventListener("click", function () { handler(); if (!dialog.isOpen()) scan.focus(); });
    return b;
  }
  function paint() {
    $("t-net").textContent = io.online() ? "online" : "offline";
    $("t-net").className = "net " + (io.online() ? "online" : "offline");
    $("t-queue").textContent = String(io.size());
    $("t-task").textContent = task ? TASKS[task].title : "none";
    panel.innerHTML = "";
    var tasks = document.createElement("div");
    tasks.className = "term-actions";
    Object.keys(TASKS).forEach(function (name) {
      tasks.appendChild(button(TASKS[name].title, function () { begin(name); }, name === task ? "" : "secondary"));
    });
    panel.appendChild(tasks);
    if (task && TASKS[task].repeat && at > 0) {
      panel.appendChild(button("Done", function () { say("info", TASKS[task].title + ": done."); task = null; paint(); }));
    }
    var p = task && TASKS[task].prompts[at];
    $("t-prompt").textContent = p && p.scan ? p.text : task ? TASKS[task].title : "Choose a task";
    var scanned = Object.keys(values).filter(function (k) { return values[k]; });
    $("t-scanned").textContent = scanned.map(function (k) { return k.replace("_", " ") + " " + values[k]; }).join(" · ");
  }

  $("t-scan-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var value = scan.value; scan.value = "";
    onScan(value);
  });
  IsomScan.keepFocus(scan, function () { return !dialog.isOpen(); });
  paint();
  say("info", io.size() ? io.size() + " scan(s) from before are being sent." : "Choose a task.");
  io.pump();
})();
