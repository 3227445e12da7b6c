//! Questions: what the worker is asked, the shape of each answer, and when a question is shown.

use std::collections::HashSet;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::error::TemplateError;
use super::field::{Field, FieldKind};
use super::parse::{self, Obj, describe, index, join, quoted_list, show};

/// One value a worker can pick (an option of a choice question, or a label of spans, boxes and video events).
///
/// Written in a template as a plain string (`"pos"`) or as `{"value": "pos", "label": "Positive"}` when what the
/// worker reads should differ from what is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceOption {
    /// What is stored in the answer; unique within its list.
    pub value: String,
    /// What the worker reads; `None` shows the value.
    pub label: Option<String>,
}

impl ChoiceOption {
    /// The text shown to the worker.
    pub fn display(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.value)
    }
}

impl Serialize for ChoiceOption {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.label {
            None => s.serialize_str(&self.value),
            Some(label) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("value", &self.value)?;
                m.serialize_entry("label", label)?;
                m.end()
            }
        }
    }
}

/// An integer scale with optionally labelled ends (e.g. 1 "Poor" … 5 "Excellent").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scale {
    /// The lowest allowed score.
    pub min: i64,
    /// The highest allowed score (greater than `min`).
    pub max: i64,
    /// What the lowest score means, shown at that end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_label: Option<String>,
    /// What the highest score means, shown at that end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_label: Option<String>,
}

impl Scale {
    /// The scale used when a template gives no `min`/`max`: 1 to 5.
    pub const DEFAULT_MIN: i64 = 1;
    /// See [`Scale::DEFAULT_MIN`].
    pub const DEFAULT_MAX: i64 = 5;

    /// Whether `score` is on the scale.
    pub fn contains(&self, score: i64) -> bool {
        (self.min..=self.max).contains(&score)
    }
}

/// One named criterion of a rubric, scored on its own scale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Criterion {
    /// The key of this criterion in the answer object; unique within the rubric.
    pub name: String,
    /// What the worker reads; the UI falls back to the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// A sentence saying what to judge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The scale this criterion is scored on.
    #[serde(flatten)]
    pub scale: Scale,
}

/// Whether a pairwise answer carries a written justification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Justification {
    /// No text box; a justification in the answer is an error.
    None,
    /// A text box the worker may leave empty.
    Optional,
    /// The worker must write something.
    Required,
}

/// When a question is shown: only when an earlier question's answer has one of the given values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShowIf {
    /// The name of an earlier `single_choice`, `multi_choice`, `rating` or `text` question.
    pub question: String,
    /// The values that show the question.
    #[serde(flatten)]
    pub condition: Condition,
}

/// The values of a [`ShowIf`]: `{"equals": v}` or `{"in": [v, …]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Shown when the answer is this value (for `multi_choice`: when this value is among those selected).
    Equals(Value),
    /// Shown when the answer is any of these values (for `multi_choice`: when any of them is selected).
    In(Vec<Value>),
}

impl Condition {
    /// The values that satisfy the condition.
    pub fn values(&self) -> &[Value] {
        match self {
            Condition::Equals(v) => std::slice::from_ref(v),
            Condition::In(vs) => vs,
        }
    }
}

