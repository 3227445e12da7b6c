//! Unit tests of template parsing, item data checks, answer validation and majority votes.

use serde_json::{Map, Value, json};

use super::*;

fn tpl(v: Value) -> TaskTemplate {
    TaskTemplate::from_json(&v).unwrap_or_else(|e| panic!("template should parse: {e}"))
}

fn template_err(v: Value) -> TemplateError {
    match TaskTemplate::from_json(&v) {
        Ok(t) => panic!("template should be rejected: {t:?}"),
        Err(e) => e,
    }
}

fn data(v: Value) -> Map<String, Value> {
    v.as_object().expect("test data is an object").clone()
}

fn no_data() -> Map<String, Value> {
    Map::new()
}

/// Validates and expects exactly one error, on `question`; returns its message.
fn one_error(
    t: &TaskTemplate,
    answers: Value,
    item: &Map<String, Value>,
    question: &str,
) -> String {
    let errors = t
        .validate_answers(&answers, item)
        .expect_err("answers should be rejected");
    assert_eq!(errors.len(), 1, "expected one error, got {errors:?}");
    assert_eq!(errors[0].question, question, "{errors:?}");
    errors[0].message.clone()
}

fn ok(t: &TaskTemplate, answers: Value, item: &Map<String, Value>) {
    if let Err(e) = t.validate_answers(&answers, item) {
        panic!("answers {answers} should pass, got {e:?}");
    }
}

fn minimal() -> TaskTemplate {
    tpl(
        json!({"fields":[{"name":"text","type":"text"}],"questions":[{"name":"label","type":"single_choice","options":["a","b","c"],"required":true}]}),
    )
}

/// A template with one question, a text field `text` and an image field `image` and a video field `video`.
fn with_question(q: Value) -> TaskTemplate {
    tpl(json!({
        "fields": [
            {"name": "text", "type": "text"},
            {"name": "doc", "type": "markdown"},
            {"name": "image", "type": "image"},
            {"name": "video", "type": "video"},
            {"name": "r1", "type": "markdown"},
            {"name": "r2", "type": "markdown"},
            {"name": "r3", "type": "markdown"}
        ],
        "questions": [q]
    }))
}

// ---- the public minimal contract -------------------------------------------------------------------------------

#[test]
fn minimal_template_and_answer_work() {
    let t = minimal();
    assert_eq!(t.fields.len(), 1);
    assert_eq!(t.questions[0].name, "label");
    assert!(t.questions[0].required);
    let item = data(json!({"text": "hello"}));
    t.validate_item_data(&item).unwrap();
    ok(&t, json!({"label": "a"}), &item);
    assert!(t.has_flat_answers());
    assert_eq!(t.majority_questions(), vec!["label"]);
}

#[test]
fn minimal_template_serializes_to_the_same_document() {
    let doc = json!({"fields":[{"name":"text","type":"text"}],"questions":[{"name":"label","type":"single_choice","options":["a","b","c"],"required":true}]});
    assert_eq!(tpl(doc.clone()).to_json(), doc);
}

#[test]
fn every_example_round_trips_through_to_json() {
    for (name, doc) in examples() {
        let t = TaskTemplate::from_json(&doc).unwrap_or_else(|e| panic!("example {name}: {e}"));
        let again = TaskTemplate::from_json(&t.to_json())
            .unwrap_or_else(|e| panic!("example {name} again: {e}"));
        assert_eq!(t, again, "example {name}");
        let via_serde: TaskTemplate = serde_json::from_value(doc).unwrap();
        assert_eq!(t, via_serde, "example {name}");
    }
}

#[test]
fn serde_deserialize_reports_the_path() {
    let e = serde_json::from_value::<TaskTemplate>(
        json!({"fields": [], "questions": [{"name": "q", "type": "nope"}]}),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("questions[0].type: unknown question type \"nope\""),
        "{e}"
    );
}

// ---- template errors -------------------------------------------------------------------------------------------

#[test]
fn unknown_key_at_top_level_is_an_error_with_its_path() {
    let e = template_err(json!({"fields": [], "questions": [], "title": "x"}));
    assert_eq!(e.path(), "title");
    assert!(e.message().contains("unknown key \"title\""), "{e}");
}

#[test]
fn unknown_key_in_a_question_names_the_question_and_the_allowed_keys() {
    let e = template_err(json!({
        "fields": [{"name": "text", "type": "text"}],
        "questions": [
            {"name": "q0", "type": "text"},
            {"name": "q1", "type": "single_choice", "options": ["a"], "colour": "red"}
        ]
    }));
    assert_eq!(e.path(), "questions[1].colour");
    assert!(e.message().contains("\"options\""), "{e}");
    assert_eq!(
        e.to_string(),
        format!("questions[1].colour: {}", e.message())
    );
}

#[test]
fn a_key_of_another_question_type_is_unknown() {
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "text", "options": ["a"]}]}),
    );
    assert_eq!(e.path(), "questions[0].options");
}

#[test]
fn unknown_key_in_a_field_option_and_criterion() {
    let e = template_err(
        json!({"fields": [{"name": "t", "type": "text", "size": 3}], "questions": [{"name": "q", "type": "text"}]}),
    );
    assert_eq!(e.path(), "fields[0].size");
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "single_choice", "options": [{"value": "a", "color": "red"}]}]}),
    );
    assert_eq!(e.path(), "questions[0].options[0].color");
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "rubric", "criteria": [{"name": "a", "weight": 2}]}]}),
    );
    assert_eq!(e.path(), "questions[0].criteria[0].weight");
    let e = template_err(json!({"fields": [], "questions": [
        {"name": "a", "type": "text"},
        {"name": "q", "type": "text", "show_if": {"question": "a", "equals": "x", "not": true}}
    ]}));
    assert_eq!(e.path(), "questions[1].show_if.not");
}

#[test]
fn the_template_must_be_an_object_with_fields_and_questions() {
    assert_eq!(
        template_err(json!([1])).to_string(),
        "template: the template must be a JSON object, got a list"
    );
    assert_eq!(template_err(json!({"questions": []})).path(), "fields");
    assert_eq!(template_err(json!({"fields": []})).path(), "questions");
    assert_eq!(
        template_err(json!({"fields": [], "questions": []})).path(),
        "questions"
    );
}

#[test]
fn duplicate_option_values_name_the_option() {
    let e = template_err(json!({"fields": [], "questions": [
        {"name": "q0", "type": "text"},
        {"name": "q1", "type": "single_choice", "options": ["a", "b", {"value": "a", "label": "A again"}]}
    ]}));
    assert_eq!(
        e.to_string(),
        "questions[1].options: option \"a\" appears twice"
    );
}

