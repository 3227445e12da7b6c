// Shape widgets on images: boxes, polygons and keypoints with labels, and the stage they are drawn on (zoom,
// pan, brightness and contrast), which the video widgets (video.js) share.
//
// Each widget keeps its answer as JSON in a hidden input named like the question (as widgets.js does), in the
// answer format of docs/templates.md: coordinates normalized to 0..1 of the image's width and height. Drawing
// works with the mouse, a finger, or the keyboard alone (arrows move a crosshair, Enter places a corner or a
// point). Everything the page shows is built with DOM calls and positioned with CSSOM and SVG attributes: the
// Content-Security-Policy allows no inline style or script.

const SVG = "http://www.w3.org/2000/svg";

/** Builds an element: el("button", {type: "button", class: "x"}, "text", child…). Text is never parsed as HTML. */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c != null) e.append(c instanceof Node ? c : String(c));
  return e;
}

/** An SVG element with attributes. */
export function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null) e.setAttribute(k, String(v));
  return e;
}

export function parseJson(text, fallback) {
  if (!text) return fallback;
  try { return JSON.parse(text); } catch (_) { return fallback; }
}

/** Tells the form (and so the draft) that the answer changed. */
export function changed(input) {
  input.dispatchEvent(new Event("input", { bubbles: true }));
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

export const clamp01 = (x) => Math.min(1, Math.max(0, x));
/** Normalized coordinates are stored with 5 decimals (1/100 000 of the image: below a pixel of any photo). */
export const r5 = (x) => Math.round(x * 1e5) / 1e5;

/** A box from two corners, inside the image, rounded. */
export function boxFrom(a, b) {
  const x = r5(clamp01(Math.min(a[0], b[0]))), y = r5(clamp01(Math.min(a[1], b[1])));
  const w = r5(Math.min(clamp01(Math.max(a[0], b[0])) - x, 1 - x));
  const h = r5(Math.min(clamp01(Math.max(a[1], b[1])) - y, 1 - y));
  return { x, y, w, h };
}

/** Moves a box by (dx, dy), keeping it inside the image. */
export function movedBox(b, dx, dy) {
  return { ...b, x: r5(Math.min(1 - b.w, Math.max(0, b.x + dx))), y: r5(Math.min(1 - b.h, Math.max(0, b.y + dy))) };
}

/** The label of a key press: "1"…"9" (not with Shift, which picks severities on video). */
function digit(e) {
  return !e.shiftKey && /^Digit[1-9]$|^Numpad[1-9]$/.test(e.code) ? Number(e.code.slice(-1)) : 0;
}

// ---------------------------------------------------------------------------------------------------------
// The stage: the media element, an SVG overlay in the media's own pixel units, zoom and pan, filters.

const stages = new Map();

/** The stage of an item field (made once per field, shared by every question drawing on it). */
export function stageFor(fieldName) {
  if (stages.has(fieldName)) return stages.get(fieldName);
  const root = document.querySelector(`.media-stage[data-field-name="${CSS.escape(fieldName)}"]`);
  if (!root) return null;
  const stage = new Stage(root);
  stages.set(fieldName, stage);
  return stage;
}

export class Stage {
  constructor(root) {
    this.root = root;
    this.viewport = root.querySelector(".media-viewport");
    this.content = root.querySelector(".media-content");
    this.media = root.querySelector("img, video");
    this.isVideo = this.media.tagName === "VIDEO";
    this.widgets = [];
    this.active = null;
    this.z = 1; this.tx = 0; this.ty = 0;
    this.cx = 0.5; this.cy = 0.5;
    this.panMode = false; this.spaceHeld = false; this.drag = null;
    this.W = 1; this.H = 1;
    root.tabIndex = 0;
    root.setAttribute("role", "application");
    root.setAttribute("aria-roledescription", "drawing area");
    this.overlay = svg("svg", { class: "overlay", viewBox: "0 0 1 1", preserveAspectRatio: "none", "aria-hidden": "true" });
    this.layers = svg("g");
    this.cross = svg("g", { class: "crosshair" });
    this.crossH = svg("line"); this.crossV = svg("line"); this.crossC = svg("circle");
    this.cross.append(this.crossH, this.crossV, this.crossC);
    this.overlay.append(this.layers, this.cross);
    this.content.append(this.overlay);
    this.status = el("p", { class: "small muted stage-status", role: "status", "aria-live": "polite" });
    this.which = el("span", { class: "small stage-which" });
    const bright = el("input", { type: "range", min: "20", max: "300", value: "100", "aria-label": "Brightness" });
    const contrast = el("input", { type: "range", min: "20", max: "400", value: "100", "aria-label": "Contrast" });
    this.bright = bright; this.contrast = contrast;
    const filt = () => { this.media.style.filter = `brightness(${bright.value / 100}) contrast(${contrast.value / 100})`; };
    bright.addEventListener("input", filt);
    contrast.addEventListener("input", filt);
    this.panButton = el("button", { type: "button", class: "quiet small", "aria-pressed": "false", title: "Drag to pan (or hold Space)",
      onclick: () => { this.panMode = !this.panMode; this.panButton.setAttribute("aria-pressed", String(this.panMode)); this.root.classList.toggle("panning", this.panMode); } }, "Pan");
    this.toolbar = el("div", { class: "stage-tools", role: "toolbar", "aria-label": "View" },
      el("button", { type: "button", class: "quiet small", "aria-label": "Zoom out", onclick: () => this.zoomBy(1 / 1.5) }, "−"),
      el("button", { type: "button", class: "quiet small zoom-in", "aria-label": "Zoom in", onclick: () => this.zoomBy(1.5) }, "+"),
      this.panButton,
      el("button", { type: "button", class: "quiet small", onclick: () => { bright.value = 100; contrast.value = 100; filt(); this.reset(); } }, "Reset ", el("kbd", {}, "0")),
      el("label", { class: "small slider" }, "Brightness ", bright),
      el("label", { class: "small slider" }, "Contrast ", contrast),
      this.which);
    root.append(this.toolbar, this.status);

    const sized = () => {
      const w = this.isVideo ? this.media.videoWidth : this.media.naturalWidth;
      const h = this.isVideo ? this.media.videoHeight : this.media.naturalHeight;
      if (!w || !h) return;
      this.W = w; this.H = h;
      this.overlay.setAttribute("viewBox", `0 0 ${w} ${h}`);
      this.redraw();
    };
    this.media.addEventListener(this.isVideo ? "loadedmetadata" : "load", sized);
    this.media.addEventListener("error", () => this.say(`The ${this.isVideo ? "video" : "image"} could not be loaded (${this.media.currentSrc || this.media.getAttribute("src")}). Skip the item and say so if it stays broken.`));
    if (this.isVideo ? this.media.readyState >= 1 : this.media.complete) sized();
    window.addEventListener("resize", () => this.redraw());

    root.addEventListener("focus", () => this.redraw());
    root.addEventListener("blur", () => this.redraw());
    root.addEventListener("keydown", (e) => this.onKey(e));
    root.addEventListener("keyup", (e) => { if (e.code === "Space") this.spaceHeld = false; });
    this.viewport.addEventListener("pointerdown", (e) => this.onPointer("down", e));
    this.viewport.addEventListener("pointermove", (e) => this.onPointer("move", e));
    this.viewport.addEventListener("pointerup", (e) => this.onPointer("up", e));
    this.viewport.addEventListener("pointercancel", (e) => this.onPointer("up", e));
    this.viewport.addEventListener("dblclick", (e) => { this.active?.onDouble?.(this.norm(e)); });
    this.viewport.addEventListener("wheel", (e) => {
      e.preventDefault();
      this.zoomBy(e.deltaY < 0 ? 1.2 : 1 / 1.2, e.clientX, e.clientY);
    }, { passive: false });
  }

  /** Adds a question's widget; the first one is active until another question is used. */
  add(widget) {
    this.widgets.push(widget);
    widget.layer = svg("g", { class: "layer" });
    this.layers.append(widget.layer);
    if (!this.active) this.activate(widget);
    this.redraw();
  }

  activate(widget) {
    if (this.active === widget) return;
    this.active = widget;
    for (const w of this.widgets) w.root.classList.toggle("drawing-here", w === widget);
    this.which.textContent = this.widgets.length > 1 ? `Drawing: ${widget.title}` : "";
    this.redraw();
  }

  say(m) { this.status.textContent = m; }

  /** CSS pixels per overlay unit, for sizes that must look the same at any zoom. */
  px() {
    const r = this.media.getBoundingClientRect();
    return r.width ? this.W / r.width : 1;
  }

  /** Normalized image coordinates of a pointer event. */
  norm(e) {
    const r = this.media.getBoundingClientRect();
    return [clamp01((e.clientX - r.left) / r.width), clamp01((e.clientY - r.top) / r.height)];
  }

  apply() {
    const vw = this.viewport.clientWidth, vh = this.viewport.clientHeight;
    // Keep the picture covering the viewport: no panning past its edges.
    this.tx = Math.min(0, Math.max(vw - vw * this.z, this.tx));
    this.ty = Math.min(0, Math.max(vh - vh * this.z, this.ty));
    this.content.style.transform = `translate(${this.tx}px, ${this.ty}px) scale(${this.z})`;
    this.root.classList.toggle("zoomed", this.z > 1);
    this.redraw();
  }

  zoomBy(f, clientX, clientY) {
    const vr = this.viewport.getBoundingClientRect();
    // Zoom around the pointer, or the crosshair when the keyboard zooms.
    const ox = clientX != null ? clientX - vr.left : this.cx * vr.width * this.z + this.tx;
    const oy = clientY != null ? clientY - vr.top : this.cy * vr.height * this.z + this.ty;
    const z = Math.min(16, Math.max(1, this.z * f));
    this.tx = ox - (ox - this.tx) * (z / this.z);
    this.ty = oy - (oy - this.ty) * (z / this.z);
    this.z = z;
    this.apply();
    this.say(`Zoom ${Math.round(this.z * 100)}%.`);
  }

  reset() { this.z = 1; this.tx = 0; this.ty = 0; this.apply(); this.say("View reset."); }

  /** Moves the crosshair; when zoomed, the view follows it so it never leaves the viewport. */
  moveCross(dx, dy) {
    this.cx = clamp01(this.cx + dx); this.cy = clamp01(this.cy + dy);
    if (this.z > 1) {
      const vw = this.viewport.clientWidth, vh = this.viewport.clientHeight;
      const px = this.cx * vw * this.z + this.tx, py = this.cy * vh * this.z + this.ty;
      const m = 24;
      if (px < m) this.tx += m - px; else if (px > vw - m) this.tx -= px - (vw - m);
      if (py < m) this.ty += m - py; else if (py > vh - m) this.ty -= py - (vh - m);
      this.apply();
    } else this.redraw();
  }

  onKey(e) {
    // Keys on the stage's own controls (sliders, buttons) keep their usual meaning.
    if (e.ctrlKey || e.metaKey || e.target !== this.root) return;
    if (this.beforeKey?.(e)) { e.preventDefault(); e.stopPropagation(); return; }
    if (e.code === "Space" && !this.isVideo) { this.spaceHeld = true; e.preventDefault(); e.stopPropagation(); return; }
    if (this.active?.onKey(e)) { e.preventDefault(); e.stopPropagation(); this.redraw(); return; }
    const step = (e.shiftKey ? 0.1 : 0.01) / this.z;
    let handled = true;
    if (e.key === "+" || e.key === "=") this.zoomBy(1.5);
    else if (e.key === "-" || e.key === "_") this.zoomBy(1 / 1.5);
    else if (e.key === "0") this.reset();
    else if (e.key === "ArrowLeft") this.moveCross(-step, 0);
    else if (e.key === "ArrowRight") this.moveCross(step, 0);
    else if (e.key === "ArrowUp") this.moveCross(0, -step);
    else if (e.key === "ArrowDown") this.moveCross(0, step);
    else if (e.key === "Escape") this.root.blur();
    else handled = false;
    if (handled) { e.preventDefault(); e.stopPropagation(); }
  }

  onPointer(kind, e) {
    if (kind === "down") {
      this.root.focus({ preventScroll: true });
      if (e.button !== 0 && e.pointerType === "mouse") return;
      this.viewport.setPointerCapture(e.pointerId);
      if (this.spaceHeld || this.panMode) {
        this.drag = { pan: true, x: e.clientX, y: e.clientY, tx: this.tx, ty: this.ty };
        return;
      }
      const p = this.norm(e);
      [this.cx, this.cy] = p;
      this.drag = { pan: false, start: p, moved: false };
      this.active?.onDown?.(p, e);
      this.redraw();
      e.preventDefault();
    } else if (this.drag) {
      if (this.drag.pan) {
        this.tx = this.drag.tx + e.clientX - this.drag.x;
        this.ty = this.drag.ty + e.clientY - this.drag.y;
        this.apply();
        if (kind === "up") this.drag = null;
        return;
      }
      const p = this.norm(e);
      if (Math.hypot(p[0] - this.drag.start[0], p[1] - this.drag.start[1]) * this.media.getBoundingClientRect().width > 4) this.drag.moved = true;
      [this.cx, this.cy] = p;
      if (kind === "move") this.active?.onMove?.(p, e, this.drag);
      else { this.active?.onUp?.(p, e, this.drag); this.drag = null; }
      this.redraw();
    }
  }

  /** Redraws every layer and the crosshair (cheap: a few dozen SVG nodes). */
  redraw() {
    for (const w of this.widgets) w.draw(this);
    const [W, H] = [this.W, this.H];
    const show = document.activeElement === this.root;
    this.cross.classList.toggle("hidden", !show);
    if (show) {
      const x = this.cx * W, y = this.cy * H, u = this.px();
      for (const [l, a] of [[this.crossH, [x - 12 * u, y, x + 12 * u, y]], [this.crossV, [x, y - 12 * u, x, y + 12 * u]]]) {
        l.setAttribute("x1", a[0]); l.setAttribute("y1", a[1]); l.setAttribute("x2", a[2]); l.setAttribute("y2", a[3]);
      }
      this.crossC.setAttribute("cx", x); this.crossC.setAttribute("cy", y); this.crossC.setAttribute("r", 4 * u);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The parts every shape widget shares: labels, the list of shapes, selection, the hidden input.

export class ShapeWidget {
  constructor(input, root, cfg, stage) {
    this.input = input; this.root = root; this.cfg = cfg; this.stage = stage;
    this.title = document.getElementById(root.getAttribute("aria-labelledby"))?.textContent?.replace(/\s*\*$/, "") ?? cfg.type;
    this.labelIndex = 0;
    this.selected = -1;
    const saved = parseJson(input.value, null);
    if (Array.isArray(saved)) this.items = saved;
    else if (Array.isArray(cfg.prefill)) {
      // The item's pre-drawn shapes are the starting answer; the worker corrects them.
      this.items = structuredClone(cfg.prefill);
      input.value = JSON.stringify(this.items);
      this.prefilled = true;
    } else this.items = [];
    this.message = "";
    this.labelBox = el("div", { class: "span-labels", role: "group", "aria-label": "Labels" });
    cfg.labels.forEach((l, i) => this.labelBox.append(el("button", {
      type: "button", class: `span-label lab-${i % 8}`, "data-label": l.value, "aria-pressed": "false",
      onclick: () => this.pickLabel(i),
    }, l.key ? el("kbd", { "aria-hidden": "true" }, l.key) : null, " ", l.label)));
    this.list = el("ol", { class: "shape-list" });
    this.status = el("p", { class: "small muted shape-status", role: "status", "aria-live": "polite" });
    this.none = el("button", { type: "button", class: "quiet small", onclick: () => { this.items = []; this.selected = -1; this.commit("Nothing to mark here: an empty answer."); } }, this.noneText());
    this.drawButton = el("button", { type: "button", class: "small draw-here", onclick: () => {
      stage.activate(this);
      stage.root.focus();
      // Some pointers focus the button after its click handler ran: take the focus back once they are done.
      setTimeout(() => stage.root.focus(), 0);
    } }, this.drawText());
    root.addEventListener("focusin", () => stage.activate(this));
    root.addEventListener("pointerdown", () => stage.activate(this));
  }

  noneText() { return "Nothing to mark here"; }
  drawText() { return "Draw on the picture"; }

  mount(help) {
    this.root.textContent = "";
    this.root.append(el("p", { class: "small muted" }, help), this.labelBox, this.drawButton, this.none, this.status, this.list);
    if (this.prefilled) this.message = `${this.items.length} pre-drawn shape${this.items.length === 1 ? "" : "s"}: correct them, remove wrong ones, add missing ones.`;
    this.stage.add(this);
    this.renderList();
  }

  get label() { return this.cfg.labels[this.labelIndex]; }
  labelOf(v) { return this.cfg.labels.find((l) => l.value === v)?.label ?? v; }
  colour(v) { return Math.max(0, this.cfg.labels.findIndex((l) => l.value === v)) % 8; }

  pickLabel(i) {
    if (!this.cfg.labels[i]) return false;
    this.labelIndex = i;
    if (this.selected >= 0 && this.items[this.selected] && this.items[this.selected].label !== this.label.value) {
      this.items[this.selected].label = this.label.value;
      this.commit(`Label changed to ${this.label.label}.`);
    } else this.say(`Label: ${this.label.label}.`);
    this.renderList();
    return true;
  }

  say(m) { this.message = m; this.status.textContent = m; this.stage.say(m); }

  commit(m) {
    this.input.value = JSON.stringify(this.items);
    this.say(m);
    this.renderList();
    this.stage.redraw();
    changed(this.input);
  }

  select(i) {
    this.selected = i;
    if (i >= 0) this.say(`Selected ${this.describe(this.items[i], i)}. Arrows move it, Delete removes it, a number changes its label.`);
    this.renderList();
    this.stage.redraw();
  }

  remove(i) {
    const [s] = this.items.splice(i, 1);
    this.selected = -1;
    this.commit(`Removed ${this.describe(s, i)}.`);
  }

  /** Tab and Shift+Tab walk through the shapes; past the last one the focus moves on as usual. */
  cycle(e) {
    const n = this.items.length;
    if (!n) return false;
    const next = this.selected + (e.shiftKey ? -1 : 1);
    if (next < 0 || next >= n) { this.select(-1); return false; }
    this.select(next);
    return true;
  }

  /** Keys every shape widget understands; the rest are the widget's own. */
  commonKey(e) {
    const d = digit(e);
    if (d) return this.pickLabel(d - 1);
    if (e.key === "Tab") return this.cycle(e);
    if ((e.key === "Delete" || e.key === "Backspace") && this.selected >= 0) { this.remove(this.selected); return true; }
    if (e.key === "Escape" && this.selected >= 0) { this.select(-1); this.say("Nothing selected."); return true; }
    if (this.selected >= 0 && e.key.startsWith("Arrow")) {
      const step = (e.shiftKey ? 0.05 : 0.005) / this.stage.z;
      const [dx, dy] = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
      this.nudge(this.selected, dx, dy, e.altKey);
      this.commit(`Moved ${this.describe(this.items[this.selected], this.selected)}.`);
      return true;
    }
    return false;
  }

  renderList() {
    this.labelBox.querySelectorAll("button").forEach((b, i) => b.setAttribute("aria-pressed", String(i === this.labelIndex)));
    this.list.replaceChildren(...this.items.map((s, i) => el("li", { class: i === this.selected ? "selected" : "" },
      el("span", { class: `chip lab-${this.colour(s.label)}` }, this.labelOf(s.label)), " ",
      el("span", { class: "small" }, this.summary(s)), " ",
      el("button", { type: "button", class: "quiet small", "aria-pressed": String(i === this.selected), onclick: () => { this.stage.activate(this); this.select(i === this.selected ? -1 : i); } }, "Select"),
      el("button", { type: "button", class: "quiet small", "aria-label": `Remove ${this.describe(s, i)}`, onclick: () => this.remove(i) }, "Remove"))));
    this.none.hidden = this.items.length > 0 || this.input.value === "[]";
    this.status.textContent = this.message || (this.items.length ? `${this.items.length} drawn.` : this.input.value === "[]" ? "Nothing marked." : `Nothing drawn yet. Label: ${this.label?.label ?? ""}.`);
  }

  describe(s, i) { return `${this.labelOf(s.label)} ${i + 1}`; }

  /** Draws the shapes (and whatever is being drawn) into this widget's layer. */
  draw(stage) {
    const g = this.layer;
    g.replaceChildren();
    const u = stage.px();
    this.items.forEach((s, i) => this.drawShape(g, s, i === this.selected && stage.active === this, u, i));
    if (stage.active === this) this.drawPending(g, u);
    g.classList.toggle("inactive", stage.active !== this);
  }
}

/** Ray casting: is the point inside the polygon? */
function inside(p, pts) {
  let c = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i], [xj, yj] = pts[j];
    if ((yi > p[1]) !== (yj > p[1]) && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

// ---------------------------------------------------------------------------------------------------------
// Boxes.

export class BoxesWidget extends ShapeWidget {
  constructor(...a) { super(...a); this.corner = null; this.rubber = null; this.dragging = null; }

  summary(b) { return `at ${Math.round(b.x * 100)}%, ${Math.round(b.y * 100)}% · ${Math.round(b.w * 100)}×${Math.round(b.h * 100)}%`; }

  add(a, b) {
    const box = boxFrom(a, b);
    if (box.w < 0.002 || box.h < 0.002) { this.say("That box has no size: place the second corner away from the first."); return; }
    if (this.cfg.max != null && this.items.length >= this.cfg.max) { this.say(`At most ${this.cfg.max} boxes.`); return; }
    this.items.push({ ...box, label: this.label.value });
    this.commit(`Added ${this.label.label} ${this.items.length}.`);
  }

  nudge(i, dx, dy, resize) {
    const b = this.items[i];
    if (resize) {
      b.w = r5(Math.max(0.002, Math.min(1 - b.x, b.w + dx)));
      b.h = r5(Math.max(0.002, Math.min(1 - b.y, b.h + dy)));
    } else Object.assign(b, movedBox(b, dx, dy));
  }

  onKey(e) {
    if (this.commonKey(e)) return true;
    const s = this.stage;
    if (e.key === "Enter") {
      if (!this.corner) { this.corner = [s.cx, s.cy]; this.say("First corner placed: move to the opposite corner and press Enter."); }
      else { const c = this.corner; this.corner = null; this.add(c, [s.cx, s.cy]); }
      return true;
    }
    if (e.key === "Escape" && this.corner) { this.corner = null; this.say("Box cancelled."); return true; }
    return false;
  }

  /** Which corner handle of the selected box is under the point (0..3), if any. */
  handleAt(p) {
    const b = this.items[this.selected];
    if (!b) return -1;
    const tol = 10 * this.stage.px() / this.stage.W;
    const corners = [[b.x, b.y], [b.x + b.w, b.y], [b.x + b.w, b.y + b.h], [b.x, b.y + b.h]];
    return corners.findIndex((c) => Math.abs(c[0] - p[0]) < tol && Math.abs(c[1] - p[1]) * this.stage.H / this.stage.W < tol);
  }

  onDown(p) {
    const h = this.handleAt(p);
    if (h >= 0) {
      const b = this.items[this.selected];
      const corners = [[b.x, b.y], [b.x + b.w, b.y], [b.x + b.w, b.y + b.h], [b.x, b.y + b.h]];
      this.dragging = { kind: "resize", fixed: corners[(h + 2) % 4] };
      return;
    }
    // The smallest box under the pointer is the one meant (a box inside a box stays reachable).
    const hits = this.items.map((b, i) => [b, i]).filter(([b]) => p[0] >= b.x && p[0] <= b.x + b.w && p[1] >= b.y && p[1] <= b.y + b.h)
      .sort((a, b) => a[0].w * a[0].h - b[0].w * b[0].h);
    if (hits.length && !this.corner) {
      const [b, i] = hits[0];
      this.select(i);
      this.dragging = { kind: "move", from: p, orig: { ...b } };
      return;
    }
    this.dragging = { kind: "new", from: p };
    this.rubber = [p, p];
  }

  onMove(p) {
    const d = this.dragging;
    if (!d) return;
    if (d.kind === "new") this.rubber = [d.from, p];
    else if (d.kind === "move") Object.assign(this.items[this.selected], movedBox(d.orig, p[0] - d.from[0], p[1] - d.from[1]));
    else if (d.kind === "resize") Object.assign(this.items[this.selected], boxFrom(d.fixed, p));
  }

  onUp(p, e, drag) {
    const d = this.dragging;
    this.dragging = null; this.rubber = null;
    if (!d) return;
    if (d.kind === "new") {
      if (drag.moved) this.add(d.from, p);
      else if (this.corner) { const c = this.corner; this.corner = null; this.add(c, p); }
      else if (this.selected >= 0) this.select(-1);
      else { this.corner = p; this.say("First corner placed: tap the opposite corner, or drag next time."); }
    } else if (drag.moved) this.commit(d.kind === "move" ? "Box moved." : "Box resized.");
  }

  drawShape(g, b, selected, u) {
    const [W, H] = [this.stage.W, this.stage.H];
    g.append(svg("rect", { class: `shape sl-${this.colour(b.label)}${selected ? " selected" : ""}`, x: b.x * W, y: b.y * H, width: b.w * W, height: b.h * H }));
    if (selected) for (const [x, y] of [[b.x, b.y], [b.x + b.w, b.y], [b.x + b.w, b.y + b.h], [b.x, b.y + b.h]])
      g.append(svg("rect", { class: "handle", x: x * W - 5 * u, y: y * H - 5 * u, width: 10 * u, height: 10 * u }));
  }

  drawPending(g) {
    const [W, H] = [this.stage.W, this.stage.H];
    const pair = this.rubber ?? (this.corner && document.activeElement === this.stage.root ? [this.corner, [this.stage.cx, this.stage.cy]] : null);
    if (!pair) return;
    const b = boxFrom(pair[0], pair[1]);
    g.append(svg("rect", { class: `shape pending sl-${this.labelIndex % 8}`, x: b.x * W, y: b.y * H, width: b.w * W, height: b.h * H }));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Polygons.

class PolygonsWidget extends ShapeWidget {
  constructor(...a) { super(...a); this.pending = []; this.dragging = null; }

  summary(s) { return `${s.points.length} points`; }

  /** Twice the signed area, to refuse outlines with no area. */
  static area(pts) {
    let a = 0;
    for (let i = 0; i < pts.length; i++) { const [p, q] = [pts[i], pts[(i + 1) % pts.length]]; a += p[0] * q[1] - q[0] * p[1]; }
    return Math.abs(a) / 2;
  }

  close() {
    if (this.pending.length < 3) { this.say("A polygon needs at least three points."); return; }
    if (PolygonsWidget.area(this.pending) < 1e-7) { this.say("These points lie on a line: the outline has no area."); return; }
    if (this.cfg.max != null && this.items.length >= this.cfg.max) { this.say(`At most ${this.cfg.max} polygons.`); this.pending = []; return; }
    this.items.push({ points: this.pending.map(([x, y]) => [r5(x), r5(y)]), label: this.label.value });
    this.pending = [];
    this.commit(`Added ${this.label.label} ${this.items.length}.`);
  }

  nearFirst(p) {
    if (this.pending.length < 3) return false;
    const [f] = this.pending;
    return Math.hypot((f[0] - p[0]) * this.stage.W, (f[1] - p[1]) * this.stage.H) < 10 * this.stage.px();
  }

  addPoint(p) {
    if (this.nearFirst(p)) { this.close(); return; }
    this.pending.push([clamp01(p[0]), clamp01(p[1])]);
    this.say(`Point ${this.pending.length} placed.${this.pending.length >= 3 ? " C (or the first point) closes the outline." : ""}`);
  }

  nudge(i, dx, dy) {
    const pts = this.items[i].points;
    const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
    dx = Math.min(1 - Math.max(...xs), Math.max(-Math.min(...xs), dx));
    dy = Math.min(1 - Math.max(...ys), Math.max(-Math.min(...ys), dy));
    this.items[i].points = pts.map(([x, y]) => [r5(x + dx), r5(y + dy)]);
  }

  onKey(e) {
    if (this.pending.length && (e.key === "Backspace" || e.key === "Delete")) { this.pending.pop(); this.say("Last point removed."); return true; }
    if (this.pending.length && e.key === "Escape") { this.pending = []; this.say("Outline cancelled."); return true; }
    if (this.commonKey(e)) return true;
    if (e.key === "Enter") { this.addPoint([this.stage.cx, this.stage.cy]); return true; }
    if ((e.key === "c" || e.key === "C") && this.pending.length) { this.close(); return true; }
    return false;
  }

  vertexAt(p) {
    const s = this.items[this.selected];
    if (!s) return -1;
    const tol = 10 * this.stage.px();
    return s.points.findIndex((q) => Math.hypot((q[0] - p[0]) * this.stage.W, (q[1] - p[1]) * this.stage.H) < tol);
  }

  onDown(p) {
    if (!this.pending.length) {
      const v = this.vertexAt(p);
      if (v >= 0) { this.dragging = { kind: "vertex", v }; return; }
      const i = this.items.findIndex((s) => inside(p, s.points));
      if (i >= 0) { this.select(i); this.dragging = { kind: "move", from: p, orig: this.items[i].points.map((q) => [...q]) }; return; }
    }
    this.dragging = { kind: "point" };
  }

  onMove(p) {
    const d = this.dragging;
    if (d?.kind === "vertex") this.items[this.selected].points[d.v] = [r5(p[0]), r5(p[1])];
    else if (d?.kind === "move") {
      this.items[this.selected].points = d.orig.map((q) => [...q]);
      this.nudge(this.selected, p[0] - d.from[0], p[1] - d.from[1]);
    }
  }

  onUp(p, e, drag) {
    const d = this.dragging;
    this.dragging = null;
    if (!d) return;
    if (d.kind === "point") {
      if (this.selected >= 0 && !this.pending.length) { this.select(-1); return; }
      this.addPoint(p);
    } else if (drag.moved) this.commit(d.kind === "vertex" ? "Point moved." : "Polygon moved.");
  }

  onDouble() { if (this.pending.length >= 3) this.close(); }

  drawShape(g, s, selected, u) {
    const [W, H] = [this.stage.W, this.stage.H];
    g.append(svg("polygon", { class: `shape sl-${this.colour(s.label)}${selected ? " selected" : ""}`, points: s.points.map(([x, y]) => `${x * W},${y * H}`).join(" ") }));
    if (selected) for (const [x, y] of s.points) g.append(svg("circle", { class: "handle", cx: x * W, cy: y * H, r: 5 * u }));
  }

  drawPending(g, u) {
    if (!this.pending.length) return;
    const [W, H] = [this.stage.W, this.stage.H];
    const pts = [...this.pending];
    if (document.activeElement === this.stage.root) pts.push([this.stage.cx, this.stage.cy]);
    g.append(svg("polyline", { class: `shape pending sl-${this.labelIndex % 8}`, points: pts.map(([x, y]) => `${x * W},${y * H}`).join(" ") }));
    this.pending.forEach(([x, y], i) => g.append(svg("circle", { class: i === 0 ? "handle first" : "handle", cx: x * W, cy: y * H, r: (i === 0 ? 6 : 4) * u })));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Keypoints: each object is the template's named points in order, [x, y, v] with COCO's visibility flag.

class KeypointsWidget extends ShapeWidget {
  constructor(...a) { super(...a); this.pending = []; this.visible = 2; this.dragging = null; }

  summary(s) { return `${s.points.filter((p) => p[2] > 0).length} of ${s.points.length} points`; }

  next() { return this.cfg.points[this.pending.length]; }

  prompt() {
    if (!this.pending.length) return;
    this.say(`Place ${this.next()} (${this.visible === 2 ? "visible" : "hidden"}): Enter or tap. V: hidden, N: not in the picture.`);
  }

  place(p, v) {
    this.pending.push(v === 0 ? [0, 0, 0] : [r5(clamp01(p[0])), r5(clamp01(p[1])), v]);
    this.visible = 2;
    if (this.pending.length === this.cfg.points.length) {
      this.items.push({ points: this.pending, label: this.label.value });
      this.pending = [];
      this.commit(`Added ${this.label.label} ${this.items.length}.`);
    } else this.say(`Next: ${this.next()}.`);
  }

  nudge(i, dx, dy) {
    this.items[i].points = this.items[i].points.map((q) => (q[2] ? [r5(clamp01(q[0] + dx)), r5(clamp01(q[1] + dy)), q[2]] : q));
  }

  onKey(e) {
    if (this.pending.length && (e.key === "Backspace" || e.key === "Delete")) { this.pending.pop(); this.say(`Next: ${this.next()}.`); return true; }
    if (this.pending.length && e.key === "Escape") { this.pending = []; this.say("Object cancelled."); return true; }
    if (this.commonKey(e)) return true;
    if (e.key === "Enter") { this.place([this.stage.cx, this.stage.cy], this.visible); return true; }
    if (e.key === "v" || e.key === "V") { this.visible = this.visible === 2 ? 1 : 2; this.say(`Next point ${this.next()} is ${this.visible === 2 ? "visible" : "hidden (placed where it must be)"}.`); return true; }
    if (e.key === "n" || e.key === "N") { this.place(null, 0); return true; }
    return false;
  }

  pointAt(p) {
    const s = this.items[this.selected];
    if (!s) return -1;
    return s.points.findIndex((q) => q[2] > 0 && Math.hypot((q[0] - p[0]) * this.stage.W, (q[1] - p[1]) * this.stage.H) < 10 * this.stage.px());
  }

  onDown(p) {
    if (!this.pending.length) {
      const k = this.pointAt(p);
      if (k >= 0) { this.dragging = { kind: "point", k }; return; }
      const i = this.items.findIndex((s) => s.points.some((q) => q[2] > 0 && Math.hypot((q[0] - p[0]) * this.stage.W, (q[1] - p[1]) * this.stage.H) < 10 * this.stage.px()));
      if (i >= 0) { this.select(i); this.dragging = { kind: "point", k: this.pointAt(p) }; return; }
    }
    this.dragging = { kind: "place" };
  }

  onMove(p) {
    const d = this.dragging;
    if (d?.kind === "point" && d.k >= 0) { const q = this.items[this.selected].points[d.k]; q[0] = r5(p[0]); q[1] = r5(p[1]); }
  }

  onUp(p, e, drag) {
    const d = this.dragging;
    this.dragging = null;
    if (d?.kind === "place") {
      if (this.selected >= 0 && !this.pending.length) { this.select(-1); return; }
      this.place(p, this.visible);
    } else if (d && drag.moved) this.commit("Point moved.");
  }

  drawObject(g, pts, cls, u) {
    const [W, H] = [this.stage.W, this.stage.H];
    for (const [a, b] of this.cfg.skeleton ?? []) {
      const [p, q] = [pts[a], pts[b]];
      if (p && q && p[2] && q[2]) g.append(svg("line", { class: `bone ${cls}`, x1: p[0] * W, y1: p[1] * H, x2: q[0] * W, y2: q[1] * H }));
    }
    pts.forEach((p, i) => {
      if (!p[2]) return;
      const c = svg("circle", { class: `kp ${cls}${p[2] === 1 ? " hidden-point" : ""}`, cx: p[0] * W, cy: p[1] * H, r: 5 * u });
      const t = svg("title"); t.textContent = this.cfg.points[i]; c.append(t);
      g.append(c);
    });
  }

  drawShape(g, s, selected, u) { this.drawObject(g, s.points, `sl-${this.colour(s.label)}${selected ? " selected" : ""}`, u); }

  drawPending(g, u) { if (this.pending.length) this.drawObject(g, this.pending, `pending sl-${this.labelIndex % 8}`, u); }
}

// ---------------------------------------------------------------------------------------------------------

const kinds = { boxes: BoxesWidget, polygons: PolygonsWidget, keypoints: KeypointsWidget };
const helps = {
  boxes: "Pick a label (number key), then drag on the picture; or focus it, move the crosshair with the arrows and press Enter at two opposite corners.",
  polygons: "Pick a label, then tap or press Enter at each point of the outline; close it on the first point, with C, or a double click.",
  keypoints: "Pick a label, then place each named point in order (Enter or tap); V marks the next point hidden, N skips it.",
};

for (const input of document.querySelectorAll("input[type=hidden][data-widget]")) {
  const Kind = kinds[input.dataset.widget];
  if (!Kind) continue;
  const root = document.querySelector(`[data-widget-for="${CSS.escape(input.id)}"]`);
  const cfg = parseJson(input.dataset.config, null);
  if (!root || !cfg) continue;
  const stage = stageFor(cfg.field);
  if (!stage) { root.replaceChildren(el("p", { class: "error" }, "The picture to draw on is missing from this item.")); continue; }
  const w = new Kind(input, root, cfg, stage);
  let help = helps[input.dataset.widget];
  if (cfg.type === "keypoints") help += ` Points: ${cfg.points.join(", ")}.`;
  w.mount(help);
}
