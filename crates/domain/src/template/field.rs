//! Fields: the parts of an item shown to the worker, each bound to one key of the item's data.

use serde::Serialize;
use serde_json::{Map, Value};

use super::error::{FieldError, TemplateError};
use super::parse::{self, Obj, describe};

/// How a field's data is shown, and so which JSON shape the item data must have for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// Plain text (a string), shown as is; the only kind `spans` questions can mark.
    Text,
    /// Markdown (a string), rendered on the server and sanitised.
    Markdown,
    /// A conversation: a list of `{"role": …, "content": …}` turns with string content.
    Chat,
    /// An image: a string naming it (URL or media key).
    Image,
    /// A video: a string naming it (URL or media key).
    Video,
    /// An audio clip: a string naming it (URL or media key).
    Audio,
    /// A link the worker may open: an `http://` or `https://` URL.
    Link,
}

impl FieldKind {
    /// Every kind, in the order the documentation lists them.
    pub const ALL: [FieldKind; 7] = [
        FieldKind::Text,
        FieldKind::Markdown,
        FieldKind::Chat,
        FieldKind::Image,
        FieldKind::Video,
        FieldKind::Audio,
        FieldKind::Link,
    ];

    /// The `"type"` string of this kind in a template.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Markdown => "markdown",
            FieldKind::Chat => "chat",
            FieldKind::Image => "image",
            FieldKind::Video => "video",
            FieldKind::Audio => "audio",
            FieldKind::Link => "link",
        }
    }

    fn parse(s: &str) -> Option<FieldKind> {
        FieldKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One thing shown to the worker: which data key it reads, how it is shown, and its caption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The field's name, unique among fields; questions refer to fields by it.
    pub name: String,
    /// How the data is shown.
    #[serde(rename = "type")]
    pub kind: FieldKind,
    /// The item data key holding the value; `None` means the key equals `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Caption shown above the field; the UI falls back to the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// When true an item may lack this key (or hold `null`) and the field is simply not shown.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// Video fields only: the item data key holding the video's frame rate (frames per second), which the
    /// workbench needs to step and seek frame by frame and to number the frames of tracks. Items without it (or
    /// templates without this key) get [`DEFAULT_FPS`], and the worker is told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps: Option<String>,
}

/// The frame rate assumed for a video whose item gives none: the most common rate of screen video.
pub const DEFAULT_FPS: f64 = 30.0;

/// The highest frame rate an item may give (high-speed footage is rarely above this; anything larger is a typo).
pub const MAX_FPS: f64 = 1000.0;

const FIELD_KEYS: &[&str] = &["name", "type", "source", "label", "optional", "fps"];

impl Field {
    /// The item data key this field reads.
    pub fn source(&self) -> &str {
        self.source.as_deref().unwrap_or(&self.name)
    }