#[test]
fn empty_options_and_labels_are_errors() {
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "single_choice", "options": []}]}),
    );
    assert_eq!(e.path(), "questions[0].options");
    assert!(e.message().contains("empty"), "{e}");
    let e =
        template_err(json!({"fields": [], "questions": [{"name": "q", "type": "multi_choice"}]}));
    assert_eq!(e.path(), "questions[0].options");
    assert!(e.message().contains("missing"), "{e}");
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "single_choice", "options": ["a", ""]}]}),
    );
    assert_eq!(e.path(), "questions[0].options[1]");
    let e = template_err(
        json!({"fields": [{"name": "text", "type": "text"}], "questions": [{"name": "q", "type": "spans", "field": "text", "labels": []}]}),
    );
    assert_eq!(e.path(), "questions[0].labels");
}

#[test]
fn duplicate_names_are_errors() {
    let e = template_err(
        json!({"fields": [{"name": "t", "type": "text"}, {"name": "t", "type": "markdown"}], "questions": [{"name": "q", "type": "text"}]}),
    );
    assert_eq!(e.path(), "fields[1].name");
    assert!(e.message().contains("used twice"), "{e}");
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "text"}, {"name": "q", "type": "text"}]}),
    );
    assert_eq!(e.path(), "questions[1].name");
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "rubric", "criteria": [{"name": "a"}, {"name": "a"}]}]}),
    );
    assert_eq!(e.path(), "questions[0].criteria[1].name");
}

#[test]
fn bad_names_are_errors() {
    for bad in ["", "has space", "dot.ted", "ünï"] {
        let e = template_err(json!({"fields": [], "questions": [{"name": bad, "type": "text"}]}));
        assert_eq!(e.path(), "questions[0].name", "{bad:?}");
    }
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "x".repeat(65), "type": "text"}]}),
    );
    assert_eq!(e.path(), "questions[0].name");
}

#[test]
fn unknown_types_are_errors() {
    let e = template_err(
        json!({"fields": [{"name": "t", "type": "pdf"}], "questions": [{"name": "q", "type": "text"}]}),
    );
    assert_eq!(e.path(), "fields[0].type");
    assert!(e.message().contains("\"markdown\""), "{e}");
    let e = template_err(json!({"fields": [], "questions": [{"name": "q"}]}));
    assert_eq!(e.path(), "questions[0].type");
}

#[test]
fn show_if_must_reference_an_earlier_question() {
    let unknown = template_err(json!({"fields": [], "questions": [
        {"name": "a", "type": "single_choice", "options": ["yes", "no"]},
        {"name": "b", "type": "text", "show_if": {"question": "nope", "equals": "yes"}}
    ]}));
    assert_eq!(unknown.path(), "questions[1].show_if.question");
    assert!(
        unknown
            .message()
            .contains("no earlier question named \"nope\""),
        "{unknown}"
    );
    let later = template_err(json!({"fields": [], "questions": [
        {"name": "b", "type": "text", "show_if": {"question": "a", "equals": "yes"}},
        {"name": "a", "type": "single_choice", "options": ["yes", "no"]}
    ]}));
    assert_eq!(later.path(), "questions[0].show_if.question");
    let itself = template_err(json!({"fields": [], "questions": [
        {"name": "a", "type": "single_choice", "options": ["yes"], "show_if": {"question": "a", "equals": "yes"}}
    ]}));
    assert_eq!(itself.path(), "questions[0].show_if.question");
}

#[test]
fn show_if_values_must_be_possible_answers() {
    let base = |cond: Value| {
        json!({"fields": [], "questions": [
            {"name": "a", "type": "single_choice", "options": ["yes", "no"]},
            {"name": "r", "type": "rating", "min": 1, "max": 5},
            {"name": "b", "type": "text", "show_if": cond}
        ]})
    };
    assert_eq!(
        template_err(base(json!({"question": "a", "equals": "maybe"}))).path(),
        "questions[2].show_if.equals"
    );
    assert_eq!(
        template_err(base(json!({"question": "a", "in": ["yes", "maybe"]}))).path(),
        "questions[2].show_if.in[1]"
    );
    assert_eq!(
        template_err(base(json!({"question": "a", "in": []}))).path(),
        "questions[2].show_if.in"
    );
    assert_eq!(
        template_err(base(json!({"question": "r", "equals": 6}))).path(),
        "questions[2].show_if.equals"
    );
    assert_eq!(
        template_err(base(json!({"question": "a"}))).path(),
        "questions[2].show_if"
    );
    assert_eq!(
        template_err(base(
            json!({"question": "a", "equals": "yes", "in": ["no"]})
        ))
        .path(),
        "questions[2].show_if"
    );
    tpl(base(json!({"question": "r", "in": [1, 2]})));
    let e = template_err(
        json!({"fields": [{"name": "r1", "type": "text"}, {"name": "r2", "type": "text"}], "questions": [
            {"name": "p", "type": "pairwise", "a": "r1", "b": "r2"},
            {"name": "b", "type": "text", "show_if": {"question": "p", "equals": 0}}
        ]}),
    );
    assert!(e.message().contains("pairwise"), "{e}");
}

#[test]
fn min_greater_than_max_is_an_error() {
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "rating", "min": 5, "max": 1}]}),
    );
    assert_eq!(e.path(), "questions[0].max");
    assert!(e.message().contains("greater than min"), "{e}");
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "rating", "min": 3, "max": 3}]}),
    );
    assert_eq!(e.path(), "questions[0].max");
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "text", "min_length": 10, "max_length": 5}]}),
    );
    assert_eq!(
        e.to_string(),
        "questions[0].min_length: is 10, more than max_length 5"
    );
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "multi_choice", "options": ["a", "b"], "min_selected": 2, "max_selected": 1}]}),
    );
    assert_eq!(e.path(), "questions[0].min_selected");
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "multi_choice", "options": ["a"], "max_selected": 2}]}),
    );
    assert_eq!(e.path(), "questions[0].max_selected");
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "rubric", "criteria": [{"name": "c", "min": 4, "max": 2}]}]}),
    );
    assert_eq!(e.path(), "questions[0].criteria[0].max");
    let e = template_err(
        json!({"fields": [{"name": "i", "type": "image"}], "questions": [{"name": "q", "type": "boxes", "field": "i", "labels": ["a"], "min_boxes": 3, "max_boxes": 2}]}),
    );
    assert_eq!(e.path(), "questions[0].min_boxes");
}

#[test]
fn huge_scales_are_rejected_without_overflow() {
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "rating", "min": i64::MIN, "max": i64::MAX}]}),
    );
    assert_eq!(e.path(), "questions[0].max");
    assert!(e.message().contains("more than 1001 points"), "{e}");
    tpl(
        json!({"fields": [], "questions": [{"name": "q", "type": "rating", "min": -500, "max": 500}]}),
    );
}