/// The kind of a question with its settings; the `"type"` key of a question in the template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    /// Pick exactly one option. Answer: the option's value, a string.
    SingleChoice {
        /// The options, in display order; values unique.
        options: Vec<ChoiceOption>,
    },
    /// Pick any number of options. Answer: a list of distinct option values.
    MultiChoice {
        /// The options, in display order; values unique.
        options: Vec<ChoiceOption>,
        /// The fewest options an answer may select.
        #[serde(skip_serializing_if = "Option::is_none")]
        min_selected: Option<usize>,
        /// The most options an answer may select.
        #[serde(skip_serializing_if = "Option::is_none")]
        max_selected: Option<usize>,
    },
    /// A score on an integer scale. Answer: a whole number within the scale.
    Rating {
        /// The scale and the labels of its ends.
        #[serde(flatten)]
        scale: Scale,
    },
    /// Free text. Answer: a string whose trimmed length (in characters) lies within the bounds.
    Text {
        /// The fewest characters (after trimming) an answer may have.
        #[serde(skip_serializing_if = "Option::is_none")]
        min_length: Option<usize>,
        /// The most characters (after trimming) an answer may have.
        #[serde(skip_serializing_if = "Option::is_none")]
        max_length: Option<usize>,
    },
    /// Order several fields (e.g. model responses) best first, ties allowed. Answer: a list of tie groups.
    Ranking {
        /// The names of the template fields to rank (at least two).
        fields: Vec<String>,
    },
    /// Compare field `a` with field `b`. Answer: `{"strength": -3..=3, "justification": "…"}`, negative = A better.
    Pairwise {
        /// The name of the field shown as A.
        a: String,
        /// The name of the field shown as B.
        b: String,
        /// Whether the worker writes why.
        justification: Justification,
    },
    /// Mark labelled character ranges of a `text` field. Answer: a list of `{"start", "end", "label"}`.
    Spans {
        /// The name of the `text` field whose text is marked.
        field: String,
        /// The labels a span may carry.
        labels: Vec<ChoiceOption>,
        /// Whether spans may overlap (never two identical spans).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        allow_overlap: bool,
    },
    /// Score several named criteria. Answer: an object mapping every criterion name to its score.
    Rubric {
        /// The criteria, in display order.
        criteria: Vec<Criterion>,
    },
    /// Draw labelled boxes on an `image` field. Answer: a list of `{"x", "y", "w", "h", "label"}`, normalized 0..1.
    Boxes {
        /// The name of the `image` field the boxes are drawn on.
        field: String,
        /// The labels a box may carry.
        labels: Vec<ChoiceOption>,
        /// The fewest boxes an answer may have.
        #[serde(skip_serializing_if = "Option::is_none")]
        min_boxes: Option<usize>,
        /// The most boxes an answer may have.
        #[serde(skip_serializing_if = "Option::is_none")]
        max_boxes: Option<usize>,
    },
    /// Mark labelled time ranges of a `video` field. Answer: a list of `{"start", "end", "label", "note"?,
    /// "severity"?}`, times in seconds.
    VideoEvents {
        /// The name of the `video` field the events belong to.
        field: String,
        /// The labels an event may carry.
        labels: Vec<ChoiceOption>,
        /// When set, every event carries a `severity`, one of these values (e.g. minor, major, critical).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        severities: Vec<ChoiceOption>,
    },
    /// Draw labelled polygons on an `image` field. Answer: a list of `{"points": [[x, y], …], "label"}`, at least
    /// three points each, coordinates normalized 0..1.
    Polygons {
        /// The name of the `image` field the polygons are drawn on.
        field: String,
        /// The labels a polygon may carry.
        labels: Vec<ChoiceOption>,
        /// The fewest polygons an answer may have.
        #[serde(skip_serializing_if = "Option::is_none")]
        min_shapes: Option<usize>,
        /// The most polygons an answer may have.
        #[serde(skip_serializing_if = "Option::is_none")]
        max_shapes: Option<usize>,
    },
    /// Place named keypoints (a skeleton) on labelled objects of an `image` field. Answer: a list of
    /// `{"points": [[x, y, v], …], "label"}` with one point per name in `points`, in that order; `v` follows COCO
    /// (0 not placed, 1 placed but hidden, 2 visible) and a point with `v` 0 is `[0, 0, 0]`.
    Keypoints {
        /// The name of the `image` field the points are placed on.
        field: String,
        /// The labels an object may carry.
        labels: Vec<ChoiceOption>,
        /// The names of the keypoints, in order (e.g. nose, left_eye, …).
        points: Vec<String>,
        /// Pairs of keypoint indexes drawn as lines (COCO's `skeleton`, zero-based here).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        skeleton: Vec<[usize; 2]>,
    },
    /// Follow labelled objects through a `video` field as boxes on key frames, interpolated between them. Answer: a
    /// list of `{"id", "label", "keyframes": [{"frame", "x", "y", "w", "h", "outside"?}, …]}` with frames strictly
    /// increasing, boxes normalized 0..1; `"outside": true` marks the object gone from that frame on.
    Tracks {
        /// The name of the `video` field the tracks belong to.
        field: String,
        /// The labels a track may carry.
        labels: Vec<ChoiceOption>,
    },
}

