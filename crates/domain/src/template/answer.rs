//! Validation of a worker's answers against a template and the item they answered.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::TaskTemplate;
use super::error::AnswerError;
use super::field::Field;
use super::parse::{describe, quoted_list, show};
use super::question::{
    ChoiceOption, Condition, Justification, Question, QuestionKind, Scale, ShowIf,
};

/// The most entries a list answer (spans, boxes, video events) may have; a bound on the work one submit can cost.
pub const MAX_LIST_ANSWER_LEN: usize = 10_000;

/// The lowest and highest pairwise strength: -3 (A much better) to 3 (B much better).
pub const PAIRWISE_STRENGTH: std::ops::RangeInclusive<i64> = -3..=3;

/// How far a box may reach past the image edge, to absorb rounding in the browser.
const BOX_EPSILON: f64 = 1e-6;

pub(crate) fn validate(
    template: &TaskTemplate,
    answers: &Value,
    data: &Map<String, Value>,
) -> Result<(), Vec<AnswerError>> {
    let Some(obj) = answers.as_object() else {
        return Err(vec![AnswerError {
            question: String::new(),
            message: format!(
                "answers must be a JSON object keyed by question name, got {}",
                describe(answers)
            ),
        }]);
    };
    let mut errors = Vec::new();
    let shown = visibility(template, obj);
    for (q, &visible) in template.questions.iter().zip(&shown) {
        let given = answer_of(q, obj);
        let result = match (visible, given) {
            (false, None) => Ok(()),
            (false, Some(_)) => Err(format!(
                "is not shown for these answers ({}), so it must not be answered; leave it out or send null",
                describe_show_if(q.show_if.as_ref())
            )),
            (true, None) if q.required => Err(match &q.kind {
                QuestionKind::Text { .. } => "is required: write an answer".to_owned(),
                _ => "is required: give an answer".to_owned(),
            }),
            (true, None) => Ok(()),
            (true, Some(v)) => check_answer(template, q, v, data),
        };
        if let Err(message) = result {
            errors.push(AnswerError {
                question: q.name.clone(),
                message,
            });
        }
    }
    for key in obj.keys() {
        if template.question(key).is_none() {
            errors.push(AnswerError {
                question: key.clone(),
                message: format!(
                    "there is no question named {key:?} in this template (questions: {})",
                    quoted_list(template.questions.iter().map(|q| q.name.as_str()))
                ),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The answer given to `q`, treating `null` (and, for text questions, a blank string) as no answer.
pub(crate) fn answer_of<'a>(q: &Question, obj: &'a Map<String, Value>) -> Option<&'a Value> {
    let v = obj.get(&q.name).filter(|v| !v.is_null())?;
    if matches!(q.kind, QuestionKind::Text { .. })
        && v.as_str().is_some_and(|s| s.trim().is_empty())
    {
        return None;
    }
    Some(v)
}

/// Which questions are shown for these answers, in template order. A question whose `show_if` names a hidden or
/// unanswered question is hidden, so conditions chain.
pub(crate) fn visibility(template: &TaskTemplate, obj: &Map<String, Value>) -> Vec<bool> {
    let mut shown: Vec<bool> = Vec::with_capacity(template.questions.len());
    for q in &template.questions {
        let visible = match &q.show_if {
            None => true,
            Some(cond) => {
                // show_if always names an earlier question (checked when parsing), so its flag is known.
                match template
                    .questions
                    .iter()
                    .position(|t| t.name == cond.question)
                {
                    Some(j) if j < shown.len() && shown[j] => {
                        answer_of(&template.questions[j], obj)
                            .is_some_and(|a| condition_holds(cond, a))
                    }
                    _ => false,
                }
            }
        };
        shown.push(visible);
    }
    shown
}

fn condition_holds(cond: &ShowIf, answer: &Value) -> bool {
    let values = cond.condition.values();
    let matches = |a: &Value| values.iter().any(|v| same_value(a, v));
    match answer {
        Value::Array(items) => items.iter().any(matches),
        a => matches(a),
    }
}

/// JSON equality where `3` and `3.0` are the same number.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn describe_show_if(cond: Option<&ShowIf>) -> String {
    match cond {
        None => "always shown".to_owned(),
        Some(ShowIf {
            question,
            condition: Condition::Equals(v),
        }) => {
            format!("it is shown only when {question:?} is {}", show(v))
        }
        Some(ShowIf {
            question,
            condition: Condition::In(vs),
        }) => format!(
            "it is shown only when {question:?} is one of {}",
            vs.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn check_answer(
    template: &TaskTemplate,
    q: &Question,
    v: &Value,
    data: &Map<String, Value>,
) -> Result<(), String> {
    match &q.kind {
        QuestionKind::SingleChoice { options } => check_choice(options, v).map(|_| ()),
        QuestionKind::MultiChoice {
            options,
            min_selected,
            max_selected,
        } => {
            let list = v.as_array().ok_or_else(|| {
                format!(
                    "must be a list of option values ({}), got {}",
                    quoted_list(options.iter().map(|o| o.value.as_str())),
                    describe(v)
                )
            })?;
            let mut seen = HashSet::new();
            for item in list {
                let value = check_choice(options, item)?;
                if !seen.insert(value) {
                    return Err(format!("option {value:?} is selected twice"));
                }
            }
            let min = min_selected.unwrap_or(usize::from(q.required));
            if list.len() < min {
                return Err(format!(
                    "select at least {min} option{}, got {}",
                    plural(min),
                    list.len()
                ));
            }
            if let Some(max) = *max_selected
                && list.len() > max
            {
                return Err(format!(
                    "select at most {max} option{}, got {}",
                    plural(max),
                    list.len()
                ));
            }
            Ok(())
        }
        QuestionKind::Rating { scale } => check_score(scale, v, ""),
        QuestionKind::Text {
            min_length,
            max_length,
        } => {
            let s = v
                .as_str()
                .ok_or_else(|| format!("must be text (a string), got {}", describe(v)))?;
            let len = s.trim().chars().count();
            if let Some(min) = *min_length
                && len < min
            {
                return Err(format!(
                    "is too short: {len} character{}, at least {min} needed",
                    plural(len)
                ));
            }
            if let Some(max) = *max_length
                && len > max
            {
                return Err(format!(
                    "is too long: {len} characters, at most {max} allowed"
                ));
            }
            Ok(())
        }
        QuestionKind::Ranking { fields } => check_ranking(fields, v),
        QuestionKind::Pairwise { justification, .. } => check_pairwise(*justification, v),
        QuestionKind::Spans {
            field,
            labels,
            allow_overlap,
        } => {
            // The field exists in a parsed template; a hand-built one gets an error, not a panic.
            let field = template
                .field(field)
                .ok_or_else(|| format!("the template has no field {field:?} to mark spans in"))?;
            check_spans(field, labels, *allow_overlap, v, data)
        }
        QuestionKind::Rubric { criteria } => {
            let obj = v.as_object().ok_or_else(|| {
                format!(
                    "must be an object giving each criterion ({}) a score, got {}",
                    quoted_list(criteria.iter().map(|c| c.name.as_str())),
                    describe(v)
                )
            })?;
            for key in obj.keys() {
                if !criteria.iter().any(|c| &c.name == key) {
                    return Err(format!(
                        "there is no criterion {key:?} (criteria: {})",
                        quoted_list(criteria.iter().map(|c| c.name.as_str()))
                    ));
                }
            }
            for c in criteria {
                match obj.get(&c.name).filter(|v| !v.is_null()) {
                    None => {
                        return Err(format!(
                            "criterion {:?} has no score; every criterion must be scored",
                            c.name
                        ));
                    }
                    Some(score) => {
                        check_score(&c.scale, score, &format!("criterion {:?}: ", c.name))?
                    }
                }
            }
            Ok(())
        }
        QuestionKind::Boxes {
            labels,
            min_boxes,
            max_boxes,
            ..
        } => {
            let list = list_answer(
                v,
                "boxes",
                "{\"x\": 0.1, \"y\": 0.2, \"w\": 0.3, \"h\": 0.4, \"label\": …}",
            )?;
            for (i, item) in list.iter().enumerate() {
                check_box(labels, item).map_err(|m| format!("box {i}: {m}"))?;
            }
            if let Some(min) = *min_boxes
                && list.len() < min
            {
                return Err(format!(
                    "draw at least {min} box{}, got {}",
                    if min == 1 { "" } else { "es" },
                    list.len()
                ));
            }
            if let Some(max) = *max_boxes
                && list.len() > max
            {
                return Err(format!(
                    "draw at most {max} box{}, got {}",
                    if max == 1 { "" } else { "es" },
                    list.len()
                ));
            }
            Ok(())
        }
        QuestionKind::VideoEvents {
            labels, severities, ..
        } => {
            let list = list_answer(v, "events", "{\"start\": 1.5, \"end\": 3.0, \"label\": …}")?;
            for (i, item) in list.iter().enumerate() {
                check_event(labels, severities, item).map_err(|m| format!("event {i}: {m}"))?;
            }
            Ok(())
        }
        QuestionKind::Polygons {
            labels,
            min_shapes,
            max_shapes,
            ..
        } => {
            let list = list_answer(
                v,
                "polygons",
                "{\"points\": [[0.1, 0.1], [0.5, 0.1], [0.3, 0.4]], \"label\": …}",
            )?;
            for (i, item) in list.iter().enumerate() {
                check_polygon(labels, item).map_err(|m| format!("polygon {i}: {m}"))?;
            }
            check_count(list.len(), *min_shapes, *max_shapes, "polygon")
        }
        QuestionKind::Keypoints { labels, points, .. } => {
            let list = list_answer(
                v,
                "objects",
                "{\"points\": [[0.4, 0.2, 2], …], \"label\": …}",
            )?;
            for (i, item) in list.iter().enumerate() {
                check_keypoints(labels, points, item).map_err(|m| format!("object {i}: {m}"))?;
            }
            Ok(())
        }
        QuestionKind::Tracks { labels, .. } => {
            let list = list_answer(
                v,
                "tracks",
                "{\"id\": \"car-1\", \"label\": …, \"keyframes\": [{\"frame\": 0, \"x\": 0.1, \"y\": 0.2, \"w\": 0.3, \"h\": 0.2}]}",
            )?;
            let mut ids = std::collections::HashSet::new();
            for (i, item) in list.iter().enumerate() {
                let id = check_track(labels, item).map_err(|m| format!("track {i}: {m}"))?;
                if !ids.insert(id) {
                    return Err(format!("track {i}: id {id:?} is used by an earlier track"));
                }
            }
            Ok(())
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn check_choice<'a>(options: &[ChoiceOption], v: &'a Value) -> Result<&'a str, String> {
    match v {
        Value::String(s) if options.iter().any(|o| &o.value == s) => Ok(s),
        Value::String(s) => Err(format!(
            "{s:?} is not one of the options ({})",
            quoted_list(options.iter().map(|o| o.value.as_str()))
        )),
        other => Err(format!(
            "must be an option value (a string, one of {}), got {}",
            quoted_list(options.iter().map(|o| o.value.as_str())),
            describe(other)
        )),
    }
}

fn check_score(scale: &Scale, v: &Value, prefix: &str) -> Result<(), String> {
    match v.as_i64() {
        Some(n) if scale.contains(n) => Ok(()),
        Some(n) => Err(format!(
            "{prefix}{n} is outside the scale: give a whole number from {} to {}",
            scale.min, scale.max
        )),
        None => Err(format!(
            "{prefix}must be a whole number from {} to {}, got {}",
            scale.min,
            scale.max,
            show(v)
        )),
    }
}

fn check_label<'a>(
    labels: &[ChoiceOption],
    obj: &'a Map<String, Value>,
) -> Result<&'a str, String> {
    match obj.get("label") {
        None => Err("\"label\" is missing".to_owned()),
        Some(v) => check_choice(labels, v).map_err(|m| format!("label {m}")),
    }
}

fn list_answer<'a>(v: &'a Value, what: &str, example: &str) -> Result<&'a Vec<Value>, String> {
    let list = v.as_array().ok_or_else(|| {
        format!(
            "must be a list of {what} like {example}, got {}",
            describe(v)
        )
    })?;
    if list.len() > MAX_LIST_ANSWER_LEN {
        return Err(format!(
            "has {} {what}; at most {MAX_LIST_ANSWER_LEN} are allowed",
            list.len()
        ));
    }
    Ok(list)
}

fn entry<'a>(
    item: &'a Value,
    allowed: &[&str],
    example: &str,
) -> Result<&'a Map<String, Value>, String> {
    let obj = item
        .as_object()
        .ok_or_else(|| format!("must be an object like {example}, got {}", describe(item)))?;
    if let Some(key) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "unknown key {key:?}; allowed: {}",
            quoted_list(allowed.iter().copied())
        ));
    }
    Ok(obj)
}

