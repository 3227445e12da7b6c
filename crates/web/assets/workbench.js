// The workbench's keyboard flow, draft and timer. The page works without this module: it only adds
// shortcuts (number keys, Ctrl+Enter, S to skip with a reason, ?, Esc), keeps a draft in localStorage so a
// reload loses nothing, hides questions whose show_if does not hold, and shows the time spent on the item.

const form = document.getElementById("answer-form");
if (form) init(form);

function init(form) {
  const draftKey = form.dataset.draftKey;
  const timeKey = draftKey + ":t0";
  const groups = () => [...form.querySelectorAll("fieldset.group")].filter((g) => !g.closest("[hidden]"));
  let active = 0;

  // ---- draft: restore, then save on every change ----
  const hasServerValues = form.querySelector("input:checked") || [...form.querySelectorAll("textarea, input[data-widget]")].some((t) => t.value);
  if (!hasServerValues) restore();
  form.addEventListener("input", save);
  form.addEventListener("change", () => { save(); updateVisibility(); });
  form.addEventListener("submit", () => {
    try { localStorage.removeItem(draftKey); localStorage.removeItem(timeKey); } catch (_) { /* private mode */ }
  });

  // The draft also goes to the server a moment after the last change, so another device, or this one after
  // its storage was cleared, finds it too. Failures are silent: localStorage still has it.
  let serverTimer = 0;
  const draftUrl = form.getAttribute("action") + "/draft";
  function save() {
    const pairs = [];
    for (const [k, v] of new FormData(form)) if (k !== "_csrf") pairs.push([k, String(v)]);
    try { localStorage.setItem(draftKey, JSON.stringify(pairs)); } catch (_) { /* storage full or disabled */ }
    clearTimeout(serverTimer);
    serverTimer = setTimeout(() => {
      fetch(draftUrl, { method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin", keepalive: true })
        .catch(() => { /* offline: kept locally */ });
    }, 800);
  }

  function restore() {
    let pairs;
    try { pairs = JSON.parse(localStorage.getItem(draftKey) || "[]"); } catch (_) { return; }
    for (const [k, v] of pairs) {
      for (const el of form.elements) {
        if (el.name !== k) continue;
        if (el.type === "radio" || el.type === "checkbox") { if (el.value === v) el.checked = true; }
        else if (el.tagName === "TEXTAREA" || el.type === "text" || (el.type === "hidden" && el.dataset.widget)) el.value = v;
      }
    }
  }

  // ---- show_if: a question shows only when an earlier answer has one of the listed values ----
  function updateVisibility() {
    for (const q of form.querySelectorAll("[data-show-if]")) {
      const wanted = JSON.parse(q.dataset.showValues || "[]");
      const have = new FormData(form).getAll("q." + q.dataset.showIf).map(String);
      const controller = form.querySelector(`[data-question="${CSS.escape(q.dataset.showIf)}"]`);
      const shown = !(controller && controller.hidden) && have.some((v) => wanted.includes(v));
      q.hidden = !shown;
      // A hidden question sends nothing: its controls are disabled while hidden.
      for (const el of q.querySelectorAll("input, textarea")) el.disabled = !shown;
    }
    setActive(Math.min(active, groups().length - 1));
  }

  // ---- the highlighted group that number keys act on ----
  function setActive(i) {
    const gs = groups();
    gs.forEach((g, j) => g.classList.toggle("active", j === i));
    active = Math.max(0, i);
  }
  form.addEventListener("focusin", (e) => {
    const g = e.target.closest("fieldset.group");
    if (g) setActive(groups().indexOf(g));
  });

  // ---- timer: time on this item, kept across reloads ----
  const timer = document.getElementById("timer");
  let t0 = Number(localStorage.getItem(timeKey));
  if (!t0) { t0 = Date.now(); try { localStorage.setItem(timeKey, String(t0)); } catch (_) { /* ignore */ } }
  const tick = () => {
    const s = Math.max(0, Math.floor((Date.now() - t0) / 1000));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = String(s % 60).padStart(2, "0");
    timer.textContent = h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
  };
  if (timer) { tick(); setInterval(tick, 1000); }

  // ---- shortcuts ----
  const dialog = document.getElementById("shortcuts");
  const toggleHelp = () => (dialog.open ? dialog.close() : dialog.showModal());
  document.getElementById("shortcuts-button")?.addEventListener("click", toggleHelp);
  // The guidelines open beside the item (a non-modal side panel: the item stays readable and answerable).
  const guide = document.getElementById("guidelines");
  const toggleGuide = () => { if (!guide) return; if (guide.open) guide.close(); else guide.show(); };
  // On a wide screen the page makes room for the panel instead of hiding the answers under it.
  guide?.addEventListener("close", () => document.body.classList.remove("guide-open"));
  const observer = guide && new MutationObserver(() => document.body.classList.toggle("guide-open", guide.open));
  observer?.observe(guide, { attributes: true, attributeFilter: ["open"] });
  document.getElementById("guidelines-button")?.addEventListener("click", toggleGuide);

  // ---- skip: S opens the reason form (a <details>, so it also works without this script) ----
  const skipMenu = document.getElementById("skip-menu");
  const skipForm = document.getElementById("skip-form");
  function openSkip() {
    if (!skipMenu) return;
    skipMenu.open = true;
    (skipMenu.querySelector("input:checked") || skipMenu.querySelector("input[type=radio]"))?.focus();
  }

  document.addEventListener("keydown", (e) => {
    const t = e.target;
    const typing = t instanceof HTMLTextAreaElement || (t instanceof HTMLInputElement && ["text", "email", "password", "search"].includes(t.type));
    if ((e.ctrlKey || e.metaKey) && (e.key === "s" || e.key === "S")) {
      // The draft is saved on every change already; Ctrl+S says so instead of opening "Save page as".
      e.preventDefault();
      save();
      const status = document.getElementById("draft-status");
      if (status) {
        status.hidden = false;
        clearTimeout(status._t);
        status._t = setTimeout(() => { status.hidden = true; }, 1500);
      }
      return;
    }
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
      e.preventDefault();
      const submit = document.getElementById("submit");
      if (!submit.disabled) form.requestSubmit(submit);
      return;
    }
    if (typing) {
      if (e.key === "Escape") t.blur();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "?") { e.preventDefault(); toggleHelp(); return; }
    if (e.key === "g" || e.key === "G") { e.preventDefault(); toggleGuide(); return; }
    if (e.key === "Escape" && guide?.open) { guide.close(); return; }
    if (dialog.open) return;
    if (e.key === "s" || e.key === "S") { e.preventDefault(); openSkip(); return; }
    if (skipMenu && skipMenu.open) {
      // While the skip form is open, numbers pick a reason, Enter skips and Esc goes back to the item.
      const reasons = [...skipMenu.querySelectorAll("input[type=radio]")];
      if (/^[1-9]$/.test(e.key) && reasons[Number(e.key) - 1]) {
        e.preventDefault();
        reasons[Number(e.key) - 1].checked = true;
        reasons[Number(e.key) - 1].focus();
        return;
      }
      if (e.key === "Enter" && t instanceof HTMLInputElement && t.type === "radio" && skipMenu.contains(t)) {
        e.preventDefault();
        skipForm.requestSubmit();
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        skipMenu.open = false;
        document.getElementById("skip").focus();
        return;
      }
    }
    if (/^[1-9]$/.test(e.key)) {
      const gs = groups();
      const g = gs[active];
      if (!g) return;
      const input = g.querySelectorAll("input")[Number(e.key) - 1];
      if (!input) return;
      e.preventDefault();
      if (input.type === "checkbox") input.checked = !input.checked; else input.checked = true;
      input.dispatchEvent(new Event("change", { bubbles: true }));
      save();
      if (input.type === "radio") {
        const next = Math.min(active + 1, groups().length - 1);
        setActive(next);
        groups()[next]?.scrollIntoView({ block: "nearest" });
        // A text box that belongs to this question (a justification) takes the focus once its last choice is
        // made, so typing can start at once; Esc hands the keys back to the options.
        const section = g.closest(".question");
        const box = section?.querySelector("textarea");
        const lastInSection = [...section.querySelectorAll("fieldset.group")].pop() === g;
        if (box && lastInSection && !box.value) box.focus();
      }
    }
  });

  updateVisibility();
  setActive(firstUnanswered());
  // A task that is only writing (no options to pick) starts with the caret in the first empty box.
  if (!groups().length) {
    const box = [...form.querySelectorAll("textarea")].find((t) => !t.value && !t.closest("[hidden]"));
    box?.focus();
  }

  function firstUnanswered() {
    const gs = groups();
    const i = gs.findIndex((g) => !g.querySelector("input:checked"));
    return i < 0 ? 0 : i;
  }
}
