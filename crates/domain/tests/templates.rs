//! Template system tests across module boundaries: the documentation matches the code, and property tests of
//! the answer validator (random input never panics it; generated valid answers always pass).

use std::path::Path;

use fairloop_domain::template::{TaskTemplate, examples, majority_answer};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn templates_md() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/templates.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The fenced code blocks of a Markdown document: (info string, body).
fn code_blocks(md: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in md.lines() {
        match current.as_mut() {
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    current = Some((info.trim().to_owned(), String::new()));
                }
            }
            Some((_, body)) => {
                if line.trim_start().starts_with("```") {
                    blocks.push(current.take().expect("inside a block"));
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    assert!(
        current.is_none(),
        "unclosed code block in docs/templates.md"
    );
    blocks
}

#[test]
fn every_example_parses() {
    let all = examples();
    assert!(all.len() >= 10);
    for (name, doc) in &all {
        TaskTemplate::from_json(doc).unwrap_or_else(|e| panic!("example {name}: {e}"));
    }
    let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
    for gallery in [
        "llm_pairwise_rubric",
        "text_classification",
        "named_entities",
        "chat_rating",
        "reference_answer",
        "image_boxes",
        "video_events",
    ] {
        assert!(
            names.contains(&gallery),
            "the demo gallery needs example {gallery}"
        );
    }
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "example names must be unique");
}

#[test]
fn examples_cover_every_field_and_question_type() {
    let parsed: Vec<TaskTemplate> = examples()
        .iter()
        .map(|(_, d)| TaskTemplate::from_json(d).unwrap())
        .collect();
    for kind in fairloop_domain::template::FieldKind::ALL {
        assert!(
            parsed
                .iter()
                .any(|t| t.fields.iter().any(|f| f.kind == kind)),
            "no example shows a {} field",
            kind.as_str()
        );
    }
    for type_name in fairloop_domain::template::QUESTION_TYPES {
        assert!(
            parsed
                .iter()
                .any(|t| t.questions.iter().any(|q| q.kind.type_name() == type_name)),
            "no example asks a {type_name} question"
        );
    }
    assert!(
        parsed
            .iter()
            .any(|t| t.questions.iter().any(|q| q.show_if.is_some())),
        "no example uses show_if"
    );
}

/// docs/templates.md shows every example under its name, and every JSON block in it is right: templates parse,
/// item data (` ```json item `) fits the template before it, answers (` ```json answers `) pass validation.
#[test]
fn docs_show_every_example_and_their_json_is_valid() {
    let md = templates_md();
    let blocks = code_blocks(&md);
    let mut documented: Vec<Value> = Vec::new();
    let mut template: Option<TaskTemplate> = None;
    let mut item: Map<String, Value> = Map::new();
    let mut answers_checked = 0;
    for (info, body) in &blocks {
        let mut words = info.split_whitespace();
        if words.next() != Some("json") {
            continue;
        }
        let value: Value = serde_json::from_str(body).unwrap_or_else(|e| {
            panic!("a ```{info} block in docs/templates.md is not JSON: {e}\n{body}")
        });
        match words.next() {
            None if value.get("fields").is_some() => {
                let t = TaskTemplate::from_json(&value).unwrap_or_else(|e| {
                    panic!("a template in docs/templates.md is rejected: {e}\n{body}")
                });
                template = Some(t);
                item = Map::new();
                documented.push(value);
            }
            Some("item") => {
                let t = template
                    .as_ref()
                    .expect("an item block follows a template block");
                item = value.as_object().expect("item data is an object").clone();
                t.validate_item_data(&item)
                    .unwrap_or_else(|e| panic!("documented item data is rejected: {e}\n{body}"));
            }
            Some("answers") => {
                let t = template
                    .as_ref()
                    .expect("an answers block follows a template block");
                if let Err(errors) = t.validate_answers(&value, &item) {
                    panic!("documented answers are rejected: {errors:?}\n{body}");
                }
                answers_checked += 1;
            }
            Some("invalid") => {
                // Shown as a bad example: a template or answers that must be rejected.
                let rejected = match &template {
                    _ if value.get("fields").is_some() => TaskTemplate::from_json(&value).is_err(),
                    Some(t) => t.validate_answers(&value, &item).is_err(),
                    None => panic!("an invalid block needs a template before it"),
                };
                assert!(
                    rejected,
                    "a block marked invalid in docs/templates.md is accepted:\n{body}"
                );
            }
            _ => {}
        }
    }
    for (name, doc) in examples() {
        assert!(
            md.contains(&format!("`{name}`")),
            "docs/templates.md does not name example `{name}`"
        );
        assert!(
            documented.contains(&doc),
            "docs/templates.md does not show the JSON of example `{name}`"
        );
    }
    assert!(
        answers_checked >= examples().len(),
        "every example should come with its answers in the docs"
    );
}

#[test]
fn the_minimal_contract_template_is_documented() {
    let md = templates_md();
    assert!(md.contains(
        r#"{"fields":[{"name":"text","type":"text"}],"questions":[{"name":"label","type":"single_choice","options":["a","b","c"],"required":true}]}"#
    ));
    assert!(md.contains(r#"{"label":"a"}"#));
}

// ---- property tests --------------------------------------------------------------------------------------------

/// A template with one question of every kind.
fn rich_template() -> TaskTemplate {
    TaskTemplate::from_json(&json!({
        "fields": [
            {"name": "text", "type": "text"},
            {"name": "a", "type": "markdown"},
            {"name": "b", "type": "markdown"},
            {"name": "c", "type": "markdown"},
            {"name": "image", "type": "image"},
            {"name": "video", "type": "video"}
        ],
        "questions": [
            {"name": "choice", "type": "single_choice", "options": ["x", "y", "z"], "required": true},
            {"name": "follow", "type": "text", "min_length": 2, "max_length": 20, "required": true,
             "show_if": {"question": "choice", "equals": "y"}},
            {"name": "tags", "type": "multi_choice", "options": ["t1", "t2", "t3", "t4"], "max_selected": 3},
            {"name": "score", "type": "rating", "min": 1, "max": 7, "required": true},
            {"name": "rank", "type": "ranking", "fields": ["a", "b", "c"], "required": true},
            {"name": "pair", "type": "pairwise", "a": "a", "b": "b", "justification": "required"},
            {"name": "ents", "type": "spans", "field": "text", "labels": ["P", "L"], "required": true},
            {"name": "rub", "type": "rubric", "criteria": [{"name": "c1"}, {"name": "c2", "min": 0, "max": 2}]},
            {"name": "boxes", "type": "boxes", "field": "image", "labels": ["car", "person"]},
            {"name": "events", "type": "video_events", "field": "video", "labels": ["goal"]}
        ]
    }))
    .expect("the rich template parses")
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-10i64..10).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(Value::from),
        (0.0f64..1.5).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        prop::sample::select(vec![
            "x", "y", "t1", "a", "b", "c", "P", "car", "goal", "c1", "start", "label"
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "start",
                        "end",
                        "label",
                        "text",
                        "x",
                        "y",
                        "w",
                        "h",
                        "strength",
                        "justification",
                        "c1",
                        "c2",
                        "note",
                        "other",
                    ]),
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

fn question_names() -> Vec<&'static str> {
    vec![
        "choice", "follow", "tags", "score", "rank", "pair", "ents", "rub", "boxes", "events",
        "unknown",
    ]
}

fn arb_answers() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => arb_json(),
        4 => prop::collection::vec((prop::sample::select(question_names()), arb_json()), 0..10)
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
    ]
}

