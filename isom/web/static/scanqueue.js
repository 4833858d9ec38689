/* What every scanning screen shares: loud messages and a queue of commands that survives the
 * network. Plain JavaScript, no build step.
 *
 * Every command gets an idempotency key and the device time at the moment of the scan, and waits
 * in a queue kept in localStorage. Commands are sent one at a time, in order; when the network is
 * down they stay queued and go when it returns. The key makes a resend of a command the server
 * already applied harmless. A refusal (4xx) is final: the screen says why, loud and plain, and
 * drops the command; nothing was changed on the server.
 */
window.IsomScan = (function () {
  "use strict";
  var audio = null;

  function beep(freq, ms, at) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = freq; gain.gain.value = 0.2;
      osc.connect(gain); gain.connect(audio.destination);
      var t = audio.currentTime + (at || 0);
      osc.start(t); osc.stop(t + ms / 1000);
    } catch (e) { /* no audio device: the message still shows */ }
  }

  function esc(t) {
    return String(t === null || t === undefined ? "" : t).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }

  function problemText(p, status) {
    if (!p || typeof p !== "object") return "Refused (" + status + ")";
    var text = p.detail || p.title || ("Refused (" + status + ")");
    if (p.expected) text += " — expected " + p.expected;
    return text;
  }

  function uuid() {  // crypto.randomUUID needs https; getRandomValues works on a plant's LAN too
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function store(prefix) {
    return {
      load: function (name, fallback) {
        try { var v = localStorage.getItem(prefix + name); return v === null ? fallback : JSON.parse(v); }
        catch (e) { return fallback; }
      },
      save: function (name, value) { localStorage.setItem(prefix + name, JSON.stringify(value)); }
    };
  }

  /* A screen's message box and command queue.
   * opts: prefix (localStorage namespace), csrf, message (element), onDone(cmd, answer),
   *       onChange() (repaint counters), keyPrefix (for the idempotency keys). */
  function create(opts) {
    var saved = store(opts.prefix);
    var queue = saved.load("queue", []);
    var online = true, pumping = false, retry = null;

    function say(kind, text) {
      opts.message.className = "term-msg " + kind;
      opts.message.textContent = text;
      if (kind === "error") {
        beep(220, 250); beep(180, 350, 0.3);
        if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
      } else if (kind === "ok") {
        beep(880, 120);
      }
    }
    function changed() { if (opts.onChange) opts.onChange(); }
    function drop() { queue.shift(); saved.save("queue", queue); changed(); }
    function later() { clearTimeout(retry); retry = setTimeout(pump, 3000); }

    function pump() {
      if (pumping || !queue.length) return;
      pumping = true;
      var cmd = queue[0];
      fetch(cmd.path, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Idempotency-Key": cmd.key, "X-CSRF-Token": opts.csrf },
        body: JSON.stringify(cmd.body)
      }).then(function (res) {
        return res.json().catch(function () { return null; }).then(function (answer) {
          pumping = false;
          online = true; changed();
          if (res.ok) {
            drop();
            opts.onDone(cmd, answer);
          } else if (res.status >= 500 || res.status === 401) {
            say("warn", res.status === 401
              ? "Signed out: sign in again to send " + queue.length + " waiting scan(s)."
              : "The server is busy; " + queue.length + " scan(s) will be sent again.");
            return later();
          } else {
            drop();
            say("error", cmd.label + ": " + problemText(answer, res.status));
          }
          pump();
        });
      }).catch(function () {
        pumping = false;
        online = false; changed();
        say("warn", "Offline: " + queue.length + " scan(s) kept on this device, sent when the network is back.");
        later();
      });
    }
    window.addEventListener("online", pump);

    return {
      say: say,
      load: saved.load,
      save: saved.save,
      size: function () { return queue.length; },
      online: function () { return online; },
      pump: pump,
      enqueue: function (label, path, body) {
        body.occurred_at = new Date().toISOString();
        queue.push({ key: opts.keyPrefix + "-" + uuid(), label: label, path: path, body: body });
        saved.save("queue", queue);
        changed();
        pump();
      }
    };
  }

  /* GET a JSON resource; rejects with {refused, text} on a 4xx/5xx and with an Error offline. */
  function getJson(path) {
    return fetch(path, { credentials: "same-origin" }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (body) {
        if (!res.ok) throw { refused: true, text: problemText(body, res.status) };
        return body;
      });
    });
  }

  /* Keep the one scan field focused: a keyboard-wedge scanner types wherever the focus is. */
  function keepFocus(field, isFree) {
    document.addEventListener("click", function (e) {
      if (isFree() && !e.target.closest("a, input, select, button, label, textarea")) field.focus();
    });
  }

  /* The one dialog a scanning screen opens for quantities and reasons, over its scan field.
   * form holds a title (h2), a hint (p.muted), a fields box (div.stack) and Confirm/Cancel. */
  function dialog(form, scanField, say) {
    var onConfirm = null;
    var title = form.querySelector("h2"), hint = form.querySelector("p.muted");
    var fields = form.querySelector(".stack"), cancel = form.querySelector("button[type=button]");
    function close() { form.hidden = true; onConfirm = null; scanField.focus(); }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (onConfirm && onConfirm() !== false) close();
    });
    cancel.addEventListener("click", function () { say("info", "Cancelled: nothing was sent."); close(); });
    return {
      isOpen: function () { return !form.hidden; },
      close: close,
      open: function (titleText, hintText, html, confirm) {
        title.textContent = titleText; hint.textContent = hintText || ""; fields.innerHTML = html;
        onConfirm = confirm;
        form.hidden = false;
        var first = form.querySelector("input:not([type=radio]), select");
        if (first) { first.focus(); if (first.select) first.select(); }
      }
    };
  }

  function field(id, label, value, attrs) {
    return '<label for="' + id + '">' + label + '<input id="' + id + '" value="' + esc(value) + '" ' + (attrs || "") + "></label>";
  }

  /* A typed decimal, or null after saying what is wrong with it. */
  function decimal(id, label, say) {
    var input = document.getElementById(id);
    var v = input.value.trim().replace(",", ".");
    if (!/^\d+(\.\d+)?$/.test(v)) {
      say("error", label + " must be a number like 12 or 12.5, not '" + input.value + "'");
      input.focus();
      return null;
    }
    return v;
  }

  /* Radio buttons to choose one line of a container: {item, lot, unit, have}. */
  function lineChoice(lines) {
    if (lines.length < 2) return "";
    return '<fieldset class="term-choice"><legend>Which line</legend>' + lines.map(function (l, i) {
      return '<label><input type="radio" name="t-line" value="' + i + '"' + (i ? "" : " checked") + "> " +
        esc(l.item) + (l.lot ? " lot " + esc(l.lot) : "") + (l.have !== null && l.have !== undefined ? " — " + esc(l.have) + " " + esc(l.unit) : "") + "</label>";
    }).join("") + "</fieldset>";
  }
  function chosenLine(form, lines) {
    var picked = form.querySelector('input[name="t-line"]:checked');
    return lines[picked ? parseInt(picked.value, 10) : 0];
  }

  return {
    create: create, esc: esc, problemText: problemText, getJson: getJson, keepFocus: keepFocus,
    dialog: dialog, field: field, decimal: decimal, lineChoice: lineChoice, chosenLine: chosenLine
  };
})();
