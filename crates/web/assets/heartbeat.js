// Time tracking in the open: every 15 seconds while a task is open, tell the server two things only —
// whether this page had focus and whether there was any input since the last heartbeat. Never what was typed,
// never where the pointer was, no screenshots. The server turns heartbeats into active time by the idle rule
// listed on /time. Without this module the task still works; only active time is not measured.
//
// The same beat runs on onboarding pages (guidelines read outside a task) when the project pays that time: the
// page carries `data-onboarding-heartbeat` (the URL) and `data-activity`, and the server answers whether it
// still counts (it stops at the project's cap).

const PERIOD_MS = 15000;
const form = document.getElementById("answer-form");
const onboarding = document.querySelector("[data-onboarding-heartbeat]");
if (form) {
  const csrf = form.querySelector('input[name="_csrf"]');
  if (csrf) start(form.getAttribute("action") + "/heartbeat", csrf.value, {}, false);
} else if (onboarding) {
  const csrf = document.querySelector('input[name="_csrf"]');
  if (csrf) {
    start(onboarding.dataset.onboardingHeartbeat, csrf.value,
      { activity: onboarding.dataset.activity || "guidelines" }, true);
  }
}

function start(url, csrf, extra, immediately) {
  let input = false;
  const mark = () => { input = true; };
  for (const type of ["keydown", "pointerdown", "input", "wheel", "touchstart", "scroll"]) {
    document.addEventListener(type, mark, { passive: true, capture: true });
  }
  const timer = setInterval(beat, PERIOD_MS);
  // Onboarding has no claim to measure from: the first beat marks the start of reading.
  if (immediately) beat();

  async function beat() {
    const body = new URLSearchParams({
      _csrf: csrf,
      focus: document.visibilityState === "visible" && document.hasFocus() ? "1" : "0",
      input: input ? "1" : "0",
      ...extra,
    });
    input = false;
    try {
      const r = await fetch(url, { method: "POST", body, credentials: "same-origin" });
      // The task was submitted, skipped or expired, or is not ours: stop.
      if (r.status === 404 || r.status === 409 || r.status === 403) clearInterval(timer);
      if (r.ok && r.headers.get("content-type")?.startsWith("application/json")) {
        const outcome = await r.json();
        if (!outcome.paid) clearInterval(timer);
        const progress = document.getElementById("onboarding-progress");
        if (progress && outcome.paid) {
          const min = Math.floor(outcome.active_ms / 60000);
          const max = Math.round(outcome.max_ms / 60000);
          progress.textContent = `${min} of ${max} paid minutes counted so far; paid the day after`;
          if (outcome.active_ms >= outcome.max_ms) clearInterval(timer);
        }
      }
    } catch (_) {
      // Offline for a moment: the next heartbeat tries again.
    }
  }
}
