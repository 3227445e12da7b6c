//! Review pages (filled in below).

use fairloop_app::review::ClientSignals;

use super::session::form_value;

/// The workbench's integrity counts from its hidden fields (`paste_events`, `pasted_chars`), when present.
pub fn integrity_from_form(form: &[(String, String)]) -> Option<ClientSignals> {
    let events = form_value(form, "paste_events")?.trim().parse().ok()?;
    let chars = form_value(form, "pasted_chars")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Some(ClientSignals {
        paste_events: events,
        pasted_chars: chars,
    })
}