#[test]
fn wrong_value_types_in_a_template_name_the_key() {
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "rating", "min": "one"}]}),
    );
    assert_eq!(
        e.to_string(),
        "questions[0].min: must be a whole number, got \"one\""
    );
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "text", "required": "yes"}]}),
    );
    assert_eq!(e.path(), "questions[0].required");
    let e = template_err(
        json!({"fields": [], "questions": [{"name": "q", "type": "text", "max_length": -1}]}),
    );
    assert_eq!(e.path(), "questions[0].max_length");
}

#[test]
fn questions_must_point_at_fields_of_the_right_kind() {
    let e = template_err(
        json!({"fields": [{"name": "doc", "type": "markdown"}], "questions": [{"name": "q", "type": "spans", "field": "doc", "labels": ["x"]}]}),
    );
    assert_eq!(e.path(), "questions[0].field");
    assert!(
        e.message()
            .contains("is a markdown field; this question needs a text field"),
        "{e}"
    );
    let e = template_err(
        json!({"fields": [{"name": "t", "type": "text"}], "questions": [{"name": "q", "type": "spans", "field": "nope", "labels": ["x"]}]}),
    );
    assert!(e.message().contains("no field named \"nope\""), "{e}");
    let e = template_err(
        json!({"fields": [{"name": "t", "type": "text"}], "questions": [{"name": "q", "type": "boxes", "field": "t", "labels": ["x"]}]}),
    );
    assert!(e.message().contains("needs a image field"), "{e}");
    let e = template_err(
        json!({"fields": [{"name": "t", "type": "image"}], "questions": [{"name": "q", "type": "video_events", "field": "t", "labels": ["x"]}]}),
    );
    assert!(e.message().contains("needs a video field"), "{e}");
    let e = template_err(
        json!({"fields": [{"name": "a", "type": "text"}], "questions": [{"name": "q", "type": "ranking", "fields": ["a", "b"]}]}),
    );
    assert_eq!(e.path(), "questions[0].fields[1]");
    let e = template_err(
        json!({"fields": [{"name": "a", "type": "text"}], "questions": [{"name": "q", "type": "ranking", "fields": ["a"]}]}),
    );
    assert_eq!(e.path(), "questions[0].fields");
    let e = template_err(
        json!({"fields": [{"name": "a", "type": "text"}, {"name": "b", "type": "text"}], "questions": [{"name": "q", "type": "ranking", "fields": ["a", "a"]}]}),
    );
    assert_eq!(e.path(), "questions[0].fields[1]");
    let e = template_err(
        json!({"fields": [{"name": "a", "type": "text"}], "questions": [{"name": "q", "type": "pairwise", "a": "a", "b": "a"}]}),
    );
    assert_eq!(e.path(), "questions[0].b");
    let e = template_err(
        json!({"fields": [{"name": "a", "type": "text"}], "questions": [{"name": "q", "type": "pairwise", "a": "a"}]}),
    );
    assert_eq!(e.path(), "questions[0].b");
    let e = template_err(
        json!({"fields": [{"name": "a", "type": "text"}, {"name": "b", "type": "text"}], "questions": [{"name": "q", "type": "pairwise", "a": "a", "b": "b", "justification": "maybe"}]}),
    );
    assert_eq!(e.path(), "questions[0].justification");
}

#[test]
fn rubric_criteria_inherit_the_question_scale() {
    let t = tpl(
        json!({"fields": [], "questions": [{"name": "q", "type": "rubric", "min": 0, "max": 10, "max_label": "best",
        "criteria": [{"name": "a"}, {"name": "b", "max": 3}]}]}),
    );
    let QuestionKind::Rubric { criteria } = &t.questions[0].kind else {
        panic!()
    };
    assert_eq!(
        criteria[0].scale,
        Scale {
            min: 0,
            max: 10,
            min_label: None,
            max_label: Some("best".into())
        }
    );
    assert_eq!((criteria[1].scale.min, criteria[1].scale.max), (0, 3));
    let t = tpl(
        json!({"fields": [], "questions": [{"name": "q", "type": "rubric", "criteria": [{"name": "a"}]}]}),
    );
    let QuestionKind::Rubric { criteria } = &t.questions[0].kind else {
        panic!()
    };
    assert_eq!((criteria[0].scale.min, criteria[0].scale.max), (1, 5));
}

// ---- item data -------------------------------------------------------------------------------------------------

fn all_fields() -> TaskTemplate {
    tpl(json!({
        "fields": [
            {"name": "text", "type": "text"},
            {"name": "doc", "type": "markdown", "source": "body"},
            {"name": "chat", "type": "chat"},
            {"name": "image", "type": "image"},
            {"name": "video", "type": "video"},
            {"name": "audio", "type": "audio"},
            {"name": "link", "type": "link"},
            {"name": "extra", "type": "text", "optional": true}
        ],
        "questions": [{"name": "q", "type": "text"}]
    }))
}

fn good_item() -> Map<String, Value> {
    data(json!({
        "text": "hello",
        "body": "# Title",
        "chat": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello", "name": "bot"}],
        "image": "https://example.com/a.png",
        "video": "media/v.mp4",
        "audio": "media/a.ogg",
        "link": "https://example.com/",
        "unrelated": 42
    }))
}

#[test]
fn good_item_data_passes_and_optional_fields_may_be_absent_or_null() {
    let t = all_fields();
    let mut item = good_item();
    t.validate_item_data(&item).unwrap();
    item.insert("extra".into(), Value::Null);
    t.validate_item_data(&item).unwrap();
    item.insert("extra".into(), json!(3));
    assert_eq!(t.validate_item_data(&item).unwrap_err().field, "extra");
}

fn item_error(key: &str, value: Value) -> FieldError {
    let mut item = good_item();
    if value.is_null() {
        item.remove(key);
    } else {
        item.insert(key.into(), value);
    }
    all_fields()
        .validate_item_data(&item)
        .expect_err("item should be rejected")
}

#[test]
fn missing_field_names_the_data_key() {
    let e = item_error("text", Value::Null);
    assert_eq!(e.field, "text");
    assert!(e.message.starts_with("is missing"), "{e}");
    assert_eq!(
        e.to_string(),
        format!("item data field \"text\": {}", e.message)
    );
    let e = item_error("body", Value::Null);
    assert_eq!(e.field, "body");
    assert!(
        e.message.contains("the template's field \"doc\" reads it"),
        "{e}"
    );
}

