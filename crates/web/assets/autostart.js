// "Start" lands on an item in one click: a GET never takes a lease, so the start page posts its form at once.
// Coming back to this page through the history does not post again (the browser restores it from its cache).
const form = document.querySelector("form[data-autostart]");
if (form && !sessionStorage.getItem("fl:autostarted:" + location.pathname + ":" + performance.timeOrigin)) {
  sessionStorage.setItem("fl:autostarted:" + location.pathname + ":" + performance.timeOrigin, "1");
  form.requestSubmit();
}
