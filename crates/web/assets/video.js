// Video widgets: frame-accurate stepping and seeking, events as labelled time ranges (with notes and
// severities), and object tracks as boxes on key frames, interpolated between them.
//
// Frames: frame n is shown from n / fps to (n + 1) / fps; the frame rate comes from the item (the video field's
// `fps` key, docs/templates.md) or is assumed to be 30, which the page says. Seeking goes to n / fps plus a tenth
// of a millisecond, so rounding never lands on the frame before. An event's `start` and `end` are the times of
// its first and last frames (rounded to 0.1 ms, so `round(time * fps)` gives the frame back); a track's keyframes
// carry frame numbers. Answers are kept as JSON in hidden inputs, like every widget.

import { el, svg, parseJson, changed, stageFor, ShapeWidget, boxFrom, movedBox, r5, clamp01 } from "./shapes.js";

const r4 = (x) => Math.round(x * 1e4) / 1e4;

/** One set of controls per video: play, step, seek, the frame and time readout, and the timeline of events. */
class Player {
  constructor(stage) {
    this.stage = stage;
    const v = (this.video = stage.media);
    this.fps = Number(stage.root.dataset.fps) || 30;
    this.listeners = [];
    const btn = (text, label, f) => el("button", { type: "button", class: "quiet small", "aria-label": label, onclick: () => { f(); stage.root.focus({ preventScroll: true }); } }, text);
    this.playButton = btn("▶", "Play (Space)", () => this.toggle());
    this.seek = el("input", { type: "range", min: "0", max: "0", step: "1", value: "0", class: "seek", "aria-label": "Frame" });
    this.seek.addEventListener("input", () => this.go(Number(this.seek.value)));
    this.readout = el("output", { class: "frame-readout small", "aria-live": "off" });
    this.timeline = svg("svg", { class: "timeline", viewBox: "0 0 1000 24", preserveAspectRatio: "none", "aria-hidden": "true" });
    this.controls = el("div", { class: "video-controls", role: "toolbar", "aria-label": "Video" },
      this.playButton,
      btn("«", "Ten frames back (Shift+,)", () => this.step(-10)),
      btn("‹", "One frame back (,)", () => this.step(-1)),
      btn("›", "One frame forward (.)", () => this.step(1)),
      btn("»", "Ten frames forward (Shift+.)", () => this.step(10)),
      this.seek, this.readout);
    stage.root.insertBefore(this.controls, stage.toolbar);
    stage.root.insertBefore(this.timeline, stage.toolbar);
    stage.beforeKey = (e) => this.key(e);
    const update = () => this.update();
    for (const ev of ["loadedmetadata", "durationchange", "seeked", "timeupdate"]) v.addEventListener(ev, update);
    v.addEventListener("play", () => { this.shown = null; this.update(); });
    v.addEventListener("pause", () => { if (this.shown == null) this.shown = this.frame; this.update(); });
    // While playing, follow every frame the browser paints (boxes of tracks move with it).
    const follow = () => {
      if (v.paused) return;
      this.update();
      if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(follow); else requestAnimationFrame(follow);
    };
    v.addEventListener("play", follow);
    this.update();
  }

  get lastFrame() { return Number.isFinite(this.video.duration) ? Math.max(0, Math.ceil(this.video.duration * this.fps - 1e-6) - 1) : 0; }
  get frame() { return Math.max(0, Math.floor(this.video.currentTime * this.fps + 1e-3)); }
  time(frame) { return r4(frame / this.fps); }
  frameOf(time) { return Math.round(time * this.fps); }

  go(frame) {
    const f = Math.max(0, Math.min(this.lastFrame, frame));
    this.video.pause();
    this.shown = f;
    this.video.currentTime = f / this.fps + 1e-4;
    this.update();
  }

  /** The frame on screen: while paused, the one last gone to (a seek in flight may still report the old time). */
  get here() { return this.video.paused && this.shown != null ? this.shown : this.frame; }

  step(n) { this.go(this.here + n); }

  toggle() { if (this.video.paused) this.video.play().catch(() => this.stage.say("The video cannot play here.")); else this.video.pause(); }

  key(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return false;
    if (e.code === "Space" || e.key === "k" || e.key === "K") { this.toggle(); return true; }
    if (e.code === "Comma") { this.step(e.shiftKey ? -10 : -1); return true; }
    if (e.code === "Period") { this.step(e.shiftKey ? 10 : 1); return true; }
    if (e.key === "Home") { this.go(0); return true; }
    if (e.key === "End") { this.go(this.lastFrame); return true; }
    return false;
  }