#[test]
fn wrong_types_in_item_data_are_explained() {
    let e = item_error("text", json!(5));
    assert_eq!(
        (e.field.as_str(), e.message.as_str()),
        ("text", "must be text (a string), got a number")
    );
    assert_eq!(item_error("body", json!(["x"])).field, "body");
    for key in ["image", "video", "audio"] {
        let e = item_error(key, json!({"url": "x"}));
        assert_eq!(e.field, key);
        assert!(e.message.contains("got an object"), "{e}");
        assert!(item_error(key, json!("")).message.contains("empty string"));
    }
    let e = item_error("link", json!("javascript:alert(1)"));
    assert!(e.message.contains("http:// or https://"), "{e}");
}

#[test]
fn chat_must_be_a_list_of_role_content_turns() {
    let cases = [
        (json!("hi"), "got a string"),
        (json!([]), "at least one turn"),
        (json!(["hi"]), "turn 0 must be an object"),
        (json!([{"content": "hi"}]), "turn 0: \"role\" is missing"),
        (
            json!([{"role": "user", "content": "a"}, {"role": "user"}]),
            "turn 1: \"content\" is missing",
        ),
        (
            json!([{"role": "user", "content": ["part"]}]),
            "turn 0: \"content\" must be a string, got a list",
        ),
        (
            json!([{"role": 1, "content": "x"}]),
            "turn 0: \"role\" must be a string",
        ),
        (
            json!([{"role": "", "content": "x"}]),
            "turn 0: \"role\" must not be empty",
        ),
    ];
    for (value, expected) in cases {
        let e = item_error("chat", value.clone());
        assert_eq!(e.field, "chat");
        assert!(e.message.contains(expected), "{value}: {e}");
    }
}

// ---- answers: general ------------------------------------------------------------------------------------------

#[test]
fn answers_must_be_an_object() {
    let errors = minimal()
        .validate_answers(&json!(["a"]), &no_data())
        .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].question, "");
    assert!(
        errors[0]
            .message
            .contains("JSON object keyed by question name"),
        "{errors:?}"
    );
}

#[test]
fn unknown_question_is_an_error() {
    let m = one_error(
        &minimal(),
        json!({"label": "a", "labl": "b"}),
        &no_data(),
        "labl",
    );
    assert!(m.contains("no question named \"labl\""), "{m}");
}

#[test]
fn missing_required_answer_is_an_error_and_null_counts_as_missing() {
    let t = minimal();
    assert!(one_error(&t, json!({}), &no_data(), "label").contains("is required"));
    assert!(one_error(&t, json!({"label": null}), &no_data(), "label").contains("is required"));
}

#[test]
fn optional_questions_may_be_left_out() {
    let t = with_question(json!({"name": "q", "type": "single_choice", "options": ["a"]}));
    ok(&t, json!({}), &no_data());
    ok(&t, json!({"q": null}), &no_data());
}

#[test]
fn every_bad_answer_is_reported() {
    let t = tpl(json!({"fields": [], "questions": [
        {"name": "a", "type": "single_choice", "options": ["x"], "required": true},
        {"name": "b", "type": "rating"},
        {"name": "c", "type": "text", "required": true}
    ]}));
    let errors = t
        .validate_answers(&json!({"b": 9, "zzz": 1}), &no_data())
        .unwrap_err();
    let names: Vec<&str> = errors.iter().map(|e| e.question.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "zzz"]);
}

// ---- show_if ---------------------------------------------------------------------------------------------------

fn conditional() -> TaskTemplate {
    tpl(json!({"fields": [], "questions": [
        {"name": "has_issue", "type": "single_choice", "options": ["yes", "no"], "required": true},
        {"name": "issues", "type": "multi_choice", "options": ["typo", "other"], "required": true,
         "show_if": {"question": "has_issue", "equals": "yes"}},
        {"name": "other", "type": "text", "required": true, "show_if": {"question": "issues", "in": ["other"]}},
        {"name": "score", "type": "rating", "min": 1, "max": 5},
        {"name": "why_low", "type": "text", "show_if": {"question": "score", "in": [1, 2]}, "required": true}
    ]}))
}

#[test]
fn shown_required_questions_must_be_answered() {
    let t = conditional();
    ok(&t, json!({"has_issue": "no"}), &no_data());
    ok(
        &t,
        json!({"has_issue": "yes", "issues": ["typo"]}),
        &no_data(),
    );
    ok(
        &t,
        json!({"has_issue": "yes", "issues": ["typo", "other"], "other": "bad layout"}),
        &no_data(),
    );
    assert!(one_error(&t, json!({"has_issue": "yes"}), &no_data(), "issues").contains("required"));
    one_error(
        &t,
        json!({"has_issue": "yes", "issues": ["other"]}),
        &no_data(),
        "other",
    );
    one_error(
        &t,
        json!({"has_issue": "no", "score": 2}),
        &no_data(),
        "why_low",
    );
    ok(
        &t,
        json!({"has_issue": "no", "score": 2, "why_low": "meh"}),
        &no_data(),
    );
    ok(&t, json!({"has_issue": "no", "score": 4}), &no_data());
}

#[test]
fn answering_a_hidden_question_is_an_error() {
    let t = conditional();
    let m = one_error(
        &t,
        json!({"has_issue": "no", "issues": ["typo"]}),
        &no_data(),
        "issues",
    );
    assert!(
        m.contains("shown only when \"has_issue\" is \"yes\""),
        "{m}"
    );
    assert!(m.contains("must not be answered"), "{m}");
    // Hiding chains: `other` depends on `issues`, which is hidden.
    let errors = t
        .validate_answers(
            &json!({"has_issue": "no", "issues": ["other"], "other": "x"}),
            &no_data(),
        )
        .unwrap_err();
    assert_eq!(
        errors
            .iter()
            .map(|e| e.question.as_str())
            .collect::<Vec<_>>(),
        ["issues", "other"]
    );
    // null means not answered, which is fine for a hidden question.
    ok(
        &t,
        json!({"has_issue": "no", "issues": null, "other": null}),
        &no_data(),
    );
    assert_eq!(
        t.shown_questions(&data(json!({"has_issue": "yes", "issues": ["other"]}))),
        [true, true, true, true, false]
    );
}

// ---- single_choice / multi_choice ------------------------------------------------------------------------------

#[test]
fn single_choice_rejects_values_not_in_the_list() {
    let t = minimal();
    let m = one_error(&t, json!({"label": "d"}), &no_data(), "label");
    assert_eq!(m, "\"d\" is not one of the options (\"a\", \"b\", \"c\")");
    let m = one_error(&t, json!({"label": 1}), &no_data(), "label");
    assert!(m.contains("got a number"), "{m}");
    one_error(&t, json!({"label": ["a"]}), &no_data(), "label");
}

