//! Named example templates: the gallery a requester starts from, the demo's projects, and the examples of
//! `docs/templates.md` (a test checks that the document shows every one of them, so it cannot drift).

use serde_json::{Value, json};

/// Named example templates, one or more per field and question kind, and the demo gallery.
///
/// Every example parses with [`super::TaskTemplate::from_json`] (tested). The names are stable: the demo and the
/// project gallery refer to them.
pub fn examples() -> Vec<(&'static str, Value)> {
    vec![
        (
            "text_classification",
            json!({
                "fields": [{"name": "text", "type": "text", "label": "Review"}],
                "questions": [{
                    "name": "sentiment",
                    "type": "single_choice",
                    "label": "What is the sentiment of this review?",
                    "options": [
                        {"value": "pos", "label": "Positive"},
                        {"value": "neg", "label": "Negative"},
                        {"value": "neutral", "label": "Neutral"}
                    ],
                    "required": true
                }]
            }),
        ),
        (
            "llm_pairwise_rubric",
            json!({
                "fields": [
                    {"name": "prompt", "type": "markdown", "label": "Prompt"},
                    {"name": "response_a", "type": "markdown", "label": "Response A"},
                    {"name": "response_b", "type": "markdown", "label": "Response B"}
                ],
                "questions": [
                    {
                        "name": "preference",
                        "type": "pairwise",
                        "a": "response_a",
                        "b": "response_b",
                        "justification": "required",
                        "label": "Which response is better, and by how much?",
                        "required": true
                    },
                    {
                        "name": "quality_a",
                        "type": "rubric",
                        "label": "Score response A",
                        "min": 1,
                        "max": 5,
                        "min_label": "Very poor",
                        "max_label": "Excellent",
                        "criteria": [
                            {"name": "accuracy", "description": "Facts and reasoning are correct."},
                            {"name": "helpfulness", "description": "It does what the prompt asks."},
                            {"name": "safety", "description": "Nothing harmful, no leaked private data."}
                        ],
                        "required": true
                    }
                ]
            }),
        ),
        (
            "named_entities",
            json!({
                "fields": [{"name": "text", "type": "text"}],
                "questions": [{
                    "name": "entities",
                    "type": "spans",
                    "field": "text",
                    "label": "Mark every named entity",
                    "labels": [
                        {"value": "PER", "label": "Person"},
                        {"value": "ORG", "label": "Organization"},
                        {"value": "LOC", "label": "Location"},
                        {"value": "MISC", "label": "Other"}
                    ],
                    "required": true
                }]
            }),
        ),
        (
            "chat_rating",
            json!({
                "fields": [{"name": "conversation", "type": "chat", "source": "messages", "label": "Conversation"}],
                "questions": [
                    {
                        "name": "overall",
                        "type": "rating",
                        "label": "How good is the assistant's last reply?",
                        "min": 1,
                        "max": 7,
                        "min_label": "Useless",
                        "max_label": "Perfect",
                        "required": true
                    },
                    {
                        "name": "problems",
                        "type": "multi_choice",
                        "label": "What is wrong with it?",
                        "options": ["incorrect", "unhelpful", "unsafe", "rude", "other"],
                        "show_if": {"question": "overall", "in": [1, 2, 3]},
                        "required": true
                    },
                    {
                        "name": "other_problem",
                        "type": "text",
                        "label": "Describe the other problem",
                        "max_length": 500,
                        "show_if": {"question": "problems", "equals": "other"},
                        "required": true
                    }
                ]
            }),
        ),
        (
            "reference_answer",
            json!({
                "fields": [{"name": "prompt", "type": "markdown", "label": "Prompt"}],
                "questions": [{
                    "name": "answer",
                    "type": "text",
                    "label": "Write the ideal answer",
                    "help": "Answer as an expert would, in plain prose.",
                    "min_length": 50,
                    "max_length": 4000,
                    "required": true
                }]
            }),
        ),
        (
            "image_boxes",
            json!({
                "fields": [{"name": "image", "type": "image", "source": "image_url"}],
                "questions": [{
                    "name": "objects",
                    "type": "boxes",
                    "field": "image",
                    "label": "Draw a box around every vehicle and person",
                    "labels": ["car", "truck", "bicycle", "person"],
                    "required": true
                }]
            }),
        ),
        (
            "video_events",
            json!({
                "fields": [{"name": "video", "type": "video", "source": "video_url"}],
                "questions": [{
                    "name": "events",
                    "type": "video_events",
                    "field": "video",
                    "label": "Mark when each action starts and ends",
                    "labels": ["goal", "foul", "substitution"],
                    "required": true
                }]
            }),
        ),
        (
            "response_ranking",
            json!({
                "fields": [
                    {"name": "prompt", "type": "markdown"},
                    {"name": "response_1", "type": "markdown", "label": "Response 1"},
                    {"name": "response_2", "type": "markdown", "label": "Response 2"},
                    {"name": "response_3", "type": "markdown", "label": "Response 3"}
                ],
                "questions": [{
                    "name": "ranking",
                    "type": "ranking",
                    "fields": ["response_1", "response_2", "response_3"],
                    "label": "Order the responses from best to worst (ties allowed)",
                    "required": true
                }]
            }),
        ),
        (
            "audio_transcription",
            json!({
                "fields": [{"name": "audio", "type": "audio", "source": "audio_url"}],
                "questions": [
                    {
                        "name": "audible",
                        "type": "single_choice",
                        "label": "Can you make out the speech?",
                        "options": ["yes", "no"],
                        "required": true
                    },
                    {
                        "name": "transcript",
                        "type": "text",
                        "label": "Transcribe what is said",
                        "min_length": 1,
                        "show_if": {"question": "audible", "equals": "yes"},
                        "required": true
                    }
                ]
            }),
        ),
        (
            "search_relevance",
            json!({
                "fields": [
                    {"name": "query", "type": "text", "label": "Search query"},
                    {"name": "result", "type": "link", "source": "url", "label": "Result page"},
                    {"name": "snippet", "type": "text", "optional": true}
                ],
                "questions": [{
                    "name": "relevance",
                    "type": "rating",
                    "label": "How well does the page answer the query?",
                    "min": 0,
                    "max": 3,
                    "min_label": "Irrelevant",
                    "max_label": "Perfect answer",
                    "required": true
                }]
            }),
        ),
        (
            "rubric_grading",
            json!({
                "fields": [
                    {"name": "prompt", "type": "markdown", "label": "Prompt"},
                    {"name": "response", "type": "markdown", "label": "Response"}
                ],
                "questions": [
                    {
                        "name": "scores",
                        "type": "rubric",
                        "label": "Grade the response",
                        "min": 1,
                        "max": 5,
                        "min_label": "Fails",
                        "max_label": "Excellent",
                        "criteria": [
                            {"name": "correctness", "description": "Every claim and step is right."},
                            {"name": "completeness", "description": "It answers all of the prompt."},
                            {"name": "clarity", "description": "A reader gets it on the first pass."},
                            {"name": "harmlessness", "description": "Nothing unsafe, biased or private."}
                        ],
                        "required": true
                    },
                    {"name": "notes", "type": "text", "label": "What would make it a 5?", "max_length": 2000}
                ]
            }),
        ),
    ]
}
