// The exam record page: no typed text is lost (issue 14).
// Each section is its own form, so saving one reloads the page. Before any form of the page is
// sent, what was typed but not saved in the OTHER sections is kept in this tab's sessionStorage;
// the page that comes back puts it in its fields again, says so, and forgets the copy. Leaving
// the page with unsaved changes asks first (beforeunload).
(function () {
  "use strict";
  var KEY = "pmha-exam-unsaved:" + window.location.pathname;
  var SKIP = { csrf_token: true, version: true, action: true, password: true };
  var forms = Array.prototype.slice.call(document.querySelectorAll("form.exam-form[data-section]"));
  var initial = {};
  var sending = false;

  function snapshot(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "submit" || el.type === "button") return;
      if (el.type === "radio") {
        if (!(el.name in out)) out[el.name] = "";
        if (el.checked) out[el.name] = el.value;
      } else if (el.type === "checkbox") {
        out[el.name] = el.checked ? el.value : "";
      } else {
        out[el.name] = el.value;
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
    initial[form.dataset.section] = snapshot(form);
  });

  // Put back what was typed in other sections before the last save.
  var kept = null;
  try {
    kept = JSON.parse(window.sessionStorage.getItem(KEY) || "null");
    window.sessionStorage.removeItem(KEY);
  } catch (e) {
    kept = null;
  }
  if (kept) {
    forms.forEach(function (form) {
      var values = kept[form.dataset.section];
      if (!values || same(values, snapshot(form))) return;
      fill(form, values);
      notice(form);
    });
  }

  document.addEventListener("submit", function (event) {
    var sent = event.target;
    var keep = {};
    forms.forEach(function (form) {
      if (form !== sent && dirty(form)) keep[form.dataset.section] = snapshot(form);
    });
    try {
      if (Object.keys(keep).length) window.sessionStorage.setItem(KEY, JSON.stringify(keep));
    } catch (e) {
      // storage full or disabled: the beforeunload question is then the only guard
    }
    sending = true;
  });

  window.addEventListener("beforeunload", function (event) {
    if (sending) return;
    if (forms.some(dirty)) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