    /// The field's text in an item, when the field is a `text` or `markdown` field and the item has a string there.
    pub fn text_in<'a>(&self, data: &'a Map<String, Value>) -> Option<&'a str> {
        match self.kind {
            FieldKind::Text | FieldKind::Markdown => {
                data.get(self.source()).and_then(Value::as_str)
            }
            _ => None,
        }
    }

    pub(crate) fn parse(v: &Value, path: &str) -> Result<Field, TemplateError> {
        let map: &Obj = parse::object(v, path, "a field")?;
        let name = parse::req_str(map, path, "name", "every field needs a name")?;
        parse::check_name(&name, &parse::join(path, "name"))?;
        let type_path = parse::join(path, "type");
        let kind_name = parse::req_str(
            map,
            path,
            "type",
            &format!(
                "say how to show the field, one of {}",
                parse::quoted_list(FieldKind::ALL.map(FieldKind::as_str))
            ),
        )?;
        let kind = FieldKind::parse(&kind_name).ok_or_else(|| {
            TemplateError::new(
                &type_path,
                format!(
                    "unknown field type {kind_name:?}; expected one of {}",
                    parse::quoted_list(FieldKind::ALL.map(FieldKind::as_str))
                ),
            )
        })?;
        parse::check_keys(map, path, FIELD_KEYS, "a field")?;
        let source = parse::opt_str(map, path, "source")?;
        if source.as_deref() == Some("") {
            return Err(TemplateError::new(
                parse::join(path, "source"),
                "must not be empty",
            ));
        }
        let fps = parse::opt_str(map, path, "fps")?;
        if let Some(key) = &fps {
            let fpath = parse::join(path, "fps");
            if kind != FieldKind::Video {
                return Err(TemplateError::new(
                    fpath,
                    format!("only video fields have a frame rate, not a {kind_name} field"),
                ));
            }
            if key.is_empty() {
                return Err(TemplateError::new(
                    fpath,
                    "must name the item data key that holds the frame rate, e.g. \"fps\"",
                ));
            }
            if source.as_deref().unwrap_or(&name) == key {
                return Err(TemplateError::new(
                    fpath,
                    format!(
                        "{key:?} is the key of the video itself; name the key of its frame rate"
                    ),
                ));
            }
        }
        Ok(Field {
            name,
            kind,
            source,
            label: parse::opt_str(map, path, "label")?,
            optional: parse::opt_bool(map, path, "optional")?.unwrap_or(false),
            fps,
        })
    }

    /// The frame rate of this video field in an item: the value under the `fps` key when the template names one
    /// and the item holds a valid rate there; `None` means "not given" (use [`DEFAULT_FPS`]).
    pub fn fps_in(&self, data: &Map<String, Value>) -> Option<f64> {
        let v = data.get(self.fps.as_deref()?)?.as_f64()?;
        (v > 0.0 && v <= MAX_FPS).then_some(v)
    }

    /// Checks that the item data holds a value of the right shape for this field.
    pub(crate) fn check_data(&self, data: &Map<String, Value>) -> Result<(), FieldError> {
        let key = self.source();
        let err = |message: String| FieldError {
            field: key.to_owned(),
            message,
        };
        let value = match data.get(key) {
            None | Some(Value::Null) if self.optional => return Ok(()),
            None | Some(Value::Null) => {
                let reader = if key == self.name {
                    String::new()
                } else {
                    format!(" (the template's field {:?} reads it)", self.name)
                };
                return Err(err(format!(
                    "is missing: the template shows it as {}{reader}",
                    self.expected()
                )));
            }
            Some(v) => v,
        };
        match self.kind {
            FieldKind::Text | FieldKind::Markdown => match value {
                Value::String(_) => Ok(()),
                v => Err(err(format!(
                    "must be {}, got {}",
                    self.expected(),
                    describe(v)
                ))),
            },
            FieldKind::Image | FieldKind::Video | FieldKind::Audio => match value {
                Value::String(s) if !s.trim().is_empty() => Ok(()),
                Value::String(_) => Err(err(format!(
                    "must be {}, got an empty string",
                    self.expected()
                ))),
                v => Err(err(format!(
                    "must be {}, got {}",
                    self.expected(),
                    describe(v)
                ))),
            },
            FieldKind::Link => match value {
                Value::String(s) if s.starts_with("https://") || s.starts_with("http://") => Ok(()),
                Value::String(s) => Err(err(format!(
                    "must be {}; {:?} does not start with http:// or https://",
                    self.expected(),
                    truncate(s)
                ))),
                v => Err(err(format!(
                    "must be {}, got {}",
                    self.expected(),
                    describe(v)
                ))),
            },
            FieldKind::Chat => check_chat(value).map_err(err),
        }?;
        // The frame rate, when the template reads one: optional per item, but a number in range when given.
        if let Some(key) = &self.fps {
            match data.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::Number(n)) if n.as_f64().is_some_and(|r| r > 0.0 && r <= MAX_FPS) => {}
                Some(v) => {
                    return Err(FieldError {
                        field: key.clone(),
                        message: format!(
                            "must be the frame rate of video field {:?} in frames per second (a number above 0 and at most {MAX_FPS}), got {}",
                            self.name,
                            parse::show(v)
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    fn expected(&self) -> &'static str {
        match self.kind {
            FieldKind::Text => "text (a string)",
            FieldKind::Markdown => "Markdown (a string)",
            FieldKind::Chat => "a chat (a list of {\"role\", \"content\"} objects)",
            FieldKind::Image => "an image (a URL or media key string)",
            FieldKind::Video => "a video (a URL or media key string)",
            FieldKind::Audio => "an audio clip (a URL or media key string)",
            FieldKind::Link => "a link (an http:// or https:// URL string)",
        }
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= 40 {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(40).collect::<String>())
    }
}

/// A chat is a non-empty list of turns; each turn an object with a non-empty string `role` and a string `content`.
/// Other keys of a turn (`name`, ids…) are allowed and ignored, so exported OpenAI-style logs import as they are.
fn check_chat(value: &Value) -> Result<(), String> {
    let turns = value.as_array().ok_or_else(|| {
        format!(
            "must be a chat: a list of {{\"role\", \"content\"}} objects, got {}",
            describe(value)
        )
    })?;
    if turns.is_empty() {
        return Err("must be a chat with at least one turn, got an empty list".to_owned());
    }
    for (i, turn) in turns.iter().enumerate() {
        let obj = turn.as_object().ok_or_else(|| {
            format!(
                "turn {i} must be an object with \"role\" and \"content\", got {}",
                describe(turn)
            )
        })?;
        match obj.get("role") {
            Some(Value::String(r)) if !r.is_empty() => {}
            Some(Value::String(_)) => return Err(format!("turn {i}: \"role\" must not be empty")),
            Some(v) => {
                return Err(format!(
                    "turn {i}: \"role\" must be a string, got {}",
                    describe(v)
                ));
            }
            None => {
                return Err(format!(
                    "turn {i}: \"role\" is missing (e.g. \"user\" or \"assistant\")"
                ));
            }
        }
        match obj.get("content") {
            Some(Value::String(_)) => {}
            Some(v) => {
                return Err(format!(
                    "turn {i}: \"content\" must be a string, got {}",
                    describe(v)
                ));
            }
            None => return Err(format!("turn {i}: \"content\" is missing")),
        }
    }
    Ok(())
}
