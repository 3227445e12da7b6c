//! The shapes of an answer drawn over its image, read-only, for the review pages: a reviewer judges boxes,
//! polygons and keypoints by seeing them where the worker put them, not by reading coordinates.
//!
//! Drawn on the server as SVG in the image's normalized coordinates (`viewBox="0 0 1 1"`, stretched over the
//! picture), so it needs no script and works under the UI's Content-Security-Policy (SVG geometry attributes
//! are not styles). Each shape carries its label in a `<title>` and in a numbered list under the picture, with
//! the label's colour class of the workbench, so colour is never the only carrier of meaning.

use fairloop_domain::template::{QuestionKind, TaskTemplate};
use serde::Serialize;
use serde_json::Value;

/// One drawn element.
#[derive(Debug, Serialize, PartialEq)]
pub struct Mark {
    /// `rect`, `polygon`, `line` or `point`.
    pub kind: &'static str,
    /// Rectangle or point position, or a line's start (normalized).
    pub x: f64,
    /// See `x`.
    pub y: f64,
    /// Rectangle width, or a line's end x.
    pub w: f64,
    /// Rectangle height, or a line's end y.
    pub h: f64,
    /// Polygon points as SVG wants them (`x,y x,y …`).
    pub points: String,
    /// The label's colour class of the workbench (`sl-N`).
    pub class: String,
    /// What a hover (and a screen reader) says: number, question and label.
    pub title: String,
}

/// The shapes of one image field, with the list a reader can follow without colour.
#[derive(Debug, Serialize, Default)]
pub struct Overlay {
    /// The marks, in answer order.
    pub marks: Vec<Mark>,
    /// One line per shape, numbered like the marks' titles: `objects: car (box at 10%, 20% of the image, …)`.
    pub legend: Vec<LegendLine>,
}

/// One shape in the list under the picture.
#[derive(Debug, Serialize, PartialEq)]
pub struct LegendLine {
    /// The label's colour class.
    pub class: String,
    /// The shape in words.
    pub text: String,
}

fn n(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

fn pct(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// The overlay of `field` (an image field's name) for `answers`: the shapes of every boxes, polygons and
/// keypoints question drawn on that field.
pub fn overlay(template: &TaskTemplate, field: &str, answers: &Value) -> Overlay {
    let mut out = Overlay::default();
    for q in &template.questions {
        let (on, labels) = match &q.kind {
            QuestionKind::Boxes { field, labels, .. }
            | QuestionKind::Polygons { field, labels, .. }
            | QuestionKind::Keypoints { field, labels, .. } => (field, labels),
            _ => continue,
        };
        if on != field {
            continue;
        }
        for shape in answers
            .get(&q.name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let label = shape["label"].as_str().unwrap_or_default();
            let (class, shown) = match labels.iter().position(|l| l.value == label) {
                Some(i) => (format!("sl-{}", i % 8), labels[i].display().to_string()),
                None => ("sl-7".to_string(), label.to_string()),
            };
            let number = out.legend.len() + 1;
            let title = format!("{number}. {}: {shown}", q.name);
            let mark = |kind, x, y, w, h, points: String| Mark {
                kind,
                x,
                y,
                w,
                h,
                points,
                class: class.clone(),
                title: title.clone(),
            };
            let text = match &q.kind {
                QuestionKind::Boxes { .. } => {
                    let (x, y, w, h) = (n(shape, "x"), n(shape, "y"), n(shape, "w"), n(shape, "h"));
                    out.marks.push(mark("rect", x, y, w, h, String::new()));
                    format!(
                        "box at {}, {} of the image, {} wide and {} high",
                        pct(x),
                        pct(y),
                        pct(w),
                        pct(h)
                    )
                }
                QuestionKind::Polygons { .. } => {
                    let pts: Vec<(f64, f64)> = shape["points"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
                        .collect();
                    let points = pts
                        .iter()
                        .map(|(x, y)| format!("{x},{y}"))
                        .collect::<Vec<_>>()
                        .join(" ");
                    out.marks.push(mark("polygon", 0.0, 0.0, 0.0, 0.0, points));
                    format!("polygon of {} points", pts.len())
                }
                QuestionKind::Keypoints {
                    points, skeleton, ..
                } => {
                    let triples: Vec<(f64, f64, i64)> = shape["points"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|p| {
                            Some((
                                p.get(0)?.as_f64()?,
                                p.get(1)?.as_f64()?,
                                p.get(2).and_then(Value::as_i64).unwrap_or(2),
                            ))
                        })
                        .collect();
                    for [a, b] in skeleton {
                        if let (Some(from), Some(to)) = (triples.get(*a), triples.get(*b))
                            && from.2 > 0
                            && to.2 > 0
                        {
                            out.marks
                                .push(mark("line", from.0, from.1, to.0, to.1, String::new()));
                        }
                    }
                    for p in triples.iter().filter(|p| p.2 > 0) {
                        out.marks
                            .push(mark("point", p.0, p.1, 0.0, 0.0, String::new()));
                    }
                    let placed = triples.iter().filter(|p| p.2 > 0).count();
                    format!("{placed} of {} keypoints placed", points.len())
                }
                _ => continue,
            };
            out.legend.push(LegendLine {
                class: class.clone(),
                text: format!("{}: {shown} ({text})", q.name),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn boxes_polygons_and_keypoints_become_marks_with_their_labels() {
        let t = TaskTemplate::from_json(&json!({
            "fields": [{"name": "photo", "type": "image"}, {"name": "other", "type": "image"}],
            "questions": [
                {"name": "objects", "type": "boxes", "field": "photo", "labels": ["car", "person"]},
                {"name": "regions", "type": "polygons", "field": "photo", "labels": ["road"]},
                {"name": "people", "type": "keypoints", "field": "photo", "labels": ["person"],
                 "points": ["head", "hand"], "skeleton": [[0, 1]]},
                {"name": "elsewhere", "type": "boxes", "field": "other", "labels": ["car"]}
            ]
        }))
        .unwrap();
        let answers = json!({
            "objects": [{"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4, "label": "person"}],
            "regions": [{"points": [[0, 0], [0.5, 0], [0.5, 0.5]], "label": "road"}],
            "people": [{"points": [[0.2, 0.1, 2], [0.3, 0.3, 1]], "label": "person"}],
            "elsewhere": [{"x": 0, "y": 0, "w": 1, "h": 1, "label": "car"}]
        });
        let o = overlay(&t, "photo", &answers);
        let kinds: Vec<&str> = o.marks.iter().map(|m| m.kind).collect();
        assert_eq!(kinds, ["rect", "polygon", "line", "point", "point"]);
        assert_eq!(o.marks[0].class, "sl-1");
        assert_eq!((o.marks[0].x, o.marks[0].w), (0.1, 0.3));
        assert_eq!(o.marks[1].points, "0,0 0.5,0 0.5,0.5");
        assert_eq!(o.legend.len(), 3);
        assert!(
            o.legend[0].text.starts_with("objects: person (box at 10%"),
            "{:?}",
            o.legend
        );
        assert_eq!(o.legend[2].text, "people: person (2 of 2 keypoints placed)");
        assert_eq!(o.marks[0].title, "1. objects: person");
        assert_eq!(overlay(&t, "other", &answers).marks.len(), 1);
        assert!(overlay(&t, "photo", &json!({})).marks.is_empty());
    }
}
