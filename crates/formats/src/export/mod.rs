//! Export side: the record types and one streaming writer per format.

mod csv;
mod jsonl;
mod parquet;

use serde::ser::{Error as _, SerializeMap};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

pub use self::csv::CsvExportWriter;
pub use self::jsonl::JsonlExportWriter;
pub use self::parquet::{ParquetExportOptions, ParquetExportWriter};

/// One annotation of an exported item, as the requester sees it (pseudonymous annotator).
///
/// Serializes as `{"annotation_id":…, "annotator":…, "answers":…, "submitted_at":…, …extra}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExportAnnotation {
    /// Stable id of the annotation, so requesters can refer back to it.
    pub annotation_id: String,
    /// The annotator's per-project pseudonym; never an email or a user id.
    pub annotator: String,
    /// The answers, normally an object keyed by question name.
    pub answers: Value,
    /// When the annotation was submitted, RFC 3339 in UTC (e.g. `2026-11-23T10:00:00.123456Z`).
    pub submitted_at: String,
    /// Further keys written after the fixed ones (e.g. `guideline_version`), so new contract
    /// fields need no change here. A key that repeats a fixed one is refused by the writers.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One exported item: its data, every annotation and the aggregated answers.
///
/// Serializes as `{"id":…, "data":…, "annotations":[…], "aggregate":{…}, …extra}`, the JSONL
/// export line of the API contract.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExportItem {
    /// The item's external id (or the id Fairloop gave it when it was imported without one).
    pub id: String,
    /// The item's data as imported.
    pub data: Value,
    /// Every annotation of the item, in the order the caller gives (submission order).
    pub annotations: Vec<ExportAnnotation>,
    /// The aggregated answer per question name.
    pub aggregate: Map<String, Value>,
    /// Further keys written after the fixed ones; a key that repeats a fixed one is refused.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

const ANNOTATION_KEYS: [&str; 4] = ["annotation_id", "annotator", "answers", "submitted_at"];
const ITEM_KEYS: [&str; 4] = ["id", "data", "annotations", "aggregate"];

/// Writes `extra` after the fixed keys, refusing a key that would appear twice (a JSON object
/// with a duplicate key is read differently by different parsers).
fn serialize_extra<M: SerializeMap>(
    map: &mut M,
    extra: &Map<String, Value>,
    fixed: &[&str],
) -> Result<(), M::Error> {
    for (k, v) in extra {
        if fixed.contains(&k.as_str()) {
            return Err(M::Error::custom(format_args!(
                "extra key \"{k}\" repeats a fixed key"
            )));
        }
        map.serialize_entry(k, v)?;
    }
    Ok(())
}

// Hand-written rather than derived with `#[serde(flatten)]`: it keeps the key order fixed,
// refuses duplicate keys, and avoids flatten's slower generic path on the export hot loop.
impl Serialize for ExportAnnotation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(4 + self.extra.len()))?;
        map.serialize_entry("annotation_id", &self.annotation_id)?;
        map.serialize_entry("annotator", &self.annotator)?;
        map.serialize_entry("answers", &self.answers)?;
        map.serialize_entry("submitted_at", &self.submitted_at)?;
        serialize_extra(&mut map, &self.extra, &ANNOTATION_KEYS)?;
        map.end()
    }
}

impl Serialize for ExportItem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(4 + self.extra.len()))?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("data", &self.data)?;
        map.serialize_entry("annotations", &self.annotations)?;
        map.serialize_entry("aggregate", &self.aggregate)?;
        serialize_extra(&mut map, &self.extra, &ITEM_KEYS)?;
        map.end()
    }
}

#[cfg(test)]
pub(crate) mod test_data {
    use super::*;
    use serde_json::json;

    /// A small but varied export: Unicode, nested answers, extra keys, an item without
    /// annotations.
    pub(crate) fn items() -> Vec<ExportItem> {
        let ann = |id: &str, who: &str, answers: Value, at: &str| ExportAnnotation {
            annotation_id: id.into(),
            annotator: who.into(),
            answers,
            submitted_at: at.into(),
            extra: Map::new(),
        };
        let mut a3 = ann(
            "an-3",
            "w-Ωmega",
            json!({"label":"b","tags":["x","y"],"note":"comma, \"quote\"\nnewline"}),
            "2026-11-23T10:00:00.123456Z",
        );
        a3.extra.insert("guideline_version".into(), json!(3));
        let mut with_extra = ExportItem {
            id: "it-2 日本".into(),
            data: json!({"text":"héllo 🎉","nested":{"k":[1,2.5,null]}}),
            annotations: vec![a3],
            aggregate: Map::new(),
            extra: Map::new(),
        };
        with_extra.extra.insert("status".into(), json!("done"));
        vec![
            ExportItem {
                id: "it-1".into(),
                data: json!({"text":"a"}),
                annotations: vec![
                    ann(
                        "an-1",
                        "w-1",
                        json!({"label":"a","score":4}),
                        "2026-01-02T03:04:05Z",
                    ),
                    ann(
                        "an-2",
                        "w-2",
                        json!({"label":"b","score":true}),
                        "2026-01-02T04:04:05+01:00",
                    ),
                ],
                aggregate: json!({"label":"a"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                extra: Map::new(),
            },
            with_extra,
            ExportItem {
                id: "it-3".into(),
                data: json!({}),
                annotations: vec![],
                aggregate: Map::new(),
                extra: Map::new(),
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn item_key_order_is_fixed_and_extra_follows() {
        let item = &test_data::items()[1];
        let text = serde_json::to_string(item).unwrap();
        assert!(
            text.starts_with(r#"{"id":"it-2 日本","data":{"text":"héllo 🎉","#),
            "{text}"
        );
        assert!(
            text.contains(r#""submitted_at":"2026-11-23T10:00:00.123456Z","guideline_version":3}"#)
        );
        assert!(
            text.ends_with(r#""aggregate":{},"status":"done"}"#),
            "{text}"
        );
    }

    #[test]
    fn duplicate_extra_key_is_refused() {
        let mut item = test_data::items().remove(0);
        item.extra.insert("id".into(), json!("again"));
        let e = serde_json::to_string(&item).unwrap_err().to_string();
        assert_eq!(e, "extra key \"id\" repeats a fixed key");
        let mut item = test_data::items().remove(0);
        item.annotations[0]
            .extra
            .insert("answers".into(), json!(null));
        assert!(serde_json::to_string(&item).is_err());
    }
}
