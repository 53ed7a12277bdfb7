// Chest X-ray images still being prepared (issue 20): the previews are made by a job after the
// upload. Each placeholder asks its image's address again, a little less often each time, until
// it answers; 409 means "still preparing". The image is shown from the answer itself (one read).
(function () {
  "use strict";
  const GIVE_UP_MS = 120000;

  function show(el, dataUrl) {
    const target = el.dataset.xrayTarget ? document.querySelector(el.dataset.xrayTarget) : null;
    if (target) {
      target.src = dataUrl;
      if (target.alt) target.alt = target.alt.replace(" (being prepared)", "");
      el.remove();
      return;
    }
    const img = document.createElement("img");
    img.src = dataUrl;
    img.alt = el.dataset.xrayAlt || "";
    if (el.dataset.xrayClass) img.className = el.dataset.xrayClass;
    el.replaceWith(img);
  }

  function watch(el) {
    const url = el.dataset.xrayPreparing;
    const started = Date.now();
    let delay = 600;

    function again() {
      if (Date.now() - started > GIVE_UP_MS) {
        el.textContent = "The image is still being prepared: reload the page in a minute.";
        return;
      }
      window.setTimeout(poll, delay);
      delay = Math.min(delay * 1.5, 5000);
    }

    function poll() {
      fetch(url, { credentials: "same-origin" })
        .then(function (r) {
          if (r.status === 409) { again(); return null; }
          if (!r.ok) throw new Error("status " + r.status);
          return r.blob().then(function (blob) {
            const reader = new FileReader();
            reader.onload = function () { show(el, reader.result); };
            reader.readAsDataURL(blob); // the pages allow data: images, not blob: ones
          });
        })
        .catch(function () {
          el.textContent = "The preview could not be shown: reload the page.";
        });
    }

    again();
  }

  document.querySelectorAll("[data-xray-preparing]").forEach(watch);
})();
