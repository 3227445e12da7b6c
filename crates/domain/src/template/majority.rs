//! The per-question majority used in exports (`"aggregate"`), for the question kinds where a vote makes sense.

use serde_json::Value;

use super::TaskTemplate;
use super::question::QuestionKind;

/// Whether exports aggregate this kind of question with [`majority_answer`].
pub(crate) fn has_majority(kind: &QuestionKind) -> bool {
    matches!(
        kind,
        QuestionKind::SingleChoice { .. }
            | QuestionKind::MultiChoice { .. }
            | QuestionKind::Rating { .. }
    )
}

/// The majority answer of one question over several annotations; `None` when nobody answered it (or the question
/// is not one of [`TaskTemplate::majority_questions`]).
///
/// Each element of `answers` is one annotation's whole answers object (`{"label": "a", …}`); a non-object element
/// is taken as that annotation's answer to `question` itself, so both calling styles work (no answer of a
/// majority question is an object). `null` and answers that do not fit the question are ignored.
///
/// - `single_choice`: the most frequent value; a tie goes to the value listed first in the question's options.
/// - `multi_choice`: the list (in option order) of options selected by more than half of the annotations that
///   answered; it may be empty.
/// - `rating`: the median score, the lower of the two middle scores when the count is even, so the result is
///   always a score someone gave. Ratings are ordinal, and a mode of three different scores says little.
pub fn majority_answer(
    template: &TaskTemplate,
    question: &str,
    answers: &[&Value],
) -> Option<Value> {
    let q = template.question(question)?;
    let given: Vec<&Value> = answers
        .iter()
        .filter_map(|a| match a {
            Value::Object(m) => m.get(question),
            other => Some(*other),
        })
        .filter(|v| !v.is_null())
        .collect();
    match &q.kind {
        QuestionKind::SingleChoice { options } => {
            let mut counts = vec![0usize; options.len()];
            for v in &given {
                if let Some(i) = v
                    .as_str()
                    .and_then(|s| options.iter().position(|o| o.value == s))
                {
                    counts[i] += 1;
                }
            }
            let best = *counts.iter().max()?;
            if best == 0 {
                return None;
            }
            // `position` finds the first option with the top count: ties go to the earlier option.
            let i = counts.iter().position(|&c| c == best)?;
            Some(Value::String(options[i].value.clone()))
        }
        QuestionKind::MultiChoice { options, .. } => {
            let lists: Vec<&Vec<Value>> = given.iter().filter_map(|v| v.as_array()).collect();
            if lists.is_empty() {
                return None;
            }
            let selected = options
                .iter()
                .filter(|o| {
                    let votes = lists
                        .iter()
                        .filter(|l| l.iter().any(|v| v.as_str() == Some(&o.value)))
                        .count();
                    2 * votes > lists.len()
                })
                .map(|o| Value::String(o.value.clone()))
                .collect();
            Some(Value::Array(selected))
        }
        QuestionKind::Rating { scale } => {
            let mut scores: Vec<i64> = given
                .iter()
                .filter_map(|v| v.as_i64())
                .filter(|n| scale.contains(*n))
                .collect();
            if scores.is_empty() {
                return None;
            }
            scores.sort_unstable();
            Some(Value::from(scores[(scores.len() - 1) / 2]))
        }
        _ => None,
    }
}