fn number(obj: &Map<String, Value>, key: &str) -> Result<f64, String> {
    match obj.get(key) {
        None => Err(format!("{key:?} is missing")),
        Some(v) => v
            .as_f64()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("{key:?} must be a number, got {}", show(v))),
    }
}

fn check_ranking(fields: &[String], v: &Value) -> Result<(), String> {
    let example = match fields.split_first() {
        Some((best, rest)) => format!(
            "[[{best:?}], [{}]]",
            rest.iter()
                .map(|f| format!("{f:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "[[\"a\"], [\"b\"]]".to_owned(),
    };
    let groups = v.as_array().ok_or_else(|| {
        format!(
            "must be a list of tie groups, best first, like {example}, got {}",
            describe(v)
        )
    })?;
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, group) in groups.iter().enumerate() {
        let members = group.as_array().ok_or_else(|| {
            format!(
                "rank {}: must be a list of field names (a tie group), got {}",
                i + 1,
                describe(group)
            )
        })?;
        if members.is_empty() {
            return Err(format!("rank {}: a tie group must not be empty", i + 1));
        }
        for m in members {
            let name = m.as_str().ok_or_else(|| {
                format!("rank {}: must list field names, got {}", i + 1, describe(m))
            })?;
            if !fields.iter().any(|f| f == name) {
                return Err(format!(
                    "{name:?} is not one of the ranked fields ({})",
                    quoted_list(fields.iter().map(String::as_str))
                ));
            }
            if !seen.insert(name) {
                return Err(format!(
                    "{name:?} appears more than once; rank each field exactly once"
                ));
            }
        }
    }
    let missing: Vec<&str> = fields
        .iter()
        .map(String::as_str)
        .filter(|f| !seen.contains(f))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} not ranked; rank every field exactly once",
            quoted_list(missing)
        ));
    }
    Ok(())
}