#[test]
fn single_choice_stores_the_value_not_the_label() {
    let t = with_question(
        json!({"name": "q", "type": "single_choice", "options": [{"value": "pos", "label": "Positive"}]}),
    );
    ok(&t, json!({"q": "pos"}), &no_data());
    one_error(&t, json!({"q": "Positive"}), &no_data(), "q");
}

#[test]
fn multi_choice_answers() {
    let t = with_question(
        json!({"name": "q", "type": "multi_choice", "options": ["a", "b", "c"], "max_selected": 2, "required": true}),
    );
    ok(&t, json!({"q": ["a"]}), &no_data());
    ok(&t, json!({"q": ["c", "a"]}), &no_data());
    assert!(one_error(&t, json!({"q": []}), &no_data(), "q").contains("at least 1 option"));
    assert!(one_error(&t, json!({"q": ["a", "b", "c"]}), &no_data(), "q").contains("at most 2"));
    assert!(one_error(&t, json!({"q": ["a", "a"]}), &no_data(), "q").contains("selected twice"));
    assert!(one_error(&t, json!({"q": ["z"]}), &no_data(), "q").contains("not one of the options"));
    assert!(one_error(&t, json!({"q": "a"}), &no_data(), "q").contains("must be a list"));
    let optional = with_question(json!({"name": "q", "type": "multi_choice", "options": ["a"]}));
    ok(&optional, json!({"q": []}), &no_data());
}

// ---- rating ----------------------------------------------------------------------------------------------------

#[test]
fn rating_must_be_a_whole_number_on_the_scale() {
    let t = with_question(
        json!({"name": "q", "type": "rating", "min": 1, "max": 5, "min_label": "bad", "max_label": "good"}),
    );
    ok(&t, json!({"q": 1}), &no_data());
    ok(&t, json!({"q": 5}), &no_data());
    let m = one_error(&t, json!({"q": 6}), &no_data(), "q");
    assert_eq!(m, "6 is outside the scale: give a whole number from 1 to 5");
    one_error(&t, json!({"q": 0}), &no_data(), "q");
    assert!(one_error(&t, json!({"q": 2.5}), &no_data(), "q").contains("whole number"));
    assert!(one_error(&t, json!({"q": "3"}), &no_data(), "q").contains("whole number"));
}

// ---- text ------------------------------------------------------------------------------------------------------

#[test]
fn text_length_bounds_count_characters_of_the_trimmed_text() {
    let t = with_question(
        json!({"name": "q", "type": "text", "min_length": 3, "max_length": 5, "required": true}),
    );
    ok(&t, json!({"q": "abc"}), &no_data());
    ok(&t, json!({"q": "  ééééé  "}), &no_data());
    let m = one_error(&t, json!({"q": "ab"}), &no_data(), "q");
    assert_eq!(m, "is too short: 2 characters, at least 3 needed");
    let m = one_error(&t, json!({"q": "abcdef"}), &no_data(), "q");
    assert_eq!(m, "is too long: 6 characters, at most 5 allowed");
    assert!(one_error(&t, json!({"q": "   "}), &no_data(), "q").contains("required"));
    assert!(one_error(&t, json!({"q": 12345}), &no_data(), "q").contains("must be text"));
    let optional = with_question(json!({"name": "q", "type": "text", "min_length": 3}));
    ok(&optional, json!({"q": ""}), &no_data());
}

// ---- ranking ---------------------------------------------------------------------------------------------------

#[test]
fn ranking_is_a_list_of_tie_groups_covering_every_field_once() {
    let t = with_question(
        json!({"name": "q", "type": "ranking", "fields": ["r1", "r2", "r3"], "required": true}),
    );
    ok(&t, json!({"q": [["r2"], ["r1"], ["r3"]]}), &no_data());
    ok(&t, json!({"q": [["r2", "r3"], ["r1"]]}), &no_data());
    ok(&t, json!({"q": [["r1", "r2", "r3"]]}), &no_data());
    let m = one_error(&t, json!({"q": [["r2"], ["r1"]]}), &no_data(), "q");
    assert_eq!(m, "\"r3\" not ranked; rank every field exactly once");
    let m = one_error(
        &t,
        json!({"q": [["r2"], ["r1", "r2"], ["r3"]]}),
        &no_data(),
        "q",
    );
    assert!(m.contains("\"r2\" appears more than once"), "{m}");
    assert!(
        one_error(
            &t,
            json!({"q": [["r1"], ["r2"], ["r3"], ["text"]]}),
            &no_data(),
            "q"
        )
        .contains("not one of the ranked fields")
    );
    assert!(
        one_error(
            &t,
            json!({"q": [["r1"], [], ["r2", "r3"]]}),
            &no_data(),
            "q"
        )
        .contains("rank 2: a tie group must not be empty")
    );
    assert!(
        one_error(&t, json!({"q": ["r1", "r2", "r3"]}), &no_data(), "q")
            .contains("rank 1: must be a list")
    );
    assert!(one_error(&t, json!({"q": {"r1": 1}}), &no_data(), "q").contains("list of tie groups"));
}

// ---- pairwise --------------------------------------------------------------------------------------------------

#[test]
fn pairwise_strength_and_justification() {
    let t = with_question(
        json!({"name": "q", "type": "pairwise", "a": "r1", "b": "r2", "required": true}),
    );
    for s in -3..=3 {
        ok(&t, json!({"q": {"strength": s}}), &no_data());
    }
    ok(
        &t,
        json!({"q": {"strength": -2, "justification": "A cites sources"}}),
        &no_data(),
    );
    for bad in [json!(4), json!(-4), json!(1.5), json!("2")] {
        let m = one_error(&t, json!({"q": {"strength": bad}}), &no_data(), "q");
        assert!(m.contains("from -3 (A much better)"), "{m}");
    }
    assert!(one_error(&t, json!({"q": {}}), &no_data(), "q").contains("\"strength\" is missing"));
    assert!(one_error(&t, json!({"q": -1}), &no_data(), "q").contains("must be an object"));
    assert!(
        one_error(
            &t,
            json!({"q": {"strength": 1, "winner": "a"}}),
            &no_data(),
            "q"
        )
        .contains("unknown key \"winner\"")
    );
    assert!(
        one_error(
            &t,
            json!({"q": {"strength": 1, "justification": 3}}),
            &no_data(),
            "q"
        )
        .contains("must be a string")
    );

    let required = with_question(
        json!({"name": "q", "type": "pairwise", "a": "r1", "b": "r2", "justification": "required"}),
    );
    assert!(
        one_error(
            &required,
            json!({"q": {"strength": 0, "justification": "  "}}),
            &no_data(),
            "q"
        )
        .contains("justification is required")
    );
    ok(
        &required,
        json!({"q": {"strength": 0, "justification": "same"}}),
        &no_data(),
    );
    let none = with_question(
        json!({"name": "q", "type": "pairwise", "a": "r1", "b": "r2", "justification": "none"}),
    );
    one_error(
        &none,
        json!({"q": {"strength": 0, "justification": "why"}}),
        &no_data(),
        "q",
    );
    ok(&none, json!({"q": {"strength": 0}}), &no_data());
}

