// Interactive question widgets: spans (mark labelled stretches of a text) and ranking (order several
// responses, ties allowed). Each keeps its answer as JSON in a hidden input named like the question, so the
// form posts it like any other field and the draft code saves and restores it. Everything works with the
// keyboard alone; the mouse (select text, drag items) is a shortcut, never a requirement.

for (const input of document.querySelectorAll("input[type=hidden][data-widget]")) {
  const root = document.querySelector(`[data-widget-for="${CSS.escape(input.id)}"]`);
  if (!root) continue;
  root.textContent = "";
  if (input.dataset.widget === "spans") initSpans(input, root);
  else if (input.dataset.widget === "ranking") initRanking(input, root);
}

/** Builds an element: el("button", {type: "button", class: "x"}, "text", child…). Text is never parsed as HTML. */
function el(tag, attrs = {}, ...children) {
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

function parseJson(text, fallback) {
  if (!text) return fallback;
  try { return JSON.parse(text); } catch (_) { return fallback; }
}

/** Tells the form (and so the draft) that the answer changed. */
function changed(input) {
  input.dispatchEvent(new Event("input", { bubbles: true }));
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

// ---------------------------------------------------------------------------------------------------------
// Spans. Offsets are in Unicode characters (code points), as the server counts them.

function initSpans(input, root) {
  const cfg = JSON.parse(input.dataset.config);
  const host = document.querySelector(`.field[data-field="${CSS.escape(cfg.field)}"] .text`);
  if (!host) { root.append(el("p", { class: "error" }, `The text to mark (${cfg.field}) is missing from this item.`)); return; }
  const chars = [...host.textContent];
  const labelOf = new Map(cfg.labels.map((l) => [l.value, l]));
  let spans = parseJson(input.value, []);
  if (!Array.isArray(spans)) spans = [];
  let anchor = 0, focus = 0; // the keyboard selection, [min, max)
  let message = "";

  host.tabIndex = 0;
  host.classList.add("markable");
  host.setAttribute("aria-label", "Text to mark. Shift+arrow keys select words, a label's number marks them.");

  const status = el("p", { class: "small muted span-status", role: "status", "aria-live": "polite" });
  const labels = el("div", { class: "span-labels", role: "group", "aria-label": "Labels" });
  for (const l of cfg.labels) {
    labels.append(el("button", { type: "button", class: `span-label lab-${cfg.labels.indexOf(l) % 8}`, "data-label": l.value,
      onclick: () => apply(l.value) }, l.key ? el("kbd", { "aria-hidden": "true" }, l.key) : null, " ", l.label));
  }
  const list = el("ol", { class: "span-list" });
  const none = el("button", { type: "button", class: "quiet small", onclick: () => { spans = []; commit("Nothing marked in this text."); } },
    "Nothing to mark here");
  root.append(
    el("p", { class: "small muted" }, "Select words in the text (mouse, or click the text and use Shift+←/→), then pick a label or press its number. ",
      el("kbd", {}, "Backspace"), " on a mark removes it."),
    labels, none, status, list);

  const range = () => [Math.min(anchor, focus), Math.max(anchor, focus)];
  const isWord = (c) => /[\p{L}\p{N}_'’-]/u.test(c);
  function nextBoundary(i) {
    let j = i;
    while (j < chars.length && !isWord(chars[j])) j++;
    while (j < chars.length && isWord(chars[j])) j++;
    return j;
  }
  function prevBoundary(i) {
    let j = i;
    while (j > 0 && !isWord(chars[j - 1])) j--;
    while (j > 0 && isWord(chars[j - 1])) j--;
    return j;
  }
  /** Trims spaces from the ends of a selection, as a careful annotator would. */
  function trimmed(a, b) {
    while (a < b && /\s/u.test(chars[a])) a++;
    while (b > a && /\s/u.test(chars[b - 1])) b--;
    return [a, b];
  }

  function apply(label) {
    const [a, b] = trimmed(...range());
    if (a >= b) { say("Select some text first."); host.focus(); return; }
    if (spans.some((s) => s.start === a && s.end === b && s.label === label)) { say("That stretch already has this label."); return; }
    if (!cfg.allow_overlap && spans.some((s) => s.start < b && a < s.end)) {
      say("Marks may not overlap in this task: remove the other mark first."); return;
    }
    spans.push({ start: a, end: b, label, text: chars.slice(a, b).join("") });
    spans.sort((x, y) => x.start - y.start || x.end - y.end);
    anchor = focus = b;
    commit(`Marked “${chars.slice(a, b).join("")}” as ${labelOf.get(label)?.label ?? label}.`);
    host.focus();
  }

  function remove(i) {
    const [s] = spans.splice(i, 1);
    commit(`Removed the mark on “${s.text ?? chars.slice(s.start, s.end).join("")}”.`);
  }

  function say(m) { message = m; status.textContent = m; }

  function commit(m) {
    input.value = JSON.stringify(spans);
    say(m);
    render();
    changed(input);
  }

  function render() {
    // The text, cut at every mark's and the selection's edges; each piece knows which marks cover it.
    const [sa, sb] = range();
    const cuts = new Set([0, chars.length, sa, sb]);
    for (const s of spans) { cuts.add(s.start); cuts.add(s.end); }
    const points = [...cuts].filter((x) => x >= 0 && x <= chars.length).sort((x, y) => x - y);
    const frag = document.createDocumentFragment();
    // A visible caret for keyboard users when nothing is selected.
    const caretAt = sa === sb && document.activeElement === host ? sa : -1;
    const caret = () => el("span", { class: "caret", "aria-hidden": "true" });
    for (let i = 0; i + 1 < points.length; i++) {
      const [a, b] = [points[i], points[i + 1]];
      if (a === b) continue;
      if (a === caretAt) frag.append(caret());
      const piece = chars.slice(a, b).join("");
      const covering = spans.filter((s) => s.start <= a && b <= s.end);
      const selected = sa < sb && sa <= a && b <= sb;
      if (!covering.length && !selected) { frag.append(piece); continue; }
      const first = covering.length ? cfg.labels.findIndex((l) => l.value === covering[0].label) % 8 : -1;
      frag.append(el("mark", {
        class: [selected ? "sel" : "", first >= 0 ? `lab-${first}` : ""].join(" ").trim(),
        title: covering.map((s) => labelOf.get(s.label)?.label ?? s.label).join(", ") || null,
      }, piece));
    }
    if (caretAt === chars.length) frag.append(caret());
    host.replaceChildren(frag);
    list.replaceChildren(...spans.map((s, i) => el("li", {},
      el("span", { class: `chip lab-${cfg.labels.findIndex((l) => l.value === s.label) % 8}` }, labelOf.get(s.label)?.label ?? s.label), " ",
      el("q", {}, s.text ?? chars.slice(s.start, s.end).join("")), " ",
      el("button", { type: "button", class: "quiet small", "aria-label": `Remove the mark on ${s.text ?? ""}`, onclick: () => remove(i) }, "Remove"))));
    none.hidden = spans.length > 0;
    status.textContent = message || (spans.length ? `${spans.length} mark${spans.length === 1 ? "" : "s"}.` : "No marks yet.");
  }

  // Mouse or touch selection inside the text becomes the selection the labels apply to.
  host.addEventListener("mouseup", () => {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0) return;
    const r = sel.getRangeAt(0);
    if (!host.contains(r.startContainer) || !host.contains(r.endContainer)) return;
    const pre = document.createRange();
    pre.selectNodeContents(host);
    pre.setEnd(r.startContainer, r.startOffset);
    const a = [...pre.toString()].length;
    const b = a + [...r.toString()].length;
    anchor = a; focus = b;
    sel.removeAllRanges();
    message = b > a ? `Selected “${chars.slice(a, b).join("")}”: press a label's number.` : "";
    render();
    host.focus();
  });

  host.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    let handled = true;
    if (e.key === "ArrowRight") { focus = nextBoundary(focus); if (!e.shiftKey) anchor = focus; }
    else if (e.key === "ArrowLeft") { focus = prevBoundary(focus); if (!e.shiftKey) anchor = focus; }
    else if (e.key === "Home") { focus = 0; if (!e.shiftKey) anchor = focus; }
    else if (e.key === "End") { focus = chars.length; if (!e.shiftKey) anchor = focus; }
    else if (/^[1-9]$/.test(e.key)) {
      const l = cfg.labels[Number(e.key) - 1];
      if (l) apply(l.value); else handled = false;
    } else if (e.key === "Backspace" || e.key === "Delete") {
      const [a, b] = range();
      const i = spans.findIndex((s) => (a === b ? s.start <= a && a <= s.end : s.start < b && a < s.end));
      if (i >= 0) remove(i); else handled = false;
    } else if (e.key === "Escape") {
      if (anchor !== focus) { anchor = focus; } else { host.blur(); }
    } else handled = false;
    if (!handled) return;
    // The workbench's own shortcuts (numbers pick options) must not also act on this key.
    e.preventDefault();
    e.stopPropagation();
    if (!/^[1-9]$|Backspace|Delete/.test(e.key)) {
      const [a, b] = range();
      message = a < b ? `Selected “${chars.slice(a, b).join("")}”.` : "";
      render();
    }
  });
  host.addEventListener("focus", render);
  host.addEventListener("blur", render);
  render();
}