  update() {
    const f = this.here;
    this.seek.max = String(this.lastFrame);
    this.seek.value = String(f);
    const t = f / this.fps;
    const mm = Math.floor(t / 60), ss = (t % 60).toFixed(3).padStart(6, "0");
    this.readout.textContent = `Frame ${f} / ${this.lastFrame} · ${mm}:${ss}`;
    this.readout.dataset.frame = String(f);
    this.playButton.textContent = this.video.paused ? "▶" : "⏸";
    this.playButton.setAttribute("aria-label", this.video.paused ? "Play (Space)" : "Pause (Space)");
    this.current = f;
    for (const l of this.listeners) l(f);
    this.drawTimeline();
    this.stage.redraw();
  }

  drawTimeline() {
    const d = this.video.duration;
    this.timeline.replaceChildren(svg("rect", { class: "track", x: 0, y: 8, width: 1000, height: 8 }));
    if (!Number.isFinite(d) || d <= 0) return;
    for (const l of this.timelineParts ?? []) l(this.timeline, (t) => (t / d) * 1000);
    this.timeline.append(svg("rect", { class: "playhead", x: (this.current / this.fps / d) * 1000 - 1, y: 0, width: 2, height: 24 }));
  }
}

const players = new Map();
function playerFor(stage) {
  if (!players.has(stage)) players.set(stage, new Player(stage));
  return players.get(stage);
}

// ---------------------------------------------------------------------------------------------------------
// Events: labelled time ranges with an optional note and, when the question lists them, a severity.

class EventsWidget extends ShapeWidget {
  constructor(input, root, cfg, stage) {
    super(input, root, cfg, stage);
    this.player = playerFor(stage);
    this.pendingStart = null;
    this.severities = cfg.severities ?? [];
    this.severityIndex = -1;
    this.player.listeners.push(() => this.renderPending());
    (this.player.timelineParts ??= []).push((g, x) => this.items.forEach((ev, i) => {
      const r = svg("rect", { class: `event sl-${this.colour(ev.label)}${i === this.selected ? " selected" : ""}`, x: x(ev.start), y: 4, width: Math.max(3, x(ev.end) - x(ev.start)), height: 16 });
      const t = svg("title"); t.textContent = `${this.labelOf(ev.label)} ${ev.start}–${ev.end} s`; r.append(t);
      g.append(r);
    }));
    this.sevBox = el("div", { class: "span-labels severities", role: "group", "aria-label": "Severity" });
    this.severities.forEach((s, i) => this.sevBox.append(el("button", { type: "button", class: "severity", "aria-pressed": "false", onclick: () => this.pickSeverity(i) },
      el("kbd", { "aria-hidden": "true" }, `⇧${i + 1}`), " ", s.label)));
    this.pendingNote = el("p", { class: "small pending-event", hidden: true });
    this.drawButton.textContent = "Mark on the video";
  }

  noneText() { return "No events in this video"; }

  mount(help) {
    super.mount(help);
    if (this.severities.length) this.labelBox.after(el("p", { class: "small muted" }, "Severity of the selected (or next) event:"), this.sevBox);
    this.status.before(this.pendingNote);
    this.renderList();
  }

  summary(ev) {
    const f = (t) => this.player.frameOf(t);
    return ev.start === ev.end ? `at frame ${f(ev.start)} (${ev.start} s)` : `frames ${f(ev.start)}–${f(ev.end)} (${ev.start}–${ev.end} s)`;
  }

  pickSeverity(i) {
    const s = this.severities[i];
    if (!s) return false;
    this.severityIndex = i;
    const ev = this.items[this.selected];
    if (ev) { ev.severity = s.value; this.commit(`Severity: ${s.label}.`); }
    else { this.say(`Severity of the next event: ${s.label}.`); this.renderList(); }
    return true;
  }

  markStart() {
    const f = this.player.current;
    const ev = this.items[this.selected];
    if (ev) {
      ev.start = this.player.time(f);
      if (ev.end < ev.start) ev.end = ev.start;
      this.commit(`Start moved to frame ${f}.`);
    } else {
      this.pendingStart = f;
      this.say(`Start at frame ${f}: go to the last frame of the event and press ].`);
      this.renderPending();
    }
  }