impl QuestionKind {
    /// The `"type"` string of this kind.
    pub fn type_name(&self) -> &'static str {
        match self {
            QuestionKind::SingleChoice { .. } => "single_choice",
            QuestionKind::MultiChoice { .. } => "multi_choice",
            QuestionKind::Rating { .. } => "rating",
            QuestionKind::Text { .. } => "text",
            QuestionKind::Ranking { .. } => "ranking",
            QuestionKind::Pairwise { .. } => "pairwise",
            QuestionKind::Spans { .. } => "spans",
            QuestionKind::Rubric { .. } => "rubric",
            QuestionKind::Boxes { .. } => "boxes",
            QuestionKind::VideoEvents { .. } => "video_events",
            QuestionKind::Polygons { .. } => "polygons",
            QuestionKind::Keypoints { .. } => "keypoints",
            QuestionKind::Tracks { .. } => "tracks",
        }
    }

    /// Whether the answer is a scalar or a list of scalars (so it fits in one CSV cell).
    pub fn has_flat_answer(&self) -> bool {
        matches!(
            self,
            QuestionKind::SingleChoice { .. }
                | QuestionKind::MultiChoice { .. }
                | QuestionKind::Rating { .. }
                | QuestionKind::Text { .. }
        )
    }
}

/// Every question type name, in the order the documentation lists them.
pub const QUESTION_TYPES: [&str; 13] = [
    "single_choice",
    "multi_choice",
    "rating",
    "text",
    "ranking",
    "pairwise",
    "spans",
    "rubric",
    "boxes",
    "video_events",
    "polygons",
    "keypoints",
    "tracks",
];

/// One question: its name (the key of its answer), its kind, and whether and when it must be answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Question {
    /// The key of this question's answer in the answers object; unique among questions.
    pub name: String,
    /// The kind and its settings (serialized flat, with `"type"`).
    #[serde(flatten)]
    pub kind: QuestionKind,
    /// The question as the worker reads it; the UI falls back to the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// A longer hint shown under the question.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Whether a shown question must be answered (default false).
    pub required: bool,
    /// Show the question only when an earlier answer has a given value; a hidden question must not be answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_if: Option<ShowIf>,
    /// How answers are compared with a gold answer (default: the kind's comparison, see [`super::gold`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gold: Option<super::gold::GoldRule>,
}

const COMMON_KEYS: &[&str] = &[
    "name", "type", "label", "help", "required", "show_if", "gold",
];

fn kind_keys(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "single_choice" => &["options"],
        "multi_choice" => &["options", "min_selected", "max_selected"],
        "rating" => &["min", "max", "min_label", "max_label"],
        "text" => &["min_length", "max_length"],
        "ranking" => &["fields"],
        "pairwise" => &["a", "b", "justification"],
        "spans" => &["field", "labels", "allow_overlap"],
        "rubric" => &["criteria", "min", "max", "min_label", "max_label"],
        "boxes" => &["field", "labels", "min_boxes", "max_boxes"],
        "video_events" => &["field", "labels", "severities"],
        "polygons" => &["field", "labels", "min_shapes", "max_shapes"],
        "keypoints" => &["field", "labels", "points", "skeleton"],
        "tracks" => &["field", "labels"],
        _ => &[],
    }
}