fn check_pairwise(justification: Justification, v: &Value) -> Result<(), String> {
    let example = "{\"strength\": -2, \"justification\": \"…\"}";
    let obj = entry(v, &["strength", "justification"], example)?;
    let strength = match obj.get("strength") {
        None | Some(Value::Null) => {
            return Err(format!(
                "\"strength\" is missing: give a whole number from -3 (A much better) to 3 (B much better), like {example}"
            ));
        }
        Some(s) => s,
    };
    match strength.as_i64() {
        Some(n) if PAIRWISE_STRENGTH.contains(&n) => {}
        _ => {
            return Err(format!(
                "strength {} is not allowed: give a whole number from -3 (A much better) through 0 (equal) to 3 (B much better)",
                show(strength)
            ));
        }
    }
    let text = match obj.get("justification") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()).filter(|s| !s.trim().is_empty()),
        Some(other) => {
            return Err(format!(
                "\"justification\" must be a string, got {}",
                describe(other)
            ));
        }
    };
    match (justification, text) {
        (Justification::Required, None) => Err("a justification is required: say why".to_owned()),
        (Justification::None, Some(_)) => {
            Err("this question takes no justification; leave it out".to_owned())
        }
        _ => Ok(()),
    }
}

fn check_spans(
    field: &Field,
    labels: &[ChoiceOption],
    allow_overlap: bool,
    v: &Value,
    data: &Map<String, Value>,
) -> Result<(), String> {
    let list = list_answer(v, "spans", "{\"start\": 0, \"end\": 5, \"label\": …}")?;
    if list.is_empty() {
        return Ok(());
    }
    let text = field.text_in(data).ok_or_else(|| {
        format!(
            "the item has no text in field {:?} to mark spans in",
            field.source()
        )
    })?;
    // Byte offset of every character boundary, so offsets in characters can be checked and sliced.
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let len = bounds.len() - 1;
    let mut spans: Vec<(u64, u64, &str, usize)> = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let at = |m: String| format!("span {i}: {m}");
        let obj = entry(
            item,
            &["start", "end", "label", "text"],
            "{\"start\": 0, \"end\": 5, \"label\": …}",
        )
        .map_err(at)?;
        let offset = |key: &str| -> Result<u64, String> {
            match obj.get(key) {
                None => Err(format!("{key:?} is missing")),
                Some(v) => v.as_u64().ok_or_else(|| {
                    format!(
                        "{key:?} must be a character offset (a whole number of 0 or more), got {}",
                        show(v)
                    )
                }),
            }
        };
        let start = offset("start").map_err(at)?;
        let end = offset("end").map_err(at)?;
        let label = check_label(labels, obj).map_err(at)?;
        if start >= end {
            return Err(at(format!("start ({start}) must be less than end ({end})")));
        }
        if end > len as u64 {
            return Err(at(format!(
                "end ({end}) is past the end of the text, which has {len} characters (offsets count Unicode characters)"
            )));
        }
        if let Some(t) = obj.get("text") {
            let slice = &text[bounds[start as usize]..bounds[end as usize]];
            match t {
                Value::String(s) if s == slice => {}
                Value::String(s) => {
                    return Err(at(format!(
                        "text {s:?} does not match the item's text {slice:?} at {start}..{end} (offsets count Unicode characters, not UTF-16 units or bytes)"
                    )));
                }
                other => {
                    return Err(at(format!(
                        "\"text\" must be a string, got {}",
                        describe(other)
                    )));
                }
            }
        }
        spans.push((start, end, label, i));
    }
    spans.sort_unstable();
    for pair in spans.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if (a.0, a.1, a.2) == (b.0, b.1, b.2) {
            return Err(format!(
                "spans {} and {} are the same span ({}..{} {:?})",
                a.3.min(b.3),
                a.3.max(b.3),
                a.0,
                a.1,
                a.2
            ));
        }
    }
    if !allow_overlap {
        let mut furthest: Option<(u64, usize)> = None;
        for &(start, end, _, i) in &spans {
            if let Some((prev_end, j)) = furthest
                && start < prev_end
            {
                return Err(format!(
                    "spans {} and {} overlap; this question does not allow overlapping spans",
                    j.min(i),
                    j.max(i)
                ));
            }
            if furthest.is_none_or(|(e, _)| end > e) {
                furthest = Some((end, i));
            }
        }
    }
    Ok(())
}