  markEnd() {
    const f = this.player.current;
    const ev = this.items[this.selected];
    if (ev) {
      ev.end = this.player.time(f);
      if (ev.end < ev.start) ev.start = ev.end;
      this.commit(`End moved to frame ${f}.`);
      return;
    }
    if (this.pendingStart == null) { this.say("Press [ on the event's first frame first."); return; }
    const [a, b] = [Math.min(this.pendingStart, f), Math.max(this.pendingStart, f)];
    this.pendingStart = null;
    const ev2 = { start: this.player.time(a), end: this.player.time(b), label: this.label.value };
    if (this.severities.length && this.severityIndex >= 0) ev2.severity = this.severities[this.severityIndex].value;
    this.items.push(ev2);
    this.items.sort((x, y) => x.start - y.start || x.end - y.end);
    this.selected = this.items.indexOf(ev2);
    const needsSeverity = this.severities.length && !ev2.severity;
    this.commit(`Added ${this.label.label}, ${this.summary(ev2)}.${needsSeverity ? " Pick its severity (Shift+number)." : ""}`);
    this.renderPending();
  }

  onKey(e) {
    if (e.key === "[") { this.markStart(); return true; }
    if (e.key === "]") { this.markEnd(); return true; }
    if (e.shiftKey && /^Digit[1-9]$/.test(e.code)) return this.pickSeverity(Number(e.code.slice(-1)) - 1);
    if (e.key === "Escape" && this.pendingStart != null) { this.pendingStart = null; this.say("Event cancelled."); this.renderPending(); return true; }
    if (e.key.startsWith("Arrow")) return false; // arrows move the crosshair; events have no place on the picture
    return this.commonKey(e);
  }

  nudge() {}

  select(i) {
    super.select(i);
    const ev = this.items[i];
    if (ev) this.player.go(this.player.frameOf(ev.start));
  }

  renderPending() {
    if (!this.pendingNote) return;
    this.pendingNote.hidden = this.pendingStart == null;
    if (this.pendingStart != null) this.pendingNote.textContent = `Marking from frame ${this.pendingStart} to ${this.player.current ?? this.pendingStart}: press ] to finish, Esc to cancel.`;
  }

  renderList() {
    super.renderList();
    this.sevBox?.querySelectorAll("button").forEach((b, i) => b.setAttribute("aria-pressed", String(i === (this.items[this.selected]?.severity != null ? this.severities.findIndex((s) => s.value === this.items[this.selected].severity) : this.severityIndex))));
    // Each event's row also edits its note and severity, and moves its ends to the current frame.
    [...this.list.children].forEach((li, i) => {
      const ev = this.items[i];
      const row = el("div", { class: "event-edit" });
      if (this.severities.length) {
        const sel = el("select", { "aria-label": `Severity of ${this.describe(ev, i)}` },
          el("option", { value: "" }, "Severity…"), ...this.severities.map((s) => el("option", { value: s.value, selected: ev.severity === s.value }, s.label)));
        sel.addEventListener("change", () => { if (sel.value) ev.severity = sel.value; else delete ev.severity; this.commit("Severity changed."); });
        if (!ev.severity) sel.classList.add("missing");
        row.append(sel);
      }
      const note = el("input", { type: "text", class: "note-input", placeholder: "Note (optional)", value: ev.note ?? "", maxlength: "2000", "aria-label": `Note on ${this.describe(ev, i)}` });
      note.addEventListener("change", () => { if (note.value.trim()) ev.note = note.value.trim(); else delete ev.note; this.commit("Note saved."); });
      row.append(note,
        el("button", { type: "button", class: "quiet small", onclick: () => { this.selected = i; this.markStart(); } }, "Start here"),
        el("button", { type: "button", class: "quiet small", onclick: () => { this.selected = i; this.markEnd(); } }, "End here"));
      li.append(row);
    });
    this.player?.drawTimeline();
  }

  draw() { this.layer.replaceChildren(); }
}

// ---------------------------------------------------------------------------------------------------------
// Tracks: per object, boxes on key frames; between two keyframes the box moves linearly; "outside" hides the
// object from its keyframe until the next one.

/** The box of a track on a frame (null when not in the picture): the same rule as the server's `track_box`. */
export function trackBox(kfs, frame) {
  let i = 0;
  while (i < kfs.length && kfs[i].frame <= frame) i++;
  if (i === 0) return null;
  const k0 = kfs[i - 1];
  if (k0.outside) return null;
  if (k0.frame === frame) return k0;
  const k1 = kfs[i];
  if (!k1) return null;
  const t = (frame - k0.frame) / (k1.frame - k0.frame);
  const l = (a, b) => a + (b - a) * t;
  return { x: l(k0.x, k1.x), y: l(k0.y, k1.y), w: l(k0.w, k1.w), h: l(k0.h, k1.h) };
}