fn arb_item() -> impl Strategy<Value = Map<String, Value>> {
    (prop::option::of("\\PC{0,30}"), arb_json()).prop_map(|(text, other)| {
        let mut m = Map::new();
        match text {
            Some(t) => m.insert("text".into(), Value::from(t)),
            None => m.insert("text".into(), other),
        };
        m
    })
}

/// Non-overlapping spans over a text of `len` characters: sorted distinct cut points taken in pairs.
fn arb_spans(text: String) -> impl Strategy<Value = (String, Vec<Value>)> {
    let len = text.chars().count();
    let cuts = prop::collection::vec(0..=len, 0..8);
    let labels = prop::collection::vec((prop::sample::select(vec!["P", "L"]), any::<bool>()), 4);
    (Just(text), cuts, labels).prop_map(|(text, mut cuts, labels)| {
        cuts.sort_unstable();
        cuts.dedup();
        let chars: Vec<char> = text.chars().collect();
        let spans = cuts
            .chunks_exact(2)
            .zip(labels)
            .map(|(pair, (label, with_text))| {
                let mut span = json!({"start": pair[0], "end": pair[1], "label": label});
                if with_text {
                    span["text"] = Value::from(chars[pair[0]..pair[1]].iter().collect::<String>());
                }
                span
            })
            .collect();
        (text, spans)
    })
}