/// Checks a shape count against optional bounds; `what` is the singular noun.
fn check_count(n: usize, min: Option<usize>, max: Option<usize>, what: &str) -> Result<(), String> {
    if let Some(min) = min
        && n < min
    {
        return Err(format!(
            "draw at least {min} {what}{}, got {n}",
            plural(min)
        ));
    }
    if let Some(max) = max
        && n > max
    {
        return Err(format!("draw at most {max} {what}{}, got {n}", plural(max)));
    }
    Ok(())
}

/// Reads a point `[x, y, …]` whose first two entries are fractions of the image size.
fn check_point(v: &Value, len: usize, example: &str) -> Result<(f64, f64), String> {
    let Some(a) = v.as_array().filter(|a| a.len() == len) else {
        return Err(format!(
            "must be a list of {len} numbers like {example}, got {}",
            show(v)
        ));
    };
    let x = a[0].as_f64().filter(|x| x.is_finite());
    let y = a[1].as_f64().filter(|y| y.is_finite());
    let (Some(x), Some(y)) = (x, y) else {
        return Err(format!("x and y must be numbers, got {}", show(v)));
    };
    if !(-BOX_EPSILON..=1.0 + BOX_EPSILON).contains(&x)
        || !(-BOX_EPSILON..=1.0 + BOX_EPSILON).contains(&y)
    {
        return Err(format!(
            "({x}, {y}) lies outside the image: coordinates are fractions of the image size from 0 to 1"
        ));
    }
    Ok((x, y))
}