class TracksWidget extends ShapeWidget {
  constructor(input, root, cfg, stage) {
    super(input, root, cfg, stage);
    this.player = playerFor(stage);
    this.corner = null; this.rubber = null; this.dragging = null;
    this.drawButton.textContent = "Draw on the video";
  }

  noneText() { return "No objects to follow"; }

  summary(t) {
    const f = this.player.current ?? 0;
    const k = t.keyframes;
    return `${k.length} keyframe${k.length === 1 ? "" : "s"}, frames ${k[0]?.frame}–${k[k.length - 1]?.frame}${trackBox(k, f) ? "" : " · not in this frame"}`;
  }

  describe(t) { return `${this.labelOf(t.label)} ${t.id}`; }

  newId() {
    let n = this.items.length + 1;
    while (this.items.some((t) => t.id === `t${n}`)) n++;
    return `t${n}`;
  }

  /** Sets the selected track's box on the current frame (a keyframe), or starts a new track with it. */
  setBox(box, outside = false) {
    const f = this.player.current;
    let t = this.items[this.selected];
    if (!t) {
      t = { id: this.newId(), label: this.label.value, keyframes: [] };
      this.items.push(t);
      this.selected = this.items.length - 1;
    }
    const k = { frame: f, x: box.x, y: box.y, w: box.w, h: box.h };
    if (outside) k.outside = true;
    const i = t.keyframes.findIndex((q) => q.frame === f);
    if (i >= 0) t.keyframes[i] = k; else { t.keyframes.push(k); t.keyframes.sort((a, b) => a.frame - b.frame); }
    return t;
  }

  add(a, b) {
    const box = boxFrom(a, b);
    if (box.w < 0.002 || box.h < 0.002) { this.say("That box has no size."); return; }
    const isNew = this.selected < 0;
    const t = this.setBox(box);
    this.commit(isNew ? `New track ${t.id} (${this.labelOf(t.label)}) from frame ${this.player.current}: step ahead and draw it again where it has moved.` : `Keyframe at frame ${this.player.current} for ${t.id}.`);
  }

  /** The box of the selected track on this frame, or its nearest keyframe's when it has none here. */
  currentBox(t) {
    const f = this.player.current;
    return trackBox(t.keyframes, f) ?? [...t.keyframes].sort((a, b) => Math.abs(a.frame - f) - Math.abs(b.frame - f))[0];
  }

  toggleOutside() {
    const t = this.items[this.selected];
    if (!t) { this.say("Select a track first (Tab)."); return; }
    const f = this.player.current;
    const k = t.keyframes.find((q) => q.frame === f);
    if (k) { if (k.outside) delete k.outside; else k.outside = true; }
    else { const b = this.currentBox(t); this.setBox({ x: b.x, y: b.y, w: b.w, h: b.h }, true); }
    const now = t.keyframes.find((q) => q.frame === f);
    this.commit(now.outside ? `${t.id} is outside the picture from frame ${f}.` : `${t.id} is in the picture again at frame ${f}.`);
  }

  nudge(i, dx, dy, resize) {
    const t = this.items[i];
    const b = this.currentBox(t);
    let nb = { x: b.x, y: b.y, w: b.w, h: b.h };
    if (resize) { nb.w = r5(Math.max(0.002, Math.min(1 - nb.x, nb.w + dx))); nb.h = r5(Math.max(0.002, Math.min(1 - nb.y, nb.h + dy))); }
    else nb = movedBox(nb, dx, dy);
    this.setBox(nb);
  }

  onKey(e) {
    const s = this.stage;
    if ((e.key === "Delete" || e.key === "Backspace") && this.selected >= 0) {
      const t = this.items[this.selected];
      const f = this.player.current;
      const i = t.keyframes.findIndex((k) => k.frame === f);
      if (!e.shiftKey && i >= 0 && t.keyframes.length > 1) { t.keyframes.splice(i, 1); this.commit(`Keyframe at frame ${f} removed from ${t.id}.`); }
      else this.remove(this.selected);
      return true;
    }
    if (this.commonKey(e)) return true;
    if (e.key === "Enter") {
      if (!this.corner) { this.corner = [s.cx, s.cy]; this.say("First corner placed: move to the opposite corner and press Enter."); }
      else { const c = this.corner; this.corner = null; this.add(c, [s.cx, s.cy]); }
      return true;
    }
    if (e.key === "t" || e.key === "T") { this.select(-1); this.say(`The next box starts a new ${this.label.label} track.`); return true; }
    if (e.key === "o" || e.key === "O") { this.toggleOutside(); return true; }
    if (e.key === "Escape" && this.corner) { this.corner = null; this.say("Box cancelled."); return true; }
    return false;
  }

