// Live preview on the new-project page: while the requester edits the template, the worker's view below it
// is re-rendered by the server (the same templates as the workbench), at most every 400 ms. Without this
// module the "Preview" button does the same with a page load.

const form = document.getElementById("create-form");
const target = document.getElementById("preview");
const area = document.getElementById("template");
if (form && target && area) {
  let timer = 0, seq = 0;
  area.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
  async function refresh() {
    const mine = ++seq;
    const body = new URLSearchParams({ _csrf: form.elements._csrf.value, template: area.value });
    try {
      const r = await fetch("/projects/new/preview", { method: "POST", body, credentials: "same-origin" });
      if (!r.ok || mine !== seq) return;
      target.innerHTML = await r.text();
    } catch (_) { /* offline: the Preview button still works */ }
  }
}
