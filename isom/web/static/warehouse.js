/* Warehouse flows by scanning: each task is a short list of prompts (scan a container, scan a
 * location, confirm a quantity) that ends in one command to the ledger or the order domain, sent
 * through the queue in scanqueue.js so a dropped network loses nothing. Receiving, picking,
 * packing and shipping show the order they work on (its open lines, what is still to pick), read
 * from the server when a clerk scans its number and again after each command; offline the
 * prompts go on without it and the server checks everything when the command arrives.
 * Plain JavaScript, no build step.
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
  var LEDGER = "/api/v1/ledger/", ORDERS = "/api/v1/orders/";
  // The order the clerk works on: {kind: "po" | "ship", number, view, items}; view null offline.
  var shown = null;

  // A task: its prompts in order, then the command it makes from what was scanned and typed:
  // [label, path under its api (the ledger unless `api` says otherwise), body].
  // A prompt is {scan: "<name>", text} or {ask: function (values, next)} that opens the dialog.
  // A scan prompt may `load` what the scan names (values, next, refuse); any prompt may have a
  // `when` (values) that skips it. A `repeat` task goes round again keeping its first `keep`
  // scans (the pallet, the ship order) until the clerk presses Done.
  var TASKS = {
    receive: {
      title: "Receive against PO",
      api: ORDERS,
      prompts: [{ scan: "order", text: "Scan or type the purchase order number", load: loadPurchaseOrder },
                { ask: askReceipt },
                { scan: "container", text: "Scan the new container's label" },
                { scan: "location", text: "Scan where you put it down" }],
      command: function (v) {
        var body = { order: v.order, line_no: v.line_no, quantity: v.quantity, container: v.container, location: v.location };
        if (v.supplier_lot) body.supplier_lot = v.supplier_lot;
        if (v.expiry_date) body.expiry_date = v.expiry_date;
        return ["Receive " + v.quantity + (v.item ? " " + v.item : "") + " on " + v.order + "/" + v.line_no + " into " + v.container,
          "purchase-orders/receive", body];
      }
    },
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
    },
    pick: {
      title: "Pick",
      api: ORDERS,
      repeat: true,
      prompts: [{ scan: "ship_order", text: "Scan the ship order", load: loadShipOrder },
                { scan: "container", text: "Scan a container from the pick list; Done when picked", load: findPick },
                { ask: askPickQuantity, when: partPick },
                { scan: "into", text: "Scan the tote to put the picked goods in (a new label makes one)", when: partPick }],
      command: function (v) {
        var body = { ship_order: v.ship_order, container: v.container };
        if (v.into) { body.quantity = v.quantity; body.into = v.into; }
        var label = v.into ? "Pick " + v.quantity + " " + v.pick.item + " from " + v.container + " into " + v.into
          : "Pick " + v.container;
        return [label + " for " + v.ship_order, "ship-orders/pick", body];
      }
    },
    pack: {
      title: "Pack",
      api: ORDERS,
      repeat: true,
      keep: 2,
      prompts: [{ scan: "ship_order", text: "Scan the ship order", load: loadShipOrder },
                { scan: "package", text: "Scan the shipping carton or pallet (a new label makes a carton)" },
                { scan: "container", text: "Scan a picked container to pack; Done when packed" }],
      command: function (v) {
        return ["Pack " + v.container + " into " + v.package + " for " + v.ship_order, "ship-orders/pack",
          { ship_order: v.ship_order, container: v.container, package: v.package }];
      }
    },
    ship: {
      title: "Ship",
      api: ORDERS,
      prompts: [{ scan: "ship_order", text: "Scan the ship order to ship", load: loadShipOrder },
                { ask: askShip }],
      command: function (v) {
        var body = { ship_order: v.ship_order };
        if (v.reference) body.reference = v.reference;
        return ["Ship " + v.ship_order, "ship-orders/ship", body];
      }
    }
  };

  var task = null, values = {}, at = 0, loading = false, held = [];

  function done(cmd, answer) {
    var balances = (answer && answer.balances) || [];
    var detail = (answer && answer.detail) || {};
    if (detail.pending) {
      // Beyond the site's count tolerance: nothing changed yet; a supervisor approves it.
      say("warn", cmd.label + ": awaiting approval — a difference of " + detail.delta + " to the book of " +
        detail.book + " needs a supervisor (count " + detail.proposal + "); nothing changed yet");
      return;
    }
    var text = cmd.label + ": done";
    if (balances.length === 1 && balances[0].quantity !== undefined) text += " — " + balances[0].quantity + " on hand there";
    if (answer && answer.number && answer.status) text += " — " + answer.number + " " + answer.status.replace("_", " ");
    if (detail.held) text += "; held for incoming inspection";
    if (detail.picked_container && detail.picked_container !== detail.container && !/ into /.test(cmd.label)) {
      text += "; put it in " + detail.picked_container;
    }
    say("ok", text);
    if (answer && shown && answer.number === shown.number) refresh();
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

  // --- the order on screen ---------------------------------------------------------------
  function num(x) { return String(x).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, ""); }
  function words(status) { return String(status).replace("_", " "); }
  var ORDER_PATHS = { po: "purchase-orders/", ship: "ship-orders/" };
  function fetchOrder(kind, number) {
    return IsomScan.getJson(ORDERS + ORDER_PATHS[kind] + encodeURIComponent(number));
  }
  function refresh() {
    var was = shown;
    fetchOrder(was.kind, was.number).then(function (view) {
      if (shown === was) { shown.view = view; paintOrder(); }
    }, function () { /* offline: what is shown stays until the next answer */ });
  }
  // Load an order on its scan; a refusal (unknown number, closed order) keeps the prompt.
  function loadOrder(kind, number, check, next, refuse, withView) {
    fetchOrder(kind, number).then(function (view) {
      var why = check(view);
      if (why) return refuse(why);
      shown = { kind: kind, number: number, view: view, items: {} };
      var order = shown;
      return (withView ? withView(order) : Promise.resolve()).then(function () {
        say("info", summary(order));
        paintOrder();
        next();
      });
    }, function (err) {
      if (err && err.refused) return refuse(err.text);
      shown = { kind: kind, number: number, view: null, items: {} };
      paintOrder();
      say("warn", "Offline: " + number + " is not shown; the server checks it when the network is back.");
      next();
    });
  }
  var RECEIVABLE = ["approved", "sent", "partly_received"];
  function loadPurchaseOrder(v, next, refuse) {
    loadOrder("po", v.order, function (po) {
      if (RECEIVABLE.indexOf(po.status) < 0) return po.number + " is " + words(po.status) + ": nothing can be received on it";
      if (!openLines(po).length) return po.number + " has nothing left to receive";
      return null;
    }, next, refuse, function (order) {
      // Each line's item: its unit, and whether it is lot tracked (then the lot is asked for).
      var codes = openLines(order.view).map(function (l) { return l.item; });
      return Promise.all(codes.map(function (code) {
        return IsomScan.getJson("/api/v1/masterdata/items/" + encodeURIComponent(code)).then(function (item) {
          order.items[code] = item;
        }, function () { /* unknown tracking: the lot fields stay optional and the server decides */ });
      }));
    });
  }
  var SHIPPABLE = ["planned", "picking", "picked", "packed"];
  function loadShipOrder(v, next, refuse) {
    loadOrder("ship", v.ship_order, function (so) {
      return SHIPPABLE.indexOf(so.status) < 0 ? so.number + " is " + words(so.status) + "; nothing more can be done on it" : null;
    }, next, refuse);
  }
  function openLines(po) {
    return po.lines.filter(function (l) {
      return l.status !== "closed" && l.status !== "cancelled" && Number(l.quantity_open) > 0;
    });
  }
  function findPick(v, next) {
    var view = shown && shown.kind === "ship" && shown.view;
    v.pick = null;
    (view ? view.picks : []).forEach(function (p) {
      if (!v.pick && p.status === "open" && p.container === v.container) v.pick = p;
    });
    next();
  }
  function partPick(v) { return !!(v.pick && !v.pick.whole_container); }

  function table(caption, head, rows) {
    if (!rows.length) return "";
    return '<table class="data compact"><caption>' + esc(caption) + "</caption><thead><tr>" +
      head.map(function (h) { return "<th" + (h.num ? ' class="num"' : "") + ">" + esc(h.text || h) + "</th>"; }).join("") +
      "</tr></thead><tbody>" + rows.map(function (r) {
        return "<tr>" + r.map(function (c, i) { return "<td" + (head[i].num ? ' class="num"' : "") + ">" + esc(c) + "</td>"; }).join("") + "</tr>";
      }).join("") + "</tbody></table>";
  }
  function Q(text) { return { text: text, num: true }; }
  function itemLot(p) { return p.item + (p.lot ? " · " + p.lot : ""); }
  function heading(text) { return '<h2 style="margin-top:0">' + esc(text) + "</h2>"; }
  // What the clerk is to do on the order just scanned, said in the message box.
  function summary(order) {
    var view = order.view;
    if (order.kind === "po") return view.number + ": " + openLines(view).length + " line(s) to receive.";
    var count = function (status) { return view.picks.filter(function (p) { return p.status === status; }).length; };
    return view.number + " for " + view.customer + ": " + count("open") + " to pick, " + count("picked") + " to pack, " +
      view.packages.length + " package(s).";
  }
  function paintOrder() {
    var box = $("t-order");
    if (!shown) { box.hidden = true; box.innerHTML = ""; return; }
    box.hidden = false;
    var view = shown.view, html;
    if (!view) {
      html = heading(shown.number) + '<p class="muted">Not shown while offline.</p>';
    } else if (shown.kind === "po") {
      html = heading(view.number + " · " + view.supplier + " · " + words(view.status)) +
        table("Lines", ["Line · item", Q("Ordered"), Q("Received"), Q("Open"), "Status"], view.lines.map(function (l) {
          var unit = shown.items[l.item] ? " " + shown.items[l.item].base_unit : "";
          return [l.line_no + " · " + l.item, num(l.quantity) + unit, num(l.quantity_received) + unit, num(l.quantity_open) + unit, words(l.status)];
        }));
    } else {
      var picks = function (status) { return view.picks.filter(function (p) { return p.status === status; }); };
      var open = picks("open"), picked = picks("picked");
      html = heading(view.number + " · " + view.customer_order + " · " + view.customer + " · " + words(view.status)) +
        table("Lines", ["Line · item", Q("To ship"), Q("Picked"), Q("Shipped")], view.lines.map(function (l) {
          return [l.line_no + " · " + l.item, num(l.quantity), num(l.quantity_picked), num(l.quantity_shipped)];
        })) +
        (open.length ? table("Still to pick", ["Container (where)", "Item · lot", Q("Quantity")], open.map(function (p) {
          return [p.container + (p.location ? " (" + p.location + ")" : ""), itemLot(p), num(p.quantity) + (p.whole_container ? " (whole)" : "")];
        })) : view.status === "shipped" ? "" : '<p class="empty">Nothing left to pick.</p>') +
        table("Picked, to pack", ["Container", "Item · lot", Q("Quantity")], picked.map(function (p) {
          return [p.picked_container || p.container, itemLot(p), num(p.picked_quantity)];
        })) +
        (view.packages.length ? "<p>Packages: <strong>" + esc(view.packages.join(", ")) + "</strong></p>" : "");
    }
    box.innerHTML = html;
  }

  // --- the dialogs of the order tasks ------------------------------------------------------
  function askReceipt(v, next) {
    var po = shown && shown.kind === "po" && shown.number === v.order ? shown.view : null;
    var lines = po ? openLines(po) : [];
    var item = function (l) { return (l && shown.items[l.item]) || null; };
    var tracked = lines.some(function (l) { return item(l) && item(l).tracking !== "none"; });
    var html = "";
    if (!po) {
      html += field("t-line-no", "Line number", "1", 'inputmode="numeric" required');
    } else if (lines.length > 1) {
      html += '<fieldset class="term-choice"><legend>Which line</legend>' + lines.map(function (l, i) {
        return '<label><input type="radio" name="t-po-line" value="' + i + '"' + (i ? "" : " checked") + "> " + esc(l.line_no) + " · " +
          esc(l.item) + " — " + esc(num(l.quantity_open)) + " open</label>";
      }).join("") + "</fieldset>";
    }
    var first = lines[0], unit = item(first) ? " (" + esc(item(first).base_unit) + ")" : "";
    html += field("t-qty-value", "Quantity received" + (lines.length === 1 ? unit : ""), first ? num(first.quantity_open) : "", 'inputmode="decimal" required');
    if (!po || tracked) {
      html += field("t-supplier-lot", "Supplier lot" + (po ? "" : " (if lot tracked)"), "", "maxlength=64" + (po && lines.length === 1 ? " required" : "")) +
        field("t-expiry", "Expiry date (if any)", "", 'type="date"');
    }
    var hint = !po ? "Offline: type the line number and quantity from the delivery note." :
      lines.length === 1 ? "Line " + first.line_no + ": " + first.item + ", " + num(first.quantity_open) + " still to come." : "";
    dialog.open("Receive on " + v.order, hint, html, function () {
      var line = po ? lines[lines.length > 1 ? parseInt(form.querySelector('input[name="t-po-line"]:checked').value, 10) : 0] : null;
      var lineNo = line ? line.line_no : parseInt($("t-line-no").value, 10);
      if (!(lineNo > 0)) { say("error", "Line number must be a whole number like 1."); return false; }
      var qty = decimal("t-qty-value", "Quantity received");
      if (qty === null) return false;
      var lot = $("t-supplier-lot") ? $("t-supplier-lot").value.trim() : "";
      if (line && item(line) && item(line).tracking !== "none" && !lot) {
        say("error", line.item + " is lot tracked: type the supplier's lot from the label.");
        $("t-supplier-lot").focus();
        return false;
      }
      v.line_no = lineNo; v.item = line ? line.item : ""; v.quantity = qty;
      v.supplier_lot = lot || null; v.expiry_date = $("t-expiry") ? $("t-expiry").value || null : null;
      next();
      return true;
    });
    // Choosing another line offers its open quantity.
    Array.prototype.forEach.call(form.querySelectorAll('input[name="t-po-line"]'), function (radio) {
      radio.addEventListener("change", function () { $("t-qty-value").value = num(lines[parseInt(radio.value, 10)].quantity_open); });
    });
  }
  function askPickQuantity(v, next) {
    var p = v.pick;
    dialog.open("Pick from " + v.container, p.item + (p.lot ? " lot " + p.lot : "") + ": the pick list asks for " + num(p.quantity) + " from " + v.container + ".",
      field("t-qty-value", "Quantity picked", num(p.quantity), 'inputmode="decimal" required'), function () {
        var qty = decimal("t-qty-value", "Quantity picked");
        if (qty === null) return false;
        if (Number(qty) <= 0 || Number(qty) > Number(p.quantity)) {
          say("error", "Quantity picked must be more than 0 and at most " + num(p.quantity) + ", not " + qty);
          return false;
        }
        v.quantity = qty;
        next();
        return true;
      });
  }
  function askShip(v, next) {
    var so = shown && shown.kind === "ship" && shown.number === v.ship_order ? shown.view : null;
    var hint = so ? (so.packages.length ? "Ship " + so.packages.join(", ") + " to " + so.customer + ", " + so.ship_to + "."
      : so.number + " has nothing packed yet.") : "Offline: the server checks the packages when the network is back.";
    dialog.open("Ship " + v.ship_order, hint, field("t-reference", "Carrier reference (optional)", "", "maxlength=100"), function () {
      v.reference = $("t-reference").value.trim() || null;
      next();
      return true;
    });
  }

  function begin(name) {
    task = name; values = {}; at = 0; shown = null;
    say("info", TASKS[name].title + ": " + TASKS[name].prompts[0].text.toLowerCase() + ".");
    paint(); paintOrder();
  }
  function kept() { var t = task && TASKS[task]; return t && t.repeat ? t.keep || 1 : 0; }
  function restart() {
    var keep = kept(), left = {};
    TASKS[task].prompts.slice(0, keep).forEach(function (p) { left[p.scan] = values[p.scan]; });
    values = left; at = keep; paint();
  }
  function advance() {
    at += 1;
    var prompts = TASKS[task].prompts;
    while (at < prompts.length && prompts[at].when && !prompts[at].when(values)) at += 1;
    if (at < prompts.length) {
      var p = prompts[at];
      if (p.ask) return p.ask(values, advance);
      return paint();
    }
    var made = TASKS[task].command(values);
    io.enqueue(made[0], (TASKS[task].api || LEDGER) + made[1], made[2]);
    restart();
  }
  function onScan(raw) {
    var code = raw.trim();
    if (!code) return;
    if (!task) return say("error", "Choose a task first, then scan.");
    if (loading) { held.push(code); return; }
    var p = TASKS[task].prompts[at];
    if (!p.scan) return;
    values[p.scan] = code;
    if (!p.load) return advance();
    // While the server looks the scan up, the next scans wait, then go to the prompts after it;
    // a refusal drops them (they were meant for an order that is not there).
    var mine = values, here = at;
    var still = function () { return values === mine && at === here; };
    loading = true;
    var settle = function () { var later = held; loading = false; held = []; return later; };
    p.load(values, function () {
      var later = settle();
      if (still()) advance();
      later.forEach(onScan);
    }, function (why) {
      var later = settle();
      if (!still()) return later.forEach(onScan);
      delete values[p.scan];
      say("error", why + (later.length ? " (not used: " + later.join(", ") + ")" : ""));
      paint();
    });
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
    if (task && TASKS[task].repeat && at >= kept()) {
      panel.appendChild(button("Done", function () { say("info", TASKS[task].title + ": done."); task = null; paint(); }));
    }
    var p = task && TASKS[task].prompts[at];
    $("t-prompt").textContent = p && p.scan ? p.text : task ? TASKS[task].title : "Choose a task";
    var scanned = Object.keys(values).filter(function (k) { return values[k] && typeof values[k] !== "object"; });
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
