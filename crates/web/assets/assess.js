// Assessments and the screening interview: the attempt's countdown (the server holds the real deadline; at 0 the
// page sends what is answered) and Ctrl+Enter to send. Without JavaScript both pages work as plain forms.
const timer = document.getElementById("timer");
if (timer) {
  const deadline = Number(timer.dataset.deadline);
  const form = document.getElementById(timer.dataset.form);
  const left = document.getElementById("time-left");
  let sent = false;
  let lastMinute = null;
  const tick = () => {
    const ms = deadline - Date.now();
    const s = Math.max(0, Math.ceil(ms / 1000));
    const text = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
    left.textContent = text;
    // Screen readers hear the time once a minute, and every 10 s in the last minute, not every second.
    const minute = s > 60 ? Math.ceil(s / 60) : Math.ceil(s / 10) * 10;
    if (minute !== lastMinute) {
      lastMinute = minute;
      timer.setAttribute("aria-label", `Time left ${text}`);
    }
    if (ms <= 0 && !sent && form) {
      sent = true;
      form.requestSubmit();
    }
  };
  tick();
  setInterval(tick, 1000);
}
document.addEventListener("keydown", (e) => {
  // Number keys pick the option of the question that has focus, as on the workbench.
  const group = document.activeElement && document.activeElement.closest && document.activeElement.closest("fieldset.group");
  if (group && /^[1-9]$/.test(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey) {
    const options = group.querySelectorAll("input[type=radio], input[type=checkbox]");
    const pick = options[Number(e.key) - 1];
    if (pick) {
      e.preventDefault();
      pick.click();
      pick.focus();
    }
    return;
  }
  if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
    const form = document.getElementById("attempt-form") || document.getElementById("answer-form");
    if (form) {
      e.preventDefault();
      form.requestSubmit();
    }
  }
});
