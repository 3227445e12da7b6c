//! Task templates: what a worker is shown and what they are asked, and the validation of answers against it.