impl Question {
    /// Parses one question; `fields` are the template's fields and `earlier` the questions before this one.
    pub(crate) fn parse(
        v: &Value,
        path: &str,
        fields: &[Field],
        earlier: &[Question],
    ) -> Result<Question, TemplateError> {
        let map = parse::object(v, path, "a question")?;
        let name = parse::req_str(
            map,
            path,
            "name",
            "every question needs a name (the key of its answer)",
        )?;
        parse::check_name(&name, &join(path, "name"))?;
        if let Some(i) = earlier.iter().position(|q| q.name == name) {
            return Err(TemplateError::new(
                join(path, "name"),
                format!("question name {name:?} is used twice (also questions[{i}])"),
            ));
        }
        let type_name = parse::req_str(
            map,
            path,
            "type",
            &format!(
                "say what kind of question it is, one of {}",
                quoted_list(QUESTION_TYPES)
            ),
        )?;
        if !QUESTION_TYPES.contains(&type_name.as_str()) {
            return Err(TemplateError::new(
                join(path, "type"),
                format!(
                    "unknown question type {type_name:?}; expected one of {}",
                    quoted_list(QUESTION_TYPES)
                ),
            ));
        }
        let allowed: Vec<&str> = COMMON_KEYS
            .iter()
            .chain(kind_keys(&type_name))
            .copied()
            .collect();
        parse::check_keys(map, path, &allowed, &format!("a {type_name} question"))?;
        let kind = parse_kind(&type_name, map, path, fields)?;
        let show_if = match map.get("show_if").filter(|v| !v.is_null()) {
            None => None,
            Some(v) => Some(parse_show_if(v, &join(path, "show_if"), earlier)?),
        };
        let gold = match map.get("gold").filter(|v| !v.is_null()) {
            None => None,
            Some(v) => Some(super::gold::GoldRule::parse(v, &join(path, "gold"), &kind)?),
        };
        Ok(Question {
            name,
            kind,
            label: parse::opt_str(map, path, "label")?,
            help: parse::opt_str(map, path, "help")?,
            required: parse::opt_bool(map, path, "required")?.unwrap_or(false),
            show_if,
            gold,
        })
    }

    /// Whether `v` is a value this question's answer can have, for a `show_if` naming it.
    fn check_condition_value(&self, v: &Value) -> Result<(), String> {
        match &self.kind {
            QuestionKind::SingleChoice { options } | QuestionKind::MultiChoice { options, .. } => {
                match v {
                    Value::String(s) if options.iter().any(|o| &o.value == s) => Ok(()),
                    _ => Err(format!(
                        "{} is not an option of question {:?} (options: {})",
                        show(v),
                        self.name,
                        quoted_list(options.iter().map(|o| o.value.as_str()))
                    )),
                }
            }
            QuestionKind::Rating { scale } => match v.as_i64() {
                Some(n) if scale.contains(n) => Ok(()),
                _ => Err(format!(
                    "{} is not a score of question {:?} (a whole number from {} to {})",
                    show(v),
                    self.name,
                    scale.min,
                    scale.max
                )),
            },
            QuestionKind::Text { .. } => match v {
                Value::String(_) => Ok(()),
                _ => Err(format!(
                    "{} cannot be an answer of text question {:?}: use a string",
                    show(v),
                    self.name
                )),
            },
            other => Err(format!(
                "show_if can only refer to single_choice, multi_choice, rating or text questions; {:?} is a {} question",
                self.name,
                other.type_name()
            )),
        }
    }
}