fn arb_ranking() -> impl Strategy<Value = Value> {
    (Just(vec!["a", "b", "c"]).prop_shuffle(), any::<[bool; 2]>()).prop_map(|(order, cuts)| {
        let mut groups: Vec<Vec<&str>> = vec![vec![order[0]]];
        for (i, name) in order[1..].iter().enumerate() {
            if cuts[i] {
                groups.push(vec![name]);
            } else {
                groups.last_mut().expect("one group").push(name);
            }
        }
        json!(groups)
    })
}

fn arb_box() -> impl Strategy<Value = Value> {
    (0.0f64..0.99, 0.0f64..0.99, 0.001f64..=1.0, 0.001f64..=1.0, prop::sample::select(vec!["car", "person"]))
        .prop_map(|(x, y, fw, fh, label)| json!({"x": x, "y": y, "w": (1.0 - x) * fw, "h": (1.0 - y) * fh, "label": label}))
}

fn arb_event() -> impl Strategy<Value = Value> {
    (
        0.0f64..1000.0,
        0.0f64..100.0,
        prop::option::of("\\PC{0,20}"),
    )
        .prop_map(|(start, dur, note)| match note {
            Some(n) => json!({"start": start, "end": start + dur, "label": "goal", "note": n}),
            None => json!({"start": start, "end": start + dur, "label": "goal"}),
        })
}

/// A valid item and a valid set of answers for [`rich_template`].
fn arb_valid() -> impl Strategy<Value = (Map<String, Value>, Value)> {
    let choice = prop::sample::select(vec!["x", "y", "z"]);
    let follow = "[a-zé😀]{2,20}";
    let tags = prop::option::of(prop::sample::subsequence(
        vec!["t1", "t2", "t3", "t4"],
        0..=3,
    ));
    let score = 1i64..=7;
    let pair = prop::option::of((-3i64..=3, "[a-z]{1,10}"));
    let spans = "\\PC{0,40}".prop_flat_map(arb_spans);
    let rub = prop::option::of((1i64..=5, 0i64..=2));
    let boxes = prop::option::of(prop::collection::vec(arb_box(), 0..4));
    let events = prop::option::of(prop::collection::vec(arb_event(), 0..4));
    (choice, follow, tags, score, arb_ranking(), pair, spans, rub, boxes, events).prop_map(
        |(choice, follow, tags, score, rank, pair, (text, spans), rub, boxes, events)| {
            let mut a = Map::new();
            a.insert("choice".into(), json!(choice));
            if choice == "y" {
                a.insert("follow".into(), json!(follow));
            }
            if let Some(tags) = tags {
                a.insert("tags".into(), json!(tags));
            }
            a.insert("score".into(), json!(score));
            a.insert("rank".into(), rank);
            if let Some((strength, why)) = pair {
                a.insert("pair".into(), json!({"strength": strength, "justification": why}));
            }
            a.insert("ents".into(), json!(spans));
            if let Some((c1, c2)) = rub {
                a.insert("rub".into(), json!({"c1": c1, "c2": c2}));
            }
            if let Some(boxes) = boxes {
                a.insert("boxes".into(), json!(boxes));
            }
            if let Some(events) = events {
                a.insert("events".into(), json!(events));
            }
            let item = json!({"text": text, "a": "A", "b": "B", "c": "C", "image": "i.png", "video": "v.mp4"});
            (item.as_object().expect("object").clone(), Value::Object(a))
        },
    )
}