  onDown(p) {
    const f = this.player.current;
    const at = (t) => { const b = trackBox(t.keyframes, f); return b && p[0] >= b.x && p[0] <= b.x + b.w && p[1] >= b.y && p[1] <= b.y + b.h ? b : null; };
    const sel = this.items[this.selected];
    const b = sel && at(sel);
    if (b) { this.dragging = { kind: "move", from: p, orig: { x: b.x, y: b.y, w: b.w, h: b.h } }; return; }
    const i = this.items.findIndex((t) => at(t));
    if (i >= 0 && !this.corner) { this.select(i); const bb = at(this.items[i]); this.dragging = { kind: "move", from: p, orig: { x: bb.x, y: bb.y, w: bb.w, h: bb.h } }; return; }
    this.dragging = { kind: "new", from: p };
    this.rubber = [p, p];
  }

  onMove(p) {
    const d = this.dragging;
    if (d?.kind === "new") this.rubber = [d.from, p];
    else if (d?.kind === "move") this.moving = movedBox(d.orig, p[0] - d.from[0], p[1] - d.from[1]);
  }

  onUp(p, e, drag) {
    const d = this.dragging;
    this.dragging = null; this.rubber = null;
    if (!d) return;
    if (d.kind === "new") {
      if (drag.moved) this.add(d.from, p);
      else if (this.corner) { const c = this.corner; this.corner = null; this.add(c, p); }
      else if (this.selected >= 0) this.select(-1);
      else { this.corner = p; this.say("First corner placed: tap the opposite corner."); }
    } else if (d.kind === "move" && drag.moved && this.moving) {
      const t = this.setBox(this.moving);
      this.moving = null;
      this.commit(`Keyframe at frame ${this.player.current} for ${t.id}.`);
    }
    this.moving = null;
  }

  select(i) { this.selected = i; if (i >= 0) this.say(`Selected ${this.describe(this.items[i])}: draw or move its box on any frame to add a keyframe; O: outside; Delete: remove this frame's keyframe (Shift: the track).`); this.renderList(); this.stage.redraw(); }

  drawShape(g, t, selected, u, i) {
    const f = this.player.current ?? 0;
    const [W, H] = [this.stage.W, this.stage.H];
    const b = selected && this.moving ? this.moving : trackBox(t.keyframes, f);
    if (!b) return;
    const key = t.keyframes.some((k) => k.frame === f);
    g.append(svg("rect", { class: `shape sl-${this.colour(t.label)}${selected ? " selected" : ""}${key ? " keyframe" : " interpolated"}`, x: b.x * W, y: b.y * H, width: b.w * W, height: b.h * H, "data-track": t.id }));
    const label = svg("text", { class: "track-label", x: b.x * W + 3 * u, y: b.y * H + 12 * u, "font-size": 11 * u });
    label.textContent = `${t.id}${key ? " ◆" : ""}`;
    g.append(label);
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

const kinds = { video_events: EventsWidget, tracks: TracksWidget };
const helps = {
  video_events: "Focus the video. Space plays, , and . step one frame (Shift: ten). [ marks the first frame of an event, ] its last; a number picks its label.",
  tracks: "Focus the video, pick a label, and draw a box around the object (drag, or Enter at two corners). Step ahead and draw it again: frames between are interpolated. T starts another track, O marks the object outside the picture.",
};

for (const input of document.querySelectorAll("input[type=hidden][data-widget]")) {
  const Kind = kinds[input.dataset.widget];
  if (!Kind) continue;
  const root = document.querySelector(`[data-widget-for="${CSS.escape(input.id)}"]`);
  const cfg = parseJson(input.dataset.config, null);
  if (!root || !cfg) continue;
  const stage = stageFor(cfg.field);
  if (!stage || !stage.isVideo) { root.replaceChildren(el("p", { class: "error" }, "The video is missing from this item.")); continue; }
  const w = new Kind(input, root, cfg, stage);
  let help = helps[input.dataset.widget];
  // The stage knows the rate in use: the item's, else the uploaded file's, else an assumed one (data-fps-assumed).
  if ("fpsAssumed" in stage.root.dataset) help += ` This item gives no frame rate, so ${stage.root.dataset.fps || cfg.fps} frames per second are assumed.`;
  w.mount(help);
}

export { clamp01 };