fn parse_kind(
    type_name: &str,
    map: &Obj,
    path: &str,
    fields: &[Field],
) -> Result<QuestionKind, TemplateError> {
    Ok(match type_name {
        "single_choice" => QuestionKind::SingleChoice {
            options: parse_options(map, path, "options")?,
        },
        "multi_choice" => {
            let options = parse_options(map, path, "options")?;
            let min_selected = parse::opt_count(map, path, "min_selected")?;
            let max_selected = parse::opt_count(map, path, "max_selected")?;
            if let Some(max) = max_selected {
                if max == 0 {
                    return Err(TemplateError::new(
                        join(path, "max_selected"),
                        "must be at least 1",
                    ));
                }
                if max > options.len() {
                    return Err(TemplateError::new(
                        join(path, "max_selected"),
                        format!("is {max} but there are only {} options", options.len()),
                    ));
                }
            }
            if let Some(min) = min_selected {
                let limit = max_selected.unwrap_or(options.len());
                if min > limit {
                    return Err(TemplateError::new(
                        join(path, "min_selected"),
                        format!("is {min}, more than the {limit} options an answer may select"),
                    ));
                }
            }
            QuestionKind::MultiChoice {
                options,
                min_selected,
                max_selected,
            }
        }
        "rating" => QuestionKind::Rating {
            scale: parse_scale(map, path, None)?,
        },
        "text" => {
            let min_length = parse::opt_count(map, path, "min_length")?;
            let max_length = parse::opt_count(map, path, "max_length")?;
            if max_length == Some(0) {
                return Err(TemplateError::new(
                    join(path, "max_length"),
                    "must be at least 1",
                ));
            }
            if let (Some(min), Some(max)) = (min_length, max_length)
                && min > max
            {
                return Err(TemplateError::new(
                    join(path, "min_length"),
                    format!("is {min}, more than max_length {max}"),
                ));
            }
            QuestionKind::Text {
                min_length,
                max_length,
            }
        }
        "ranking" => {
            let list = parse::req_array(
                map,
                path,
                "fields",
                "name the fields to rank, e.g. [\"response_a\", \"response_b\"]",
            )?;
            let fpath = join(path, "fields");
            let mut names: Vec<String> = Vec::with_capacity(list.len());
            for (i, v) in list.iter().enumerate() {
                let p = index(&fpath, i);
                let name = v.as_str().ok_or_else(|| {
                    TemplateError::new(
                        &p,
                        format!("must be a field name (a string), got {}", describe(v)),
                    )
                })?;
                field_ref(fields, name, &p, None)?;
                if names.iter().any(|n| n == name) {
                    return Err(TemplateError::new(
                        p,
                        format!("field {name:?} appears twice"),
                    ));
                }
                names.push(name.to_owned());
            }
            if names.len() < 2 {
                return Err(TemplateError::new(
                    fpath,
                    "a ranking needs at least two fields to order",
                ));
            }
            QuestionKind::Ranking { fields: names }
        }
        "pairwise" => {
            let hint =
                "name the two fields compared, e.g. \"a\": \"response_a\", \"b\": \"response_b\"";
            let a = parse::req_str(map, path, "a", hint)?;
            field_ref(fields, &a, &join(path, "a"), None)?;
            let b = parse::req_str(map, path, "b", hint)?;
            field_ref(fields, &b, &join(path, "b"), None)?;
            if a == b {
                return Err(TemplateError::new(
                    join(path, "b"),
                    format!("compares field {a:?} with itself"),
                ));
            }
            let justification = match parse::opt_str(map, path, "justification")?.as_deref() {
                None | Some("optional") => Justification::Optional,
                Some("required") => Justification::Required,
                Some("none") => Justification::None,
                Some(other) => {
                    return Err(TemplateError::new(
                        join(path, "justification"),
                        format!(
                            "unknown value {other:?}; expected \"none\", \"optional\" or \"required\""
                        ),
                    ));
                }
            };
            QuestionKind::Pairwise {
                a,
                b,
                justification,
            }
        }
        "spans" => {
            let field = parse::req_str(
                map,
                path,
                "field",
                "name the text field whose text is marked",
            )?;
            field_ref(fields, &field, &join(path, "field"), Some(FieldKind::Text))?;
            QuestionKind::Spans {
                field,
                labels: parse_options(map, path, "labels")?,
                allow_overlap: parse::opt_bool(map, path, "allow_overlap")?.unwrap_or(false),
            }
        }
        "rubric" => {
            let default = parse_scale(map, path, None)?;
            let list = parse::req_array(
                map,
                path,
                "criteria",
                "list the criteria, e.g. [{\"name\": \"accuracy\"}]",
            )?;
            let cpath = join(path, "criteria");
            if list.is_empty() {
                return Err(TemplateError::new(
                    cpath,
                    "a rubric needs at least one criterion",
                ));
            }
            let mut criteria: Vec<Criterion> = Vec::with_capacity(list.len());
            for (i, v) in list.iter().enumerate() {
                let p = index(&cpath, i);
                let c = parse::object(v, &p, "a criterion")?;
                parse::check_keys(
                    c,
                    &p,
                    &[
                        "name",
                        "label",
                        "description",
                        "min",
                        "max",
                        "min_label",
                        "max_label",
                    ],
                    "a criterion",
                )?;
                let name = parse::req_str(
                    c,
                    &p,
                    "name",
                    "every criterion needs a name (its key in the answer)",
                )?;
                parse::check_name(&name, &join(&p, "name"))?;
                if criteria.iter().any(|k| k.name == name) {
                    return Err(TemplateError::new(
                        join(&p, "name"),
                        format!("criterion {name:?} appears twice"),
                    ));
                }
                criteria.push(Criterion {
                    label: parse::opt_str(c, &p, "label")?,
                    description: parse::opt_str(c, &p, "description")?,
                    scale: parse_scale(c, &p, Some(&default))?,
                    name,
                });
            }
            QuestionKind::Rubric { criteria }
        }
        "boxes" => {
            let field = parse::req_str(
                map,
                path,
                "field",
                "name the image field the boxes are drawn on",
            )?;
            field_ref(fields, &field, &join(path, "field"), Some(FieldKind::Image))?;
            let labels = parse_options(map, path, "labels")?;
            let min_boxes = parse::opt_count(map, path, "min_boxes")?;
            let max_boxes = parse::opt_count(map, path, "max_boxes")?;
            if let (Some(min), Some(max)) = (min_boxes, max_boxes)
                && min > max
            {
                return Err(TemplateError::new(
                    join(path, "min_boxes"),
                    format!("is {min}, more than max_boxes {max}"),
                ));
            }
            QuestionKind::Boxes {
                field,
                labels,
                min_boxes,
                max_boxes,
            }
        }
        "video_events" => {
            let field = parse::req_str(
                map,
                path,
                "field",
                "name the video field the events belong to",
            )?;
            field_ref(fields, &field, &join(path, "field"), Some(FieldKind::Video))?;
            let severities = if map.contains_key("severities") {
                parse_options(map, path, "severities")?
            } else {
                Vec::new()
            };
            QuestionKind::VideoEvents {
                field,
                labels: parse_options(map, path, "labels")?,
                severities,
            }
        }
        "polygons" => {
            let field = parse::req_str(
                map,
                path,
                "field",
                "name the image field the polygons are drawn on",
            )?;
            field_ref(fields, &field, &join(path, "field"), Some(FieldKind::Image))?;
            let labels = parse_options(map, path, "labels")?;
            let min_shapes = parse::opt_count(map, path, "min_shapes")?;
            let max_shapes = parse::opt_count(map, path, "max_shapes")?;
            if let (Some(min), Some(max)) = (min_shapes, max_shapes)
                && min > max
            {
                return Err(TemplateError::new(
                    join(path, "min_shapes"),
                    format!("is {min}, more than max_shapes {max}"),
                ));
            }
            QuestionKind::Polygons {
                field,
                labels,
                min_shapes,
                max_shapes,
            }
        }
        "keypoints" => {
            let field = parse::req_str(
                map,
                path,
                "field",
                "name the image field the keypoints are placed on",
            )?;
            field_ref(fields, &field, &join(path, "field"), Some(FieldKind::Image))?;
            let labels = parse_options(map, path, "labels")?;
            let points = parse_point_names(map, path)?;
            let skeleton = parse_skeleton(map, path, points.len())?;
            QuestionKind::Keypoints {
                field,
                labels,
                points,
                skeleton,
            }
        }
        "tracks" => {
            let field = parse::req_str(
                map,
                path,
                "field",
                "name the video field the tracks belong to",
            )?;
            field_ref(fields, &field, &join(path, "field"), Some(FieldKind::Video))?;
            QuestionKind::Tracks {
                field,
                labels: parse_options(map, path, "labels")?,
            }
        }
        other => unreachable!("question type {other} was checked against QUESTION_TYPES"),
    })
}

