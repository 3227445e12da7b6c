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
            "image_segments",
            json!({
                "fields": [{"name": "scan", "type": "image", "source": "image_url", "label": "Chest X-ray"}],
                "questions": [{
                    "name": "regions",
                    "type": "polygons",
                    "field": "scan",
                    "label": "Outline every opacity and nodule",
                    "labels": ["opacity", "nodule", "effusion"],
                    "max_shapes": 20
                }]
            }),
        ),
        (
            "pose_keypoints",
            json!({
                "fields": [{"name": "photo", "type": "image", "source": "image_url"}],
                "questions": [{
                    "name": "people",
                    "type": "keypoints",
                    "field": "photo",
                    "label": "Place the head, shoulders and hands of every person",
                    "labels": ["person"],
                    "points": ["head", "left_shoulder", "right_shoulder", "left_hand", "right_hand"],
                    "skeleton": [[0, 1], [0, 2], [1, 3], [2, 4]]
                }]
            }),
        ),
        (
            "object_tracking",
            json!({
                "fields": [{"name": "video", "type": "video", "source": "video_url"}],
                "questions": [{
                    "name": "objects",
                    "type": "tracks",
                    "field": "video",
                    "label": "Follow every car and cyclist through the clip",
                    "labels": ["car", "cyclist"]
                }]
            }),
        ),
        (
            "generated_video_qa",
            json!({
                "fields": [
                    {"name": "prompt", "type": "text", "label": "Prompt given to the video model"},
                    {"name": "video", "type": "video", "source": "video_url", "label": "Generated video"}
                ],
                "questions": [
                    {
                        "name": "errors",
                        "type": "video_events",
                        "field": "video",
                        "label": "Mark every visual error as a time range",
                        "help": "Step frame by frame with , and . to find where an error starts and ends.",
                        "labels": [
                            {"value": "anatomy", "label": "Anatomy (hands, faces, limbs)"},
                            {"value": "physics", "label": "Physics (gravity, collisions, fluids)"},
                            {"value": "object_permanence", "label": "Object permanence (things appear or vanish)"},
                            {"value": "text_rendering", "label": "Text rendering (garbled signs, letters)"},
                            {"value": "temporal_flicker", "label": "Temporal flicker (textures or lighting jump)"},
                            {"value": "identity_drift", "label": "Identity drift (a person or object changes)"},
                            {"value": "camera", "label": "Camera motion (impossible cuts, warping)"},
                            {"value": "prompt_mismatch", "label": "Does not follow the prompt"},
                            {"value": "other", "label": "Other (say what in the note)"}
                        ],
                        "severities": [
                            {"value": "minor", "label": "Minor: noticed on a second look"},
                            {"value": "major", "label": "Major: noticed at once"},
                            {"value": "critical", "label": "Critical: the video is unusable"}
                        ]
                    },
                    {
                        "name": "overall",
                        "type": "rating",
                        "label": "Overall quality",
                        "min": 1,
                        "max": 5,
                        "min_label": "Unusable",
                        "max_label": "Flawless",
                        "required": true
                    },
                    {
                        "name": "follows_prompt",
                        "type": "single_choice",
                        "label": "Does the video show what the prompt asks for?",
                        "options": ["yes", "partly", "no"],
                        "required": true
                    }
                ]
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
