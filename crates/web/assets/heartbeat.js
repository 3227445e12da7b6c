// Time tracking in the open: every 15 seconds while a task is open, tell the server two things only —
// whether this page had focus and whether there was any input since the last heartbeat. Never what was typed,
// never where the pointer was, no screenshots. The server turns heartbeats into active time by the idle rule
// listed on /time. Without this module the task still works; only active time is not measured.

const PERIOD_MS = 15000;
const form = document.getElementById("answer-form");
if (form) start(form);

function start(form) {
  const url = form.getAttribute("action") + "/heartbeat";
  const csrf = form.querySelector('input[name="_csrf"]');
  if (!csrf) return;
  let input = false;
  const mark = () => { input = true; };
  for (const type of ["keydown", "pointerdown", "input", "wheel", "touchstart"]) {
    document.addEventListener(type, mark, { passive: true, capture: true });
  }
  const timer = setInterval(beat, PERIOD_MS);

  async function beat() {
    const body = new URLSearchParams({
      _csrf: csrf.value,
      focus: document.visibilityState === "visible" && document.hasFocus() ? "1" : "0",
      input: input ? "1" : "0",
    });
    input = false;
    try {
      const r = await fetch(url, { method: "POST", body, credentials: "same-origin" });
      // The task was submitted, skipped or expired, or is not ours: stop.
      if (r.status === 404 || r.status === 409 || r.status === 403) clearInterval(timer);
    } catch (_) {
      // Offline for a moment: the next heartbeat tries again.
    }
  }
}
