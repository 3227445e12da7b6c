// Integrity counts for the workbench: how often the worker pasted into an answer and how many characters, sent
// with the submission as hidden fields. The server compares them with the free text submitted; the worker sees
// the result on "My reviews". Nothing is blocked or judged here.
const form = document.getElementById('answer-form');
if (form) {
  const hidden = (name) => {
    let input = form.querySelector(`input[name="${name}"]`);
    if (!input) {
      input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      input.value = '0';
      form.append(input);
    }
    return input;
  };
  // Say what is measured: the worker sees these counts again with their reviews.
  const actions = form.querySelector('.actions');
  if (actions) {
    const note = document.createElement('p');
    note.className = 'small muted integrity-note';
    note.id = 'integrity-note';
    note.textContent = 'Pastes into your answers are counted and shown with your reviews; they never reject work by themselves.';
    actions.after(note);
  }
  const events = hidden('paste_events');
  const chars = hidden('pasted_chars');
  form.addEventListener('paste', (e) => {
    const t = e.target;
    if (!(t instanceof HTMLTextAreaElement || (t instanceof HTMLInputElement && t.type === 'text'))) return;
    const text = e.clipboardData ? e.clipboardData.getData('text/plain') : '';
    events.value = String(Number(events.value) + 1);
    chars.value = String(Number(chars.value) + [...text].length);
  });
}
