// Review queue shortcuts: A / R / C pick accept, reject or correct and move to the feedback box; Ctrl+Enter saves;
// Esc leaves a text box. The form works without this script; it only saves keystrokes.
const form = document.getElementById('decision-form');
if (form) {
  const feedback = document.getElementById('feedback');
  const panel = document.getElementById('correct-panel');
  const pick = (value) => {
    const radio = form.querySelector(`input[name="action"][value="${value}"]`);
    if (!radio) return;
    radio.checked = true;
    if (value === 'correct' && panel) panel.open = true;
    feedback.focus();
  };
  const keys = { a: 'accept', r: 'reject', c: 'correct' };
  document.addEventListener('keydown', (e) => {
    const t = e.target;
    const typing = t instanceof HTMLTextAreaElement || (t instanceof HTMLInputElement && t.type === 'text');
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && form.contains(t)) {
      e.preventDefault();
      form.requestSubmit();
      return;
    }
    if (typing) {
      if (e.key === 'Escape') t.blur();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const action = keys[e.key.toLowerCase()];
    if (action) {
      e.preventDefault();
      pick(action);
    }
  });
}
