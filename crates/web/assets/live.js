// Live counts on the project dashboard: every 5 seconds (while the tab is visible) the numbers are fetched
// and written into the cards, so a requester watches progress move without reloading. Without this module
// the page shows the numbers as of its load.

const root = document.getElementById("live");
if (root && root.dataset.live) {
  const set = (id, v) => { const e = document.getElementById(id); if (e && e.textContent !== String(v)) e.textContent = String(v); };
  async function tick() {
    if (document.hidden) return;
    try {
      const r = await fetch(root.dataset.live, { credentials: "same-origin", headers: { accept: "application/json" } });
      if (!r.ok) return;
      const s = await r.json();
      set("stat-percent", `${s.percent}%`);
      set("stat-items", s.items);
      set("stat-completed", s.completed_items);
      set("stat-annotations", s.annotations);
      set("stat-remaining", s.remaining);
      set("stat-open", s.open_assignments);
      const bar = document.getElementById("stat-progress");
      if (bar) bar.value = s.percent;
    } catch (_) { /* offline for a moment: try again next tick */ }
  }
  setInterval(tick, 5000);
  document.addEventListener("visibilitychange", tick);
}