fn check_polygon(labels: &[ChoiceOption], item: &Value) -> Result<(), String> {
    let obj = entry(
        item,
        &["points", "label"],
        "{\"points\": [[0.1, 0.1], [0.5, 0.1], [0.3, 0.4]], \"label\": …}",
    )?;
    check_label(labels, obj)?;
    let Some(points) = obj.get("points").and_then(Value::as_array) else {
        return Err("\"points\" must be a list of [x, y] points".to_owned());
    };
    if points.len() < 3 {
        return Err(format!(
            "a polygon needs at least 3 points, got {}",
            points.len()
        ));
    }
    if points.len() > MAX_LIST_ANSWER_LEN {
        return Err(format!(
            "has {} points; at most {MAX_LIST_ANSWER_LEN} are allowed",
            points.len()
        ));
    }
    let mut twice_area = 0.0;
    let mut prev = None;
    let mut first = None;
    for (i, p) in points.iter().enumerate() {
        let (x, y) = check_point(p, 2, "[0.25, 0.5]").map_err(|m| format!("point {i}: {m}"))?;
        if let Some((px, py)) = prev {
            twice_area += px * y - x * py;
        }
        first.get_or_insert((x, y));
        prev = Some((x, y));
    }
    if let (Some((fx, fy)), Some((lx, ly))) = (first, prev) {
        twice_area += lx * fy - fx * ly;
    }
    if twice_area.abs() < 1e-12 {
        return Err("the polygon has no area (its points lie on one line)".to_owned());
    }
    Ok(())
}