/// Reads a keypoint question's `points`: at least one unique, non-empty name.
fn parse_point_names(map: &Obj, path: &str) -> Result<Vec<String>, TemplateError> {
    let list = parse::req_array(
        map,
        path,
        "points",
        "name the keypoints in order, e.g. [\"nose\", \"left_eye\", \"right_eye\"]",
    )?;
    let ppath = join(path, "points");
    if list.is_empty() {
        return Err(TemplateError::new(ppath, "name at least one keypoint"));
    }
    let mut names: Vec<String> = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let p = index(&ppath, i);
        let Some(name) = v.as_str().map(str::trim).filter(|s| !s.is_empty()) else {
            return Err(TemplateError::new(
                p,
                format!(
                    "must be a keypoint name (a non-empty string), got {}",
                    describe(v)
                ),
            ));
        };
        if names.iter().any(|n| n == name) {
            return Err(TemplateError::new(
                p,
                format!("keypoint {name:?} appears twice"),
            ));
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

/// Reads a keypoint question's optional `skeleton`: pairs of distinct indexes into `points`.
fn parse_skeleton(
    map: &Obj,
    path: &str,
    n_points: usize,
) -> Result<Vec<[usize; 2]>, TemplateError> {
    let Some(v) = map.get("skeleton") else {
        return Ok(Vec::new());
    };
    let spath = join(path, "skeleton");
    let Some(list) = v.as_array() else {
        return Err(TemplateError::new(
            spath,
            format!(
                "must be a list of index pairs, e.g. [[0, 1], [1, 2]], got {}",
                describe(v)
            ),
        ));
    };
    let mut pairs = Vec::with_capacity(list.len());
    for (i, pair) in list.iter().enumerate() {
        let p = index(&spath, i);
        let ends: Option<Vec<usize>> = pair.as_array().filter(|a| a.len() == 2).map(|a| {
            a.iter()
                .filter_map(|x| x.as_u64().map(|x| x as usize))
                .collect()
        });
        match ends.as_deref() {
            Some(&[a, b]) if a < n_points && b < n_points && a != b => pairs.push([a, b]),
            _ => {
                return Err(TemplateError::new(
                    p,
                    format!(
                        "must be two different keypoint indexes from 0 to {}, got {}",
                        n_points.saturating_sub(1),
                        describe(pair)
                    ),
                ));
            }
        }
    }
    Ok(pairs)
}

/// Checks that `name` is a field of the template (of kind `want`, when given).
fn field_ref(
    fields: &[Field],
    name: &str,
    path: &str,
    want: Option<FieldKind>,
) -> Result<(), TemplateError> {
    let Some(field) = fields.iter().find(|f| f.name == name) else {
        return Err(TemplateError::new(
            path,
            format!(
                "there is no field named {name:?}; the template's fields are {}",
                if fields.is_empty() {
                    "none".to_owned()
                } else {
                    quoted_list(fields.iter().map(|f| f.name.as_str()))
                }
            ),
        ));
    };
    if let Some(want) = want
        && field.kind != want
    {
        return Err(TemplateError::new(
            path,
            format!(
                "field {name:?} is a {} field; this question needs a {} field",
                field.kind.as_str(),
                want.as_str()
            ),
        ));
    }
    Ok(())
}

/// Reads `min`, `max`, `min_label`, `max_label`; missing bounds come from `default` (or 1 to 5).
fn parse_scale(map: &Obj, path: &str, default: Option<&Scale>) -> Result<Scale, TemplateError> {
    let min =
        parse::opt_int(map, path, "min")?.unwrap_or(default.map_or(Scale::DEFAULT_MIN, |d| d.min));
    let max =
        parse::opt_int(map, path, "max")?.unwrap_or(default.map_or(Scale::DEFAULT_MAX, |d| d.max));
    if min >= max {
        return Err(TemplateError::new(
            join(path, "max"),
            format!("the scale must go up: max ({max}) must be greater than min ({min})"),
        ));
    }
    if i128::from(max) - i128::from(min) > 1000 {
        return Err(TemplateError::new(
            join(path, "max"),
            format!("a scale from {min} to {max} has more than 1001 points"),
        ));
    }
    let min_label = parse::opt_str(map, path, "min_label")?
        .or_else(|| default.and_then(|d| d.min_label.clone()));
    let max_label = parse::opt_str(map, path, "max_label")?
        .or_else(|| default.and_then(|d| d.max_label.clone()));
    Ok(Scale {
        min,
        max,
        min_label,
        max_label,
    })
}

/// Reads a non-empty list of options or labels with unique, non-empty values.
fn parse_options(map: &Obj, path: &str, key: &str) -> Result<Vec<ChoiceOption>, TemplateError> {
    let list = parse::req_array(
        map,
        path,
        key,
        &format!("list the {key}, e.g. [\"a\", \"b\"]"),
    )?;
    let lpath = join(path, key);
    if list.is_empty() {
        return Err(TemplateError::new(
            lpath,
            format!("the list of {key} is empty; give at least one"),
        ));
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let p = index(&lpath, i);
        let option = match v {
            Value::String(s) => ChoiceOption {
                value: s.clone(),
                label: None,
            },
            Value::Object(o) => {
                parse::check_keys(o, &p, &["value", "label"], "an option")?;
                ChoiceOption {
                    value: parse::req_str(
                        o,
                        &p,
                        "value",
                        "an option object needs a \"value\" (what is stored)",
                    )?,
                    label: parse::opt_str(o, &p, "label")?,
                }
            }
            other => {
                return Err(TemplateError::new(
                    p,
                    format!(
                        "must be a string or a {{\"value\", \"label\"}} object, got {}",
                        describe(other)
                    ),
                ));
            }
        };
        if option.value.is_empty() {
            return Err(TemplateError::new(p, "an option value must not be empty"));
        }
        if option.value.chars().count() > parse::MAX_NAME_LEN * 4 {
            return Err(TemplateError::new(
                p,
                format!(
                    "an option value is longer than {} characters",
                    parse::MAX_NAME_LEN * 4
                ),
            ));
        }
        out.push(option);
    }
    for o in &out {
        if !seen.insert(o.value.as_str()) {
            return Err(TemplateError::new(
                lpath,
                format!("option {:?} appears twice", o.value),
            ));
        }
    }
    Ok(out)
}

fn parse_show_if(v: &Value, path: &str, earlier: &[Question]) -> Result<ShowIf, TemplateError> {
    let map = parse::object(v, path, "show_if")?;
    parse::check_keys(map, path, &["question", "equals", "in"], "show_if")?;
    let name = parse::req_str(
        map,
        path,
        "question",
        "name the earlier question this one depends on",
    )?;
    let Some(target) = earlier.iter().find(|q| q.name == name) else {
        return Err(TemplateError::new(
            join(path, "question"),
            format!(
                "there is no earlier question named {name:?}; show_if can only depend on a question that comes before it{}",
                if earlier.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({})",
                        quoted_list(earlier.iter().map(|q| q.name.as_str()))
                    )
                }
            ),
        ));
    };
    let condition = match (map.get("equals"), map.get("in")) {
        (Some(_), Some(_)) => {
            return Err(TemplateError::new(
                path,
                "give either \"equals\" or \"in\", not both",
            ));
        }
        (None, None) => {
            return Err(TemplateError::new(
                path,
                "say which answer shows the question: \"equals\": value or \"in\": [values]",
            ));
        }
        (Some(v), None) => {
            target
                .check_condition_value(v)
                .map_err(|m| TemplateError::new(join(path, "equals"), m))?;
            Condition::Equals(v.clone())
        }
        (None, Some(v)) => {
            let ipath = join(path, "in");
            let list = v.as_array().ok_or_else(|| {
                TemplateError::new(
                    &ipath,
                    format!("must be a list of values, got {}", describe(v)),
                )
            })?;
            if list.is_empty() {
                return Err(TemplateError::new(
                    ipath,
                    "the list is empty, so the question would never be shown",
                ));
            }
            for (i, item) in list.iter().enumerate() {
                target
                    .check_condition_value(item)
                    .map_err(|m| TemplateError::new(index(&ipath, i), m))?;
            }
            Condition::In(list.clone())
        }
    };
    Ok(ShowIf {
        question: name,
        condition,
    })
}
