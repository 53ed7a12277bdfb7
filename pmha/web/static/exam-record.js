// The exam record page: no typed text is lost (issue 14).
// Each section is its own form, so saving one reloads the page. Before any form of the page is
// sent, what was typed but not saved in the OTHER sections is kept in this tab's sessionStorage;
// the page that comes back puts it in its fields again, says so, and forgets the copy. Leaving
// the page with unsaved changes asks first (beforeunload).
(function () {
  "use strict";
  // Kept per signed-in user and page, and only for as long as a session may sit idle.
  var script = document.currentScript;
  var OWNER = (script && script.dataset.owner) || "";
  var KEY = "pmha-exam-unsaved:" + OWNER + ":" + window.location.pathname;
  var MAX_AGE_MS = 30 * 60 * 1000;
  var SKIP = { csrf_token: true, version: true, action: true, password: true };
  var forms = Array.prototype.slice.call(document.querySelectorAll("form.exam-form[data-section]"));
  var initial = {};
  var sending = false;

  // A select's value as the page came from the server (its selected option, else the first).
  function defaultOf(select) {
    var options = Array.prototype.slice.call(select.options);
    var chosen = options.filter(function (o) { return o.defaultSelected; })[0] || options[0];
    return chosen ? chosen.value : "";
  }

  // The form's values now, or (`asServed`) as the server rendered them: what was typed before
  // this script ran (a slow load, a fast typist) still counts as a change.
  function snapshot(form, asServed) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "submit" || el.type === "button") return;
      if (el.type === "radio") {
        if (!(el.name in out)) out[el.name] = "";
        if (asServed ? el.defaultChecked : el.checked) out[el.name] = el.value;
      } else if (el.type === "checkbox") {
        out[el.name] = (asServed ? el.defaultChecked : el.checked) ? el.value : "";
      } else if (asServed && el.tagName === "SELECT") {
        out[el.name] = defaultOf(el);
      } else {
        out[el.name] = asServed ? el.defaultValue : el.value;
      }
    });
    return out;
  }

  function same(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  function dirty(form) {
    return !same(snapshot(form), initial[form.dataset.section]);
  }

  function fill(form, values) {
    Object.keys(values).forEach(function (name) {
      var els = form.querySelectorAll('[name="' + name.replace(/"/g, "") + '"]');
      Array.prototype.forEach.call(els, function (el) {
        if (el.type === "radio") el.checked = el.value === values[name];
        else if (el.type === "checkbox") el.checked = values[name] !== "";
        else el.value = values[name];
      });
    });
  }

  function notice(form) {
    var p = document.createElement("p");
    p.className = "unsaved-notice";
    p.setAttribute("role", "status");
    p.textContent =
      "Your changes to this section are back as you typed them: they are not saved yet. " +
      "Save the draft to keep them.";
    form.insertBefore(p, form.firstChild);
  }

  forms.forEach(function (form) {
    initial[form.dataset.section] = snapshot(form, true);
  });

  // Put back what was typed in other sections before the last save.
  var kept = null;
  try {
    kept = JSON.parse(window.sessionStorage.getItem(KEY) || "null");
    window.sessionStorage.removeItem(KEY);
  } catch (e) {
    kept = null;
  }
  if (kept && OWNER && kept.at && Date.now() - kept.at < MAX_AGE_MS) {
    forms.forEach(function (form) {
      var values = kept.sections[form.dataset.section];
      if (!values || same(values, snapshot(form))) return;
      fill(form, values);
      notice(form);
    });
  }

  document.addEventListener("submit", function (event) {
    var sent = event.target;
    // Only the record's own forms come back to this page; signing out keeps nothing (and,
    // with unsaved text, asks first like any other way of leaving).
    if (!sent.closest || !sent.closest("main")) return;
    var keep = {};
    forms.forEach(function (form) {
      if (form !== sent && dirty(form)) keep[form.dataset.section] = snapshot(form);
    });
    try {
      if (Object.keys(keep).length) {
        window.sessionStorage.setItem(KEY, JSON.stringify({ at: Date.now(), sections: keep }));
      }
    } catch (e) {
      // storage full or disabled: the beforeunload question is then the only guard
    }
    sending = true;
  });

  // Mental health: say at once when the chosen class differs from the one the answers imply
  // (DS-2054 lines, as pmha.exams.sections.implied_mental_health_class; the server decides).
  var WORDS = { none: "No class", class_a: "Class A", class_b: "Class B" };
  var mental = document.querySelector('form.exam-form[data-section="mental_health"]');
  function implied(form) {
    var v = snapshot(form);
    var disorder = v.disorder === "yes";
    var harmful = v.harmful_behaviour === "yes";
    var a = disorder && harmful;
    var b = disorder;
    for (var i = 0; i < 30; i += 1) {
      var row = "substance_use." + i + ".";
      if (!(row + "substance" in v)) break;
      if (!v[row + "substance"]) continue;
      var dis = v[row + "disorder"] !== "";
      if (dis && v[row + "controlled"] !== "" && v[row + "in_remission"] === "") a = true;
      if (dis) b = true;
    }
    return a ? "class_a" : b ? "class_b" : "none";
  }
  function showImplied() {
    var select = mental.querySelector('[name="classification"]');
    if (!select) return;
    var live = document.getElementById("implied-live");
    if (!live) {
      live = document.createElement("p");
      live.id = "implied-live";
      live.className = "implied differs";
      live.setAttribute("role", "status");
      select.parentNode.appendChild(live);
    }
    var want = implied(mental);
    var chosen = select.value;
    live.hidden = !chosen || chosen === want;
    live.textContent = live.hidden
      ? ""
      : "The answers imply " + WORDS[want] + "; you chose " + WORDS[chosen] +
        ": give your reason (under \u201cReason for the class\u201d, or when you sign).";
  }
  if (mental) {
    mental.addEventListener("change", function () {
      // the saved answers' line goes stale once an answer changes: the live one replaces it
      Array.prototype.forEach.call(mental.querySelectorAll("p.implied:not(#implied-live)"),
        function (p) { p.hidden = true; });
      showImplied();
    });
    if (!mental.querySelector("p.implied")) showImplied();
  }

  window.addEventListener("beforeunload", function (event) {
    if (sending) return;
    if (forms.some(dirty)) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