// ---- spans -----------------------------------------------------------------------------------------------------

fn spans_template(allow_overlap: bool) -> TaskTemplate {
    with_question(
        json!({"name": "q", "type": "spans", "field": "text", "labels": ["PER", "LOC"], "allow_overlap": allow_overlap}),
    )
}

#[test]
fn spans_inside_the_text_with_known_labels_pass() {
    let t = spans_template(false);
    let item = data(json!({"text": "Ana lives in Zürich."}));
    ok(
        &t,
        json!({"q": [{"start": 0, "end": 3, "label": "PER"}, {"start": 13, "end": 19, "label": "LOC", "text": "Zürich"}]}),
        &item,
    );
    ok(&t, json!({"q": []}), &item);
    ok(
        &t,
        json!({"q": [{"start": 0, "end": 20, "label": "LOC"}]}),
        &item,
    );
}

#[test]
fn span_offsets_count_unicode_characters() {
    let t = spans_template(false);
    // "😀" is one character, two UTF-16 units and four bytes.
    let item = data(json!({"text": "😀 Ana"}));
    ok(
        &t,
        json!({"q": [{"start": 2, "end": 5, "label": "PER", "text": "Ana"}]}),
        &item,
    );
    let m = one_error(
        &t,
        json!({"q": [{"start": 3, "end": 6, "label": "PER"}]}),
        &item,
        "q",
    );
    assert!(
        m.contains("past the end of the text, which has 5 characters"),
        "{m}"
    );
    let m = one_error(
        &t,
        json!({"q": [{"start": 2, "end": 4, "label": "PER", "text": "Ana"}]}),
        &item,
        "q",
    );
    assert!(m.contains("does not match"), "{m}");
}

#[test]
fn bad_spans_are_explained() {
    let t = spans_template(false);
    let item = data(json!({"text": "Ana lives in Zurich."}));
    let cases = [
        (
            json!([{"start": 5, "end": 5, "label": "PER"}]),
            "span 0: start (5) must be less than end (5)",
        ),
        (
            json!([{"start": 6, "end": 2, "label": "PER"}]),
            "span 0: start (6) must be less than end (2)",
        ),
        (
            json!([{"start": 0, "end": 3, "label": "ORG"}]),
            "span 0: label \"ORG\" is not one of the options",
        ),
        (
            json!([{"start": 0, "end": 3}]),
            "span 0: \"label\" is missing",
        ),
        (
            json!([{"start": -1, "end": 3, "label": "PER"}]),
            "span 0: \"start\" must be a character offset",
        ),
        (
            json!([{"start": 0, "end": 3, "label": "PER", "score": 1}]),
            "span 0: unknown key \"score\"",
        ),
        (
            json!([{"start": 0, "end": 3, "label": "PER"}, {"start": 2, "end": 9, "label": "LOC"}]),
            "spans 0 and 1 overlap",
        ),
        (
            json!([{"start": 0, "end": 3, "label": "PER"}, {"start": 0, "end": 3, "label": "PER"}]),
            "spans 0 and 1 are the same span",
        ),
        (json!({"start": 0}), "must be a list of spans"),
    ];
    for (answer, expected) in cases {
        let m = one_error(&t, json!({ "q": answer }), &item, "q");
        assert!(m.starts_with(expected), "{answer}: {m}");
    }
}

#[test]
fn overlap_is_checked_against_every_earlier_span() {
    let t = spans_template(false);
    let item = data(json!({"text": "0123456789"}));
    // The long first span overlaps the third one, though the second does not.
    let m = one_error(
        &t,
        json!({"q": [
            {"start": 0, "end": 9, "label": "PER"}, {"start": 1, "end": 2, "label": "LOC"}, {"start": 5, "end": 6, "label": "LOC"}
        ]}),
        &item,
        "q",
    );
    assert!(m.contains("overlap"), "{m}");
    ok(
        &t,
        json!({"q": [{"start": 0, "end": 3, "label": "PER"}, {"start": 3, "end": 6, "label": "LOC"}]}),
        &item,
    );
}

#[test]
fn overlap_can_be_allowed_but_duplicates_never() {
    let t = spans_template(true);
    let item = data(json!({"text": "New York City"}));
    ok(
        &t,
        json!({"q": [{"start": 0, "end": 8, "label": "LOC"}, {"start": 0, "end": 13, "label": "LOC"}, {"start": 0, "end": 8, "label": "PER"}]}),
        &item,
    );
    assert!(one_error(&t, json!({"q": [{"start": 0, "end": 8, "label": "LOC"}, {"start": 0, "end": 8, "label": "LOC"}]}), &item, "q").contains("same span"));
}

#[test]
fn spans_without_the_text_in_the_item_are_an_answer_error_not_a_panic() {
    let t = spans_template(false);
    let m = one_error(
        &t,
        json!({"q": [{"start": 0, "end": 1, "label": "PER"}]}),
        &no_data(),
        "q",
    );
    assert!(m.contains("no text in field \"text\""), "{m}");
}

// ---- rubric ----------------------------------------------------------------------------------------------------

#[test]
fn rubric_scores_every_criterion_on_its_scale() {
    let t = with_question(
        json!({"name": "q", "type": "rubric", "criteria": [{"name": "accuracy"}, {"name": "style", "min": 0, "max": 2}]}),
    );
    ok(&t, json!({"q": {"accuracy": 5, "style": 0}}), &no_data());
    assert_eq!(
        one_error(
            &t,
            json!({"q": {"accuracy": 6, "style": 0}}),
            &no_data(),
            "q"
        ),
        "criterion \"accuracy\": 6 is outside the scale: give a whole number from 1 to 5"
    );
    assert!(
        one_error(&t, json!({"q": {"accuracy": 3}}), &no_data(), "q")
            .contains("criterion \"style\" has no score")
    );
    assert!(
        one_error(
            &t,
            json!({"q": {"accuracy": 3, "style": 1, "tone": 2}}),
            &no_data(),
            "q"
        )
        .contains("no criterion \"tone\"")
    );
    assert!(one_error(&t, json!({"q": [3, 1]}), &no_data(), "q").contains("must be an object"));
    assert!(
        one_error(
            &t,
            json!({"q": {"accuracy": "high", "style": 1}}),
            &no_data(),
            "q"
        )
        .contains("whole number")
    );
}

// ---- boxes -----------------------------------------------------------------------------------------------------

