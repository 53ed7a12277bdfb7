// Chest X-ray viewer: the full-resolution stored values on a canvas, with zoom, pan and
// window/level applied here (PS3.3 C.11.2.1.2 linear window), so a change costs no round trip.
// The page keeps the 8-bit preview <img> until the pixels arrive (and if they cannot).
(function () {
  "use strict";
  const box = document.querySelector("[data-cxr-pixels]");
  if (!box) return;
  const canvas = box.querySelector("canvas");
  const fallback = document.querySelector("[data-cxr-fallback]");
  const status = box.querySelector(".cxr-status");
  const tools = document.querySelector(".cxr-tools");
  const ctx = canvas.getContext("2d");
  const img = { w: 0, h: 0, raw: null, slope: 1, icpt: 0, invert: false, low: 0, high: 1 };
  const win = { c: 0, w: 1, c0: 0, w0: 1, inverted: false };
  const view = { scale: 1, x: 0, y: 0 };
  let mode = "pan";
  let off = null; // full-resolution greyscale, windowed
  let pending = false;

  function say(text) { status.textContent = text; }

  function num(headers, name) { return parseFloat(headers.get(name)); }

  fetch(box.dataset.cxrPixels, { credentials: "same-origin" })
    .then(function (r) {
      if (!r.ok) throw new Error("status " + r.status);
      return r.arrayBuffer().then(function (buf) { return [r.headers, buf]; });
    })
    .then(function (got) {
      const h = got[0];
      img.w = num(h, "X-Columns"); img.h = num(h, "X-Rows");
      img.slope = num(h, "X-Slope"); img.icpt = num(h, "X-Intercept");
      img.invert = h.get("X-Invert") === "1";
      img.low = num(h, "X-Low"); img.high = num(h, "X-High");
      img.raw = h.get("X-Signed") === "1" ? new Int16Array(got[1]) : new Uint16Array(got[1]);
      win.c = win.c0 = num(h, "X-Window-Center");
      win.w = win.w0 = num(h, "X-Window-Width");
      off = document.createElement("canvas");
      off.width = img.w; off.height = img.h;
      box.hidden = false;
      if (tools) tools.hidden = false;
      if (fallback) fallback.hidden = true;
      // The full resolution is shown: a preview still being prepared is not waited for.
      document.querySelectorAll("[data-xray-preparing]").forEach(function (el) { el.hidden = true; });
      resize(); fit(); rewindow();
    })
    .catch(function () {
      box.hidden = true;
      if (tools) tools.hidden = true;
      if (fallback) { fallback.hidden = false; }
      const note = document.querySelector("[data-cxr-note]");
      if (note) note.textContent = "Full resolution could not be loaded: the windowed preview is shown.";
    });

  // Window the stored values into the off-screen canvas through a lookup table.
  function rewindow() {
    if (!img.raw) return;
    let rmin = Infinity, rmax = -Infinity;
    const raw = img.raw;
    if (img.rmin === undefined) {
      for (let i = 0; i < raw.length; i++) { const v = raw[i]; if (v < rmin) rmin = v; if (v > rmax) rmax = v; }
      img.rmin = rmin; img.rmax = rmax;
    }
    rmin = img.rmin; rmax = img.rmax;
    const lut = new Uint8ClampedArray(rmax - rmin + 1);
    const lo = win.c - 0.5 - (win.w - 1) / 2, span = Math.max(win.w - 1, 1);
    const flip = img.invert !== win.inverted;
    for (let s = rmin; s <= rmax; s++) {
      const v = s * img.slope + img.icpt;
      let y = (v - lo) / span; y = y < 0 ? 0 : y > 1 ? 1 : y;
      lut[s - rmin] = Math.round((flip ? 1 - y : y) * 255);
    }
    const octx = off.getContext("2d");
    const data = octx.createImageData(img.w, img.h);
    const px = data.data;
    for (let i = 0, j = 0; i < raw.length; i++, j += 4) {
      const g = lut[raw[i] - rmin];
      px[j] = g; px[j + 1] = g; px[j + 2] = g; px[j + 3] = 255;
    }
    octx.putImageData(data, 0, 0);
    draw();
  }

  function resize() {
    const r = canvas.getBoundingClientRect();
    canvas.width = Math.max(1, Math.round(r.width));
    canvas.height = Math.max(1, Math.round(r.height));
  }

  function fit() {
    view.scale = Math.min(canvas.width / img.w, canvas.height / img.h);
    view.x = (canvas.width - img.w * view.scale) / 2;
    view.y = (canvas.height - img.h * view.scale) / 2;
    draw();
  }

  function draw() {
    if (!off || pending) return;
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.imageSmoothingEnabled = view.scale < 1;
      ctx.setTransform(view.scale, 0, 0, view.scale, view.x, view.y);
      ctx.drawImage(off, 0, 0);
      say("Zoom " + Math.round(view.scale * 100) + "% · Window " + Math.round(win.w) +
          " · Level " + Math.round(win.c) + (win.inverted ? " · inverted" : "") +
          " · " + img.w + "×" + img.h);
    });
  }

  function zoomAt(factor, cx, cy) {
    const s = Math.min(Math.max(view.scale * factor, 0.05), 16);
    const k = s / view.scale;
    view.x = cx - (cx - view.x) * k;
    view.y = cy - (cy - view.y) * k;
    view.scale = s;
    draw();
  }

  function windowBy(dx, dy) {
    const range = Math.max(img.high - img.low, 1);
    const step = range / Math.max(canvas.width, 200);
    win.w = Math.max(1, win.w + dx * step * 2);
    win.c = win.c + dy * step * 2;
    rewindow();
  }

  function local(e) {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  }

  let drag = null;
  canvas.addEventListener("pointerdown", function (e) {
    canvas.setPointerCapture(e.pointerId);
    drag = { x: e.clientX, y: e.clientY, win: mode === "window" || e.button === 2 || e.shiftKey };
    canvas.classList.add("dragging");
  });
  canvas.addEventListener("pointermove", function (e) {
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    drag.x = e.clientX; drag.y = e.clientY;
    if (drag.win) { windowBy(dx, dy); } else { view.x += dx; view.y += dy; draw(); }
  });
  function stop() { drag = null; canvas.classList.remove("dragging"); }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  canvas.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    const p = local(e);
    zoomAt(e.deltaY < 0 ? 1.15 : 1 / 1.15, p[0], p[1]);
  }, { passive: false });
  canvas.addEventListener("keydown", function (e) {
    const c = [canvas.width / 2, canvas.height / 2];
    const keys = {
      "+": function () { zoomAt(1.25, c[0], c[1]); },
      "=": function () { zoomAt(1.25, c[0], c[1]); },
      "-": function () { zoomAt(0.8, c[0], c[1]); },
      "ArrowLeft": function () { view.x += 40; draw(); },
      "ArrowRight": function () { view.x -= 40; draw(); },
      "ArrowUp": function () { view.y += 40; draw(); },
      "ArrowDown": function () { view.y -= 40; draw(); },
      "0": fit,
    };
    if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
  });
  window.addEventListener("resize", function () { if (off) { resize(); fit(); } });

  if (tools) {
    tools.addEventListener("click", function (e) {
      const b = e.target.closest("button[data-act]");
      if (!b || !off) return;
      const act = b.dataset.act;
      const c = [canvas.width / 2, canvas.height / 2];
      if (act === "pan" || act === "window") {
        mode = act;
        tools.querySelectorAll("[data-act=pan],[data-act=window]").forEach(function (x) {
          x.setAttribute("aria-pressed", String(x.dataset.act === mode));
        });
      } else if (act === "in") { zoomAt(1.25, c[0], c[1]); }
      else if (act === "out") { zoomAt(0.8, c[0], c[1]); }
      else if (act === "fit") { fit(); }
      else if (act === "actual") { zoomAt(1 / view.scale, c[0], c[1]); }
      else if (act === "reset") { win.c = win.c0; win.w = win.w0; win.inverted = false; rewindow(); }
      else if (act === "invert") { win.inverted = !win.inverted; rewindow(); }
    });
  }
})();