fn check_keypoints(labels: &[ChoiceOption], names: &[String], item: &Value) -> Result<(), String> {
    let obj = entry(
        item,
        &["points", "label"],
        "{\"points\": [[0.4, 0.2, 2], …], \"label\": …}",
    )?;
    check_label(labels, obj)?;
    let Some(points) = obj.get("points").and_then(Value::as_array) else {
        return Err("\"points\" must be a list of [x, y, v] points".to_owned());
    };
    if points.len() != names.len() {
        return Err(format!(
            "has {} points; give exactly {} ({}), [0, 0, 0] for a point not placed",
            points.len(),
            names.len(),
            quoted_list(names.iter().map(String::as_str))
        ));
    }
    for (p, name) in points.iter().zip(names) {
        let (x, y) =
            check_point(p, 3, "[0.4, 0.2, 2]").map_err(|m| format!("point {name:?}: {m}"))?;
        match p[2].as_u64() {
            Some(0) if x != 0.0 || y != 0.0 => {
                return Err(format!(
                    "point {name:?}: a point not placed (v = 0) must be [0, 0, 0]"
                ));
            }
            Some(0..=2) => {}
            _ => {
                return Err(format!(
                    "point {name:?}: v must be 0 (not placed), 1 (hidden) or 2 (visible), got {}",
                    show(&p[2])
                ));
            }
        }
    }
    Ok(())
}