#[test]
fn boxes_are_normalized_and_inside_the_image() {
    let t = with_question(
        json!({"name": "q", "type": "boxes", "field": "image", "labels": ["car"], "max_boxes": 2}),
    );
    ok(
        &t,
        json!({"q": [{"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4, "label": "car"}]}),
        &no_data(),
    );
    ok(
        &t,
        json!({"q": [{"x": 0, "y": 0, "w": 1, "h": 1, "label": "car"}]}),
        &no_data(),
    );
    ok(&t, json!({"q": []}), &no_data());
    let cases = [
        (
            json!({"x": 0.1, "y": 0.2, "w": 0, "h": 0.4, "label": "car"}),
            "box 0: w and h must be greater than 0",
        ),
        (
            json!({"x": 0.1, "y": 0.2, "w": -0.1, "h": 0.4, "label": "car"}),
            "box 0: w and h must be greater than 0",
        ),
        (
            json!({"x": -0.1, "y": 0.2, "w": 0.1, "h": 0.4, "label": "car"}),
            "box 0: x and y are fractions",
        ),
        (
            json!({"x": 0.8, "y": 0.2, "w": 0.3, "h": 0.4, "label": "car"}),
            "box 0: the box reaches outside the image",
        ),
        (
            json!({"x": 10, "y": 20, "w": 30, "h": 40, "label": "car"}),
            "box 0: the box reaches outside the image",
        ),
        (
            json!({"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4, "label": "bus"}),
            "box 0: label \"bus\" is not one of",
        ),
        (
            json!({"x": "0.1", "y": 0.2, "w": 0.3, "h": 0.4, "label": "car"}),
            "box 0: \"x\" must be a number",
        ),
        (
            json!({"y": 0.2, "w": 0.3, "h": 0.4, "label": "car"}),
            "box 0: \"x\" is missing",
        ),
    ];
    for (b, expected) in cases {
        let m = one_error(&t, json!({"q": [b]}), &no_data(), "q");
        assert!(m.starts_with(expected), "{b}: {m}");
    }
    let b = json!({"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4, "label": "car"});
    assert!(one_error(&t, json!({"q": [b, b, b]}), &no_data(), "q").contains("at most 2 boxes"));
}

// ---- video_events ----------------------------------------------------------------------------------------------

#[test]
fn video_events_are_ordered_seconds_with_known_labels() {
    let t = with_question(
        json!({"name": "q", "type": "video_events", "field": "video", "labels": ["goal"]}),
    );
    ok(
        &t,
        json!({"q": [{"start": 1.5, "end": 3, "label": "goal", "note": "header"}, {"start": 4, "end": 4, "label": "goal"}]}),
        &no_data(),
    );
    let cases = [
        (
            json!({"start": 3, "end": 1, "label": "goal"}),
            "event 0: start (3) must not be after end (1)",
        ),
        (
            json!({"start": -1, "end": 1, "label": "goal"}),
            "event 0: start (-1) must be 0 seconds or later",
        ),
        (
            json!({"start": 0, "end": 1, "label": "foul"}),
            "event 0: label \"foul\" is not one of",
        ),
        (
            json!({"start": 0, "end": 1, "label": "goal", "note": 5}),
            "event 0: \"note\" must be a string",
        ),
        (
            json!({"start": 0, "end": 1, "label": "goal", "who": "x"}),
            "event 0: unknown key \"who\"",
        ),
    ];
    for (e, expected) in cases {
        let m = one_error(&t, json!({"q": [e]}), &no_data(), "q");
        assert!(m.starts_with(expected), "{e}: {m}");
    }
}

// ---- flat answers and majority ---------------------------------------------------------------------------------

#[test]
fn flat_answers_and_majority_questions() {
    let ex: std::collections::HashMap<_, _> = examples().into_iter().collect();
    let parse = |n: &str| TaskTemplate::from_json(&ex[n]).unwrap();
    assert!(parse("chat_rating").has_flat_answers());
    assert_eq!(
        parse("chat_rating").majority_questions(),
        ["overall", "problems"]
    );
    assert!(!parse("llm_pairwise_rubric").has_flat_answers());
    assert!(parse("llm_pairwise_rubric").majority_questions().is_empty());
    assert!(!parse("named_entities").has_flat_answers());
}

#[test]
fn single_choice_majority_breaks_ties_by_option_order() {
    let t = minimal();
    let (a, b, c) = (
        json!({"label": "a"}),
        json!({"label": "b"}),
        json!({"label": "c"}),
    );
    assert_eq!(
        majority_answer(&t, "label", &[&b, &c, &b]),
        Some(json!("b"))
    );
    assert_eq!(majority_answer(&t, "label", &[&c, &b]), Some(json!("b")));
    assert_eq!(
        majority_answer(&t, "label", &[&c, &a, &b, &c, &a]),
        Some(json!("a"))
    );
    // Bare answers work too; nulls and values that are not options are ignored.
    assert_eq!(
        majority_answer(&t, "label", &[&json!("c"), &json!(null), &json!("zzz")]),
        Some(json!("c"))
    );
    assert_eq!(majority_answer(&t, "label", &[]), None);
    assert_eq!(
        majority_answer(&t, "label", &[&json!({}), &json!({"label": null})]),
        None
    );
    assert_eq!(majority_answer(&t, "nope", &[&a]), None);
}

#[test]
fn multi_choice_majority_keeps_options_chosen_by_more_than_half() {
    let t = with_question(json!({"name": "q", "type": "multi_choice", "options": ["a", "b", "c"]}));
    let answers = [
        json!({"q": ["b", "a"]}),
        json!({"q": ["a"]}),
        json!({"q": ["b", "c"]}),
        json!({"q": ["a", "c"]}),
    ];
    let refs: Vec<&Value> = answers.iter().collect();
    // a: 3 of 4, b: 2 of 4 (not more than half), c: 2 of 4.
    assert_eq!(majority_answer(&t, "q", &refs), Some(json!(["a"])));
    assert_eq!(
        majority_answer(&t, "q", &[&json!({"q": []})]),
        Some(json!([]))
    );
}

#[test]
fn rating_majority_is_the_lower_median() {
    let t = with_question(json!({"name": "q", "type": "rating", "min": 1, "max": 5}));
    let vote = |xs: &[i64]| {
        let answers: Vec<Value> = xs.iter().map(|x| json!({ "q": x })).collect();
        majority_answer(&t, "q", &answers.iter().collect::<Vec<_>>())
    };
    assert_eq!(vote(&[1, 5, 4]), Some(json!(4)));
    assert_eq!(vote(&[5, 1, 2, 4]), Some(json!(2)));
    assert_eq!(vote(&[3]), Some(json!(3)));
    assert_eq!(vote(&[]), None);
}

#[test]
fn questions_without_a_majority_give_none() {
    let t = with_question(json!({"name": "q", "type": "text"}));
    assert!(t.majority_questions().is_empty());
    assert_eq!(majority_answer(&t, "q", &[&json!({"q": "x"})]), None);
}

// ---- severities, polygons, keypoints, tracks -------------------------------------------------------------------

#[test]
fn video_event_severity_is_required_when_asked_and_refused_otherwise() {
    let t = with_question(
        json!({"name": "q", "type": "video_events", "field": "video", "labels": ["anatomy"], "severities": ["minor", "major"]}),
    );
    ok(
        &t,
        json!({"q": [{"start": 1, "end": 2, "label": "anatomy", "severity": "major"}]}),
        &no_data(),
    );
    let m = one_error(
        &t,
        json!({"q": [{"start": 1, "end": 2, "label": "anatomy"}]}),
        &no_data(),
        "q",
    );
    assert!(m.contains("\"severity\" is missing"), "{m}");
    let m = one_error(
        &t,
        json!({"q": [{"start": 1, "end": 2, "label": "anatomy", "severity": "huge"}]}),
        &no_data(),
        "q",
    );
    assert!(m.contains("severity \"huge\" is not one of"), "{m}");
    let plain = with_question(
        json!({"name": "q", "type": "video_events", "field": "video", "labels": ["anatomy"]}),
    );
    let m = one_error(
        &plain,
        json!({"q": [{"start": 1, "end": 2, "label": "anatomy", "severity": "major"}]}),
        &no_data(),
        "q",
    );
    assert!(m.contains("not asked"), "{m}");
}

#[test]
fn polygons_need_three_points_inside_the_image_and_some_area() {
    let t = with_question(
        json!({"name": "q", "type": "polygons", "field": "image", "labels": ["lesion"], "min_shapes": 1}),
    );
    ok(
        &t,
        json!({"q": [{"points": [[0, 0], [1, 0], [1, 1]], "label": "lesion"}]}),
        &no_data(),
    );
    let cases = [
        (
            json!([{"points": [[0, 0], [1, 0]], "label": "lesion"}]),
            "polygon 0: a polygon needs at least 3 points, got 2",
        ),
        (
            json!([{"points": [[0, 0], [0.5, 0.5], [1, 1]], "label": "lesion"}]),
            "polygon 0: the polygon has no area",
        ),
        (
            json!([{"points": [[0, 0], [1, 0], [1, -0.5]], "label": "lesion"}]),
            "polygon 0: point 2: (1, -0.5) lies outside the image",
        ),
        (
            json!([{"points": [[0, 0], [1, 0], [1, "a"]], "label": "lesion"}]),
            "polygon 0: point 2: x and y must be numbers",
        ),
        (json!([]), "draw at least 1 polygon, got 0"),
    ];
    for (a, expected) in cases {
        let m = one_error(&t, json!({ "q": a }), &no_data(), "q");
        assert!(m.starts_with(expected), "{a}: {m}");
    }
    let e = template_err(
        json!({"fields": [{"name": "i", "type": "video"}], "questions": [{"name": "q", "type": "polygons", "field": "i", "labels": ["a"]}]}),
    );
    assert_eq!(e.path(), "questions[0].field");
}

#[test]
fn keypoints_give_one_point_per_name_with_a_coco_visibility_flag() {
    let t = with_question(json!({
        "name": "q", "type": "keypoints", "field": "image", "labels": ["hand"],
        "points": ["wrist", "thumb"], "skeleton": [[0, 1]]
    }));
    ok(
        &t,
        json!({"q": [{"points": [[0.5, 0.5, 2], [0, 0, 0]], "label": "hand"}]}),
        &no_data(),
    );
    let cases = [
        (
            json!([{"points": [[0.5, 0.5, 2]], "label": "hand"}]),
            "object 0: has 1 points; give exactly 2",
        ),
        (
            json!([{"points": [[0.5, 0.5, 3], [0, 0, 0]], "label": "hand"}]),
            "object 0: point \"wrist\": v must be 0",
        ),
        (
            json!([{"points": [[0.5, 0.5, 2], [0.2, 0.1, 0]], "label": "hand"}]),
            "object 0: point \"thumb\": a point not placed (v = 0) must be [0, 0, 0]",
        ),
    ];
    for (a, expected) in cases {
        let m = one_error(&t, json!({ "q": a }), &no_data(), "q");
        assert!(m.starts_with(expected), "{a}: {m}");
    }
    for (bad, path) in [
        (json!({"points": []}), "questions[0].points"),
        (json!({"points": ["a", "a"]}), "questions[0].points[1]"),
        (
            json!({"points": ["a", "b"], "skeleton": [[0, 2]]}),
            "questions[0].skeleton[0]",
        ),
    ] {
        let mut q = json!({"name": "q", "type": "keypoints", "field": "i", "labels": ["x"]});
        for (k, v) in bad.as_object().unwrap() {
            q[k] = v.clone();
        }
        let e = template_err(json!({"fields": [{"name": "i", "type": "image"}], "questions": [q]}));
        assert_eq!(e.path(), path, "{bad}");
    }
}

#[test]
fn tracks_have_unique_ids_and_keyframes_in_increasing_frame_order() {
    let t =
        with_question(json!({"name": "q", "type": "tracks", "field": "video", "labels": ["car"]}));
    let kf = |frame: u64| json!({"frame": frame, "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2});
    ok(
        &t,
        json!({"q": [{"id": "a", "label": "car", "keyframes": [kf(0), kf(5)]}]}),
        &no_data(),
    );
    let cases = [
        (
            json!([{"id": "a", "label": "car", "keyframes": [kf(5), kf(5)]}]),
            "track 0: keyframe 1: frame 5 comes after frame 5",
        ),
        (
            json!([{"id": "a", "label": "car", "keyframes": []}]),
            "track 0: a track needs at least one keyframe",
        ),
        (
            json!([{"id": "a", "label": "car", "keyframes": [kf(0)]}, {"id": "a", "label": "car", "keyframes": [kf(1)]}]),
            "track 1: id \"a\" is used by an earlier track",
        ),
        (
            json!([{"id": "a", "label": "car", "keyframes": [{"frame": 3, "x": 0.9, "y": 0.1, "w": 0.2, "h": 0.2}]}]),
            "track 0: keyframe 0 (frame 3): the box reaches outside the image",
        ),
        (
            json!([{"id": "a", "label": "car", "keyframes": [{"frame": -1, "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2}]}]),
            "track 0: keyframe 0: \"frame\" must be a whole number",
        ),
    ];
    for (a, expected) in cases {
        let m = one_error(&t, json!({ "q": a }), &no_data(), "q");
        assert!(m.starts_with(expected), "{a}: {m}");
    }
}