/// A question object built from the template vocabulary, so the fuzzer reaches the per-type checks.
fn arb_question() -> impl Strategy<Value = Value> {
    let keys = vec![
        "label",
        "help",
        "required",
        "show_if",
        "options",
        "min",
        "max",
        "min_label",
        "max_label",
        "min_length",
        "max_length",
        "min_selected",
        "max_selected",
        "fields",
        "a",
        "b",
        "justification",
        "field",
        "labels",
        "allow_overlap",
        "criteria",
        "min_boxes",
        "max_boxes",
        "question",
        "equals",
        "in",
        "value",
        "name",
    ];
    let value = prop_oneof![
        3 => arb_json(),
        1 => prop::sample::select(vec!["text", "a", "b", "x", "required", "none", "q0"]).prop_map(Value::from),
        1 => prop::collection::vec(prop::sample::select(vec!["text", "a", "b", "x"]), 0..4).prop_map(|v| json!(v)),
        1 => (prop::sample::select(vec!["q0", "q1"]), arb_json()).prop_map(|(q, v)| json!({"question": q, "equals": v})),
        1 => any::<i64>().prop_map(Value::from),
    ];
    (
        prop::sample::select(fairloop_domain::template::QUESTION_TYPES.to_vec()),
        prop::collection::vec((prop::sample::select(keys), value), 0..6),
    )
        .prop_map(|(ty, kv)| {
            let mut q: Map<String, Value> =
                kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            q.insert("name".into(), json!("q1"));
            q.insert("type".into(), json!(ty));
            Value::Object(q)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_answers_never_panic_the_validator(answers in arb_answers(), item in arb_item()) {
        let rich = rich_template();
        let _ = rich.validate_answers(&answers, &item);
        let _ = rich.validate_item_data(&item);
        for name in rich.majority_questions() {
            let _ = majority_answer(&rich, name, &[&answers, &answers]);
        }
        for (_, doc) in examples() {
            let t = TaskTemplate::from_json(&doc).expect("examples parse");
            if let Err(errors) = t.validate_answers(&answers, &item) {
                prop_assert!(!errors.is_empty());
                prop_assert!(errors.iter().all(|e| !e.message.is_empty()));
            }
        }
    }

    #[test]
    fn random_templates_never_panic_the_parser(doc in arb_json(), question in arb_question(), answers in arb_answers()) {
        let _ = TaskTemplate::from_json(&json!({"fields": [{"name": "text", "type": "text"}], "questions": [doc]}));
        let _ = TaskTemplate::from_json(&doc);
        let full = json!({
            "fields": [{"name": "text", "type": "text"}, {"name": "a", "type": "image"}, {"name": "b", "type": "video"}],
            "questions": [{"name": "q0", "type": "single_choice", "options": ["x", "y"]}, question]
        });
        if let Ok(t) = TaskTemplate::from_json(&full) {
            // Whatever parses must serialize back to the same template and validate answers without panicking.
            prop_assert_eq!(TaskTemplate::from_json(&t.to_json()), Ok(t.clone()));
            let item = json!({"text": "some text", "a": "i.png", "b": "v.mp4"});
            let _ = t.validate_answers(&answers, item.as_object().expect("object"));
        }
    }

    #[test]
    fn generated_valid_answers_always_validate((item, answers) in arb_valid()) {
        let rich = rich_template();
        rich.validate_item_data(&item).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if let Err(errors) = rich.validate_answers(&answers, &item) {
            return Err(TestCaseError::fail(format!("{errors:?} for {answers}")));
        }
        // A vote over copies of one valid answer gives that answer back for single choice and rating.
        prop_assert_eq!(majority_answer(&rich, "choice", &[&answers, &answers]), answers.get("choice").cloned());
        prop_assert_eq!(majority_answer(&rich, "score", &[&answers]), answers.get("score").cloned());
    }

    #[test]
    fn a_valid_answer_with_an_unknown_question_is_rejected((item, answers) in arb_valid(), name in "[a-z]{1,8}") {
        let rich = rich_template();
        prop_assume!(rich.question(&name).is_none());
        let mut answers = answers;
        answers[name.as_str()] = json!("x");
        let errors = rich.validate_answers(&answers, &item).expect_err("unknown question");
        prop_assert_eq!(errors.len(), 1);
        prop_assert_eq!(&errors[0].question, &name);
    }
}