// ---------------------------------------------------------------------------------------------------------
// Ranking: a list, best first; an item may be tied with the one above it.

function initRanking(input, root) {
  const cfg = JSON.parse(input.dataset.config);
  const labelOf = new Map(cfg.fields.map((f) => [f.name, f.label]));
  // order: names best first; tie[i]: item i shares the rank of item i-1.
  let order = cfg.fields.map((f) => f.name), tie = order.map(() => false);
  const saved = parseJson(input.value, null);
  if (Array.isArray(saved) && saved.every(Array.isArray)) {
    const flat = saved.flat();
    if (flat.length === order.length && flat.every((n) => labelOf.has(n))) {
      order = flat;
      tie = saved.flatMap((g) => g.map((_, j) => j > 0));
    }
  }
  let focusName = null;
  const status = el("p", { class: "small muted", role: "status", "aria-live": "polite" });
  const list = el("ol", { class: "ranking", "aria-label": "Ranking, best first" });
  const confirm = el("button", { type: "button", class: "small", onclick: () => commit("Order confirmed.") }, "This order is right");
  root.append(
    el("p", { class: "small muted" }, "Best first. Focus an item, then ", el("kbd", {}, "Shift+↑"), "/", el("kbd", {}, "Shift+↓"),
      " moves it and ", el("kbd", {}, "T"), " ties it with the one above; or drag it."),
    list, confirm, status);

  function groups() {
    const out = [];
    order.forEach((n, i) => { if (i > 0 && tie[i]) out[out.length - 1].push(n); else out.push([n]); });
    return out;
  }

  function commit(message) {
    input.value = JSON.stringify(groups());
    status.textContent = message;
    render();
    changed(input);
  }

  function move(i, d) {
    const j = i + d;
    if (j < 0 || j >= order.length) return;
    [order[i], order[j]] = [order[j], order[i]];
    tie[0] = false;
    if (tie[order.length]) tie.length = order.length;
    focusName = order[j];
    commit(`${labelOf.get(order[j])} moved to place ${j + 1}.`);
  }

  function toggleTie(i) {
    if (i === 0) { status.textContent = "The first item has nothing above it to tie with."; return; }
    tie[i] = !tie[i];
    focusName = order[i];
    commit(tie[i] ? `${labelOf.get(order[i])} tied with the one above.` : `${labelOf.get(order[i])} no longer tied.`);
  }

  function render() {
    let rank = 0;
    list.replaceChildren(...order.map((name, i) => {
      if (i === 0 || !tie[i]) rank = i + 1;
      const li = el("li", { class: "rank-item" + (tie[i] ? " tied" : ""), tabindex: 0, draggable: "true", "data-name": name,
        "aria-label": `${labelOf.get(name)}, place ${rank}${tie[i] ? ", tied with the one above" : ""}` },
        el("span", { class: "rank-no", "aria-hidden": "true" }, tie[i] ? `${rank}=` : String(rank)),
        el("span", { class: "rank-label" }, labelOf.get(name)),
        el("span", { class: "rank-actions" },
          el("button", { type: "button", class: "quiet small", tabindex: -1, "aria-label": `Move ${labelOf.get(name)} up`, onclick: () => move(i, -1) }, "↑"),
          el("button", { type: "button", class: "quiet small", tabindex: -1, "aria-label": `Move ${labelOf.get(name)} down`, onclick: () => move(i, 1) }, "↓"),
          el("button", { type: "button", class: "quiet small", tabindex: -1, "aria-pressed": tie[i] ? "true" : "false", onclick: () => toggleTie(i) }, "Tie")));
      li.addEventListener("keydown", (e) => {
        if (e.ctrlKey || e.metaKey || e.altKey) return;
        let handled = true;
        if (e.key === "ArrowUp" && e.shiftKey) move(i, -1);
        else if (e.key === "ArrowDown" && e.shiftKey) move(i, 1);
        else if (e.key === "ArrowUp") list.children[Math.max(0, i - 1)]?.focus();
        else if (e.key === "ArrowDown") list.children[Math.min(order.length - 1, i + 1)]?.focus();
        else if (e.key === "t" || e.key === "T" || e.key === "=") toggleTie(i);
        else if (e.key === "Enter") commit("Order confirmed.");
        else handled = false;
        if (handled) { e.preventDefault(); e.stopPropagation(); }
      });
      li.addEventListener("dragstart", (e) => { e.dataTransfer.setData("text/plain", name); e.dataTransfer.effectAllowed = "move"; });
      li.addEventListener("dragover", (e) => e.preventDefault());
      li.addEventListener("drop", (e) => {
        e.preventDefault();
        const from = order.indexOf(e.dataTransfer.getData("text/plain"));
        if (from < 0 || from === i) return;
        const [moved] = order.splice(from, 1);
        order.splice(i, 0, moved);
        tie = order.map(() => false);
        focusName = moved;
        commit(`${labelOf.get(moved)} moved to place ${i + 1}.`);
      });
      return li;
    }));
    confirm.hidden = Boolean(input.value);
    if (focusName) { list.querySelector(`[data-name="${CSS.escape(focusName)}"]`)?.focus(); focusName = null; }
    if (!status.textContent) status.textContent = input.value ? "Ranked." : "Not ranked yet: move items, or confirm the order as it is.";
  }
  render();
}