/// Checks one track and returns its id.
fn check_track<'a>(labels: &[ChoiceOption], item: &'a Value) -> Result<&'a str, String> {
    let obj = entry(
        item,
        &["id", "label", "keyframes"],
        "{\"id\": \"car-1\", \"label\": …, \"keyframes\": […]}",
    )?;
    check_label(labels, obj)?;
    let id = match obj.get("id") {
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 200 => s.as_str(),
        Some(other) => {
            return Err(format!(
                "\"id\" must be a non-empty string of at most 200 bytes, got {}",
                show(other)
            ));
        }
        None => return Err("\"id\" is missing".to_owned()),
    };
    let Some(frames) = obj.get("keyframes").and_then(Value::as_array) else {
        return Err(
            "\"keyframes\" must be a list of {\"frame\", \"x\", \"y\", \"w\", \"h\"}".to_owned(),
        );
    };
    if frames.is_empty() {
        return Err("a track needs at least one keyframe".to_owned());
    }
    if frames.len() > MAX_LIST_ANSWER_LEN {
        return Err(format!(
            "has {} keyframes; at most {MAX_LIST_ANSWER_LEN} are allowed",
            frames.len()
        ));
    }
    let mut last: Option<u64> = None;
    for (i, kf) in frames.iter().enumerate() {
        let k = entry(
            kf,
            &["frame", "x", "y", "w", "h", "outside"],
            "{\"frame\": 12, \"x\": 0.1, \"y\": 0.2, \"w\": 0.3, \"h\": 0.2}",
        )
        .map_err(|m| format!("keyframe {i}: {m}"))?;
        let frame = match k.get("frame") {
            Some(v) => v.as_u64().ok_or_else(|| {
                format!(
                    "keyframe {i}: \"frame\" must be a whole number from 0, got {}",
                    show(v)
                )
            })?,
            None => return Err(format!("keyframe {i}: \"frame\" is missing")),
        };
        if let Some(prev) = last
            && frame <= prev
        {
            return Err(format!(
                "keyframe {i}: frame {frame} comes after frame {prev}; keyframes must be in increasing frame order"
            ));
        }
        last = Some(frame);
        match k.get("outside") {
            None | Some(Value::Bool(_)) => {}
            Some(other) => {
                return Err(format!(
                    "keyframe {i}: \"outside\" must be true or false, got {}",
                    show(other)
                ));
            }
        }
        let rect: Map<String, Value> = ["x", "y", "w", "h"]
            .iter()
            .filter_map(|key| k.get(*key).map(|v| ((*key).to_owned(), v.clone())))
            .collect();
        check_rect(&rect).map_err(|m| format!("keyframe {i} (frame {frame}): {m}"))?;
    }
    Ok(id)
}

fn check_box(labels: &[ChoiceOption], item: &Value) -> Result<(), String> {
    let obj = entry(
        item,
        &["x", "y", "w", "h", "label"],
        "{\"x\": 0.1, \"y\": 0.2, \"w\": 0.3, \"h\": 0.4, \"label\": …}",
    )?;
    check_label(labels, obj)?;
    check_rect(obj)
}

/// Checks a normalized rectangle `{x, y, w, h}` lies inside the image and is not empty.
fn check_rect(obj: &Map<String, Value>) -> Result<(), String> {
    let x = number(obj, "x")?;
    let y = number(obj, "y")?;
    let w = number(obj, "w")?;
    let h = number(obj, "h")?;
    if x < 0.0 || y < 0.0 {
        return Err(format!(
            "x and y are fractions of the image size from 0 to 1, got x={x}, y={y}"
        ));
    }
    if w <= 0.0 || h <= 0.0 {
        return Err(format!("w and h must be greater than 0, got w={w}, h={h}"));
    }
    if x + w > 1.0 + BOX_EPSILON || y + h > 1.0 + BOX_EPSILON {
        return Err(format!(
            "the box reaches outside the image: x+w={} and y+h={} must be at most 1 (coordinates are fractions of the image size)",
            x + w,
            y + h
        ));
    }
    Ok(())
}

fn check_event(
    labels: &[ChoiceOption],
    severities: &[ChoiceOption],
    item: &Value,
) -> Result<(), String> {
    let obj = entry(
        item,
        &["start", "end", "label", "note", "severity"],
        "{\"start\": 1.5, \"end\": 3.0, \"label\": …}",
    )?;
    match (severities.is_empty(), obj.get("severity")) {
        (true, Some(_)) => {
            return Err("\"severity\" is not asked by this question; remove it".to_owned());
        }
        (false, None) => {
            return Err(format!(
                "\"severity\" is missing; give one of {}",
                quoted_list(severities.iter().map(|o| o.value.as_str()))
            ));
        }
        (false, Some(sev)) => {
            check_choice(severities, sev).map_err(|m| format!("severity {m}"))?;
        }
        (true, None) => {}
    }
    let start = number(obj, "start")?;
    let end = number(obj, "end")?;
    check_label(labels, obj)?;
    if start < 0.0 {
        return Err(format!("start ({start}) must be 0 seconds or later"));
    }
    if start > end {
        return Err(format!("start ({start}) must not be after end ({end})"));
    }
    match obj.get("note") {
        None | Some(Value::Null) | Some(Value::String(_)) => Ok(()),
        Some(other) => Err(format!(
            "\"note\" must be a string, got {}",
            describe(other)
        )),
    }
}
