// Wellbeing in the workbench (docs/wellbeing.md). The page works without this module: a sensitive item is
// revealed by its <details> summary, support is a link, and a due break shows as a banner with a form. This
// adds keys (V reveals or blurs again, H opens support), keeps a blurred item out of the tab order and away
// from screen readers until revealed, and counts active time to open the break reminder when it is due.

const reveal = document.getElementById("reveal");
const item = document.querySelector(".sensitive-wrap .item");
const support = document.getElementById("support");
const supportButton = document.getElementById("support-button");
const reminder = document.getElementById("break-reminder");

function syncReveal() {
  if (!reveal || !item) return;
  item.inert = !reveal.open;
  item.setAttribute("aria-hidden", reveal.open ? "false" : "true");
}
if (reveal) {
  syncReveal();
  reveal.addEventListener("toggle", syncReveal);
}

function toggleSupport() {
  if (!support) return;
  if (support.open) support.close(); else support.show();
  if (support.open) document.getElementById("support-close")?.focus();
}
supportButton?.addEventListener("click", (e) => { e.preventDefault(); toggleSupport(); });

document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLTextAreaElement || (t instanceof HTMLInputElement && t.type !== "radio" && t.type !== "checkbox")
      || (t instanceof HTMLElement && t.isContentEditable)) return;
  if (document.getElementById("skip-menu")?.open) return;
  if ((e.key === "v" || e.key === "V") && reveal) {
    e.preventDefault();
    reveal.open = !reveal.open;
    document.getElementById("reveal-button")?.focus();
  } else if ((e.key === "h" || e.key === "H") && support) {
    e.preventDefault();
    toggleSupport();
  } else if (e.key === "Escape" && support?.open) {
    support.close();
  }
});

// ---- break reminder: active time as the heartbeats count it (15 s with focus and recent input) ----
if (reminder) {
  const PERIOD_S = 15;
  const SNOOZE_S = 10 * 60;
  const limit = Number(reminder.dataset.breakMinutes) * 60;
  let active = Number(reminder.dataset.activeSeconds) || 0;
  let nextAt = limit;
  let input = false, previousInput = true;
  const mark = () => { input = true; };
  for (const type of ["keydown", "pointerdown", "input", "wheel", "touchstart"]) {
    document.addEventListener(type, mark, { passive: true, capture: true });
  }
  const minutes = document.getElementById("break-minutes");
  const show = () => {
    if (reminder.open) return;
    if (minutes) minutes.textContent = String(Math.floor(active / 60));
    document.getElementById("break-banner")?.setAttribute("hidden", "");
    reminder.showModal();
    document.getElementById("break-take")?.focus();
  };
  reminder.addEventListener("close", () => {
    // "Not now" (or Esc): ask again after ten more minutes of work.
    nextAt = active + SNOOZE_S;
  });
  if (limit > 0 && active >= nextAt) show();
  setInterval(() => {
    const focused = document.visibilityState === "visible" && document.hasFocus();
    if (focused && (input || previousInput)) active += PERIOD_S;
    previousInput = input;
    input = false;
    if (limit > 0 && active >= nextAt) show();
  }, PERIOD_S * 1000);
}
