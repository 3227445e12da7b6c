//! Exports for images and videos: COCO JSON, YOLO (a ZIP of label files), and JSONL of video events and tracks.
//!
//! Answers store shapes in normalized coordinates (fractions of the width and height), so an export in pixels
//! needs each image's size: from its media row when the item names an uploaded file, else from the item data's
//! `width` and `height`. Videos need a frame rate to turn seconds into frame numbers: the item data's `fps`
//! wins (the requester said so), else the media row's. Items are read in pages like every export, so memory
//! stays flat.
//!
//! - **COCO**: one JSON document. Categories come from the template (one per label of each `boxes`, `polygons`
//!   and `keypoints` question; keypoint categories carry `keypoints` and a 1-based `skeleton`); images are
//!   written in a first pass over the items and annotations in a second, one COCO annotation per shape per
//!   submitted annotation (with the annotator's pseudonym), so several workers' shapes all appear. An image
//!   whose size is unknown is listed with `width`/`height` null and its shapes are counted in
//!   `fairloop.annotations_skipped` rather than guessed.
//! - **YOLO**: `data.yaml` (class names; `kpt_shape` with keypoints), `labels/<image>.txt` per image with one
//!   line per shape (`class cx cy w h` for boxes, `class x1 y1 x2 y2 …` for polygons, `class cx cy w h px py v
//!   …` for keypoints, all normalized), and `images.csv` mapping each label file to its item and media. YOLO has
//!   no notion of several annotators: each image gets the consensus of its annotators' shapes (the one the live
//!   quality computes), or the only answer's shapes.
//! - **Video JSONL**: one line per item with its videos (size, duration, fps and where the fps came from) and,
//!   per annotation, its events with `start_frame`/`end_frame` and its tracks with each keyframe's `time`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use fairloop_domain::ProjectId;
use fairloop_domain::media::MediaRef;
use fairloop_domain::pseudonym::annotator_pseudonym;
use fairloop_domain::template::{FieldKind, QuestionKind, TaskTemplate};
use fairloop_domain::time::{now_millis, to_rfc3339};
use fairloop_store::media::MediaRow;
use fairloop_store::{ExportRow, Principal, Project, Store};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::export::{ExportFormat, ExportOptions, ExportProgress};
use crate::zipfile::ZipWriter;
use crate::{App, AppError, AppResult};

/// Items per page read from the store.
const PAGE: i64 = 1000;

/// A shape question and where its categories start.
#[derive(Debug, Clone)]
struct ShapeQuestion {
    name: String,
    kind: ShapeKind,
    /// The `image` field's data key.
    source: String,
    /// Its field name.
    field: String,
    labels: Vec<String>,
    /// Keypoint names (keypoints only).
    points: Vec<String>,
    skeleton: Vec<[usize; 2]>,
    /// COCO category id of `labels[0]`; the others follow.
    first_category: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ShapeKind {
    Boxes,
    Polygons,
    Keypoints,
}

/// A video question.
#[derive(Debug, Clone)]
struct VideoQuestion {
    name: String,
    events: bool,
    field: String,
    source: String,
}

/// A page of rows with the media rows their keys name.
type Page = (Vec<ExportRow>, HashMap<String, MediaRow>);

fn shape_questions(t: &TaskTemplate) -> Vec<ShapeQuestion> {
    let mut out = Vec::new();
    let mut next_category = 1;
    for q in &t.questions {
        let (kind, field, labels, points, skeleton) = match &q.kind {
            QuestionKind::Boxes { field, labels, .. } => {
                (ShapeKind::Boxes, field, labels, Vec::new(), Vec::new())
            }
            QuestionKind::Polygons { field, labels, .. } => {
                (ShapeKind::Polygons, field, labels, Vec::new(), Vec::new())
            }
            QuestionKind::Keypoints {
                field,
                labels,
                points,
                skeleton,
            } => (
                ShapeKind::Keypoints,
                field,
                labels,
                points.clone(),
                skeleton.clone(),
            ),
            _ => continue,
        };
        let source = t
            .field(field)
            .map(|f| f.source().to_string())
            .unwrap_or_else(|| field.clone());
        let labels: Vec<String> = labels.iter().map(|l| l.value.clone()).collect();
        out.push(ShapeQuestion {
            name: q.name.clone(),
            kind,
            source,
            field: field.clone(),
            first_category: next_category,
            labels: labels.clone(),
            points,
            skeleton,
        });
        next_category += labels.len();
    }
    out
}

fn video_questions(t: &TaskTemplate) -> Vec<VideoQuestion> {
    t.questions
        .iter()
        .filter_map(|q| {
            let (events, field) = match &q.kind {
                QuestionKind::VideoEvents { field, .. } => (true, field),
                QuestionKind::Tracks { field, .. } => (false, field),
                _ => return None,
            };
            Some(VideoQuestion {
                name: q.name.clone(),
                events,
                field: field.clone(),
                source: t
                    .field(field)
                    .map(|f| f.source().to_string())
                    .unwrap_or_else(|| field.clone()),
            })
        })
        .collect()
}

/// The media key a field value names, if it names one.
fn key_of(value: &Value) -> Option<String> {
    match MediaRef::parse(value.as_str()?) {
        Ok(MediaRef::Key(k)) => Some(k.to_string()),
        _ => None,
    }
}

/// A positive number at `data[key]`.
fn positive(data: &Map<String, Value>, key: &str) -> Option<f64> {
    data.get(key)
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite() && *v > 0.0)
}

/// The pixel size of the image in `source`: its media row, else the item's `width` and `height`.
fn image_size(
    data: &Map<String, Value>,
    source: &str,
    media: &HashMap<String, MediaRow>,
) -> Option<(f64, f64)> {
    let from_media = data
        .get(source)
        .and_then(key_of)
        .and_then(|k| media.get(&k))
        .and_then(|m| Some((m.width? as f64, m.height? as f64)));
    from_media.or_else(|| Some((positive(data, "width")?, positive(data, "height")?)))
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

/// The (x, y) pairs of a polygon answer.
fn polygon_points(shape: &Value) -> Vec<(f64, f64)> {
    shape["points"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
        .collect()
}

/// The (x, y, v) triples of a keypoints answer.
fn keypoint_triples(shape: &Value) -> Vec<(f64, f64, i64)> {
    shape["points"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some((
                p.get(0)?.as_f64()?,
                p.get(1)?.as_f64()?,
                p.get(2)?.as_i64()?,
            ))
        })
        .collect()
}

/// Area of a polygon by the shoelace formula.
fn shoelace(points: &[(f64, f64)]) -> f64 {
    let n = points.len();
    let twice: f64 = (0..n)
        .map(|i| {
            let (x1, y1) = points[i];
            let (x2, y2) = points[(i + 1) % n];
            x1 * y2 - x2 * y1
        })
        .sum();
    twice.abs() / 2.0
}

/// The bounding box (x, y, w, h) of points.
fn bounds(points: impl Iterator<Item = (f64, f64)>) -> Option<(f64, f64, f64, f64)> {
    let mut b: Option<(f64, f64, f64, f64)> = None;
    for (x, y) in points {
        b = Some(match b {
            None => (x, y, x, y),
            Some((a, c, d, e)) => (a.min(x), c.min(y), d.max(x), e.max(y)),
        });
    }
    b.map(|(x0, y0, x1, y1)| (x0, y0, x1 - x0, y1 - y0))
}

impl App {
    /// Starts a media export (see the module docs); `export_with` sends the media formats here after the
    /// project and the caller's role are checked.
    pub(crate) async fn export_media(
        &self,
        principal: &Principal,
        project: Project,
        template: Arc<TaskTemplate>,
        format: ExportFormat,
        options: ExportOptions,
        progress: Arc<ExportProgress>,
    ) -> AppResult<mpsc::Receiver<AppResult<Vec<u8>>>> {
        let shapes = shape_questions(&template);
        let videos = video_questions(&template);
        match format {
            ExportFormat::Coco | ExportFormat::Yolo if shapes.is_empty() => {
                return Err(AppError::bad_request(
                    "format_unsupported",
                    format!(
                        "format={} needs a template with boxes, polygons or keypoints questions; use jsonl",
                        format.name()
                    ),
                ));
            }
            ExportFormat::VideoJsonl if videos.is_empty() => {
                return Err(AppError::bad_request(
                    "format_unsupported",
                    "format=video_jsonl needs a template with video_events or tracks questions; use jsonl",
                ));
            }
            _ => {}
        }
        let key = self.store.installation_secret().await?;
        let ctx = Arc::new(Ctx {
            store: self.store.clone(),
            org: principal.org_id,
            project: project.id,
            project_name: project.name.clone(),
            key,
            template,
            shapes,
            videos,
            include_gold: options.include_gold,
            progress,
        });
        let (tx, rx) = mpsc::channel::<AppResult<Vec<u8>>>(4);
        tokio::spawn(async move {
            let result = match format {
                ExportFormat::Coco => coco(&ctx, &tx).await,
                ExportFormat::Yolo => yolo(&ctx, &tx).await,
                _ => video_jsonl(&ctx, &tx).await,
            };
            if let Err(e) = result {
                let _ = tx.send(Err(e)).await;
            }
        });
        Ok(rx)
    }
}

/// What the export tasks share.
struct Ctx {
    store: Arc<dyn Store>,
    org: i64,
    project: ProjectId,
    project_name: String,
    key: Vec<u8>,
    template: Arc<TaskTemplate>,
    shapes: Vec<ShapeQuestion>,
    videos: Vec<VideoQuestion>,
    include_gold: bool,
    progress: Arc<ExportProgress>,
}

impl Ctx {
    fn pseudonym(&self, cache: &mut HashMap<i64, String>, worker: i64) -> String {
        cache
            .entry(worker)
            .or_insert_with(|| annotator_pseudonym(&self.key, self.project, worker))
            .clone()
    }

    /// The data keys of the template's media fields.
    fn media_sources(&self) -> Vec<String> {
        self.template
            .fields
            .iter()
            .filter(|f| {
                matches!(
                    f.kind,
                    FieldKind::Image | FieldKind::Video | FieldKind::Audio
                )
            })
            .map(|f| f.source().to_string())
            .collect()
    }

    /// The next page after item `after` (up to item `upto` when given), gold items left out unless asked for,
    /// with the media rows its keys name. `None` at the end.
    async fn page(&self, after: i64, upto: Option<i64>) -> AppResult<Option<(i64, Page)>> {
        let mut rows = self
            .store
            .export_page(self.org, self.project, after, PAGE)
            .await?;
        let Some(last) = rows.last().map(|r| r.item_id) else {
            return Ok(None);
        };
        if let Some(u) = upto {
            rows.retain(|r| r.item_id <= u);
        }
        if !self.include_gold {
            let (_, gold) = self
                .store
                .export_quality_page(self.org, self.project, after, last)
                .await?;
            rows.retain(|r| !gold.contains_key(&r.item_id));
        }
        let sources = self.media_sources();
        let mut keys: HashSet<String> = HashSet::new();
        for r in &rows {
            if let Ok(Value::Object(d)) = serde_json::from_str::<Value>(&r.data) {
                keys.extend(sources.iter().filter_map(|s| d.get(s).and_then(key_of)));
            }
        }
        let media = self
            .store
            .media_by_keys(self.org, keys.into_iter().collect())
            .await?
            .into_iter()
            .map(|m| (m.key.clone(), m))
            .collect();
        Ok(Some((last, (rows, media))))
    }
}

fn data_of(row: &ExportRow) -> Map<String, Value> {
    match serde_json::from_str(&row.data) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn item_id(row: &ExportRow) -> String {
    row.external_id
        .clone()
        .unwrap_or_else(|| row.item_id.to_string())
}

async fn send(tx: &mpsc::Sender<AppResult<Vec<u8>>>, bytes: Vec<u8>) -> AppResult<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    tx.send(Ok(bytes))
        .await
        .map_err(|_| AppError::Internal("the export's reader went away".into()))
}

// -------------------------------------------------------------------------------------------------------------
// COCO
// -------------------------------------------------------------------------------------------------------------

/// The image fields shape questions use, in template order: (field name, data key).
fn image_fields(shapes: &[ShapeQuestion]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for s in shapes {
        if !out.iter().any(|(f, _)| *f == s.field) {
            out.push((s.field.clone(), s.source.clone()));
        }
    }
    out
}

fn coco_categories(shapes: &[ShapeQuestion]) -> Vec<Value> {
    let mut out = Vec::new();
    for s in shapes {
        for (i, label) in s.labels.iter().enumerate() {
            let mut c = json!({"id": s.first_category + i, "name": label, "supercategory": s.name});
            if s.kind == ShapeKind::Keypoints {
                c["keypoints"] = json!(s.points);
                // COCO numbers keypoints from 1 in the skeleton.
                c["skeleton"] = json!(
                    s.skeleton
                        .iter()
                        .map(|[a, b]| [a + 1, b + 1])
                        .collect::<Vec<_>>()
                );
            }
            out.push(c);
        }
    }
    out
}

/// The file name an image goes by in an export: its media key, or the last part of its URL's path.
fn image_file_name(value: &str) -> String {
    match MediaRef::parse(value) {
        Ok(MediaRef::Key(k)) => k.to_string(),
        Ok(MediaRef::Url { url, .. }) => url
            .split(['?', '#'])
            .next()
            .unwrap_or(url)
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("image")
            .to_string(),
        Err(_) => value.to_string(),
    }
}

async fn coco(ctx: &Ctx, tx: &mpsc::Sender<AppResult<Vec<u8>>>) -> AppResult<()> {
    let fields = image_fields(&ctx.shapes);
    let n_fields = fields.len() as i64;
    let image_id = |item: i64, field: usize| item * n_fields + field as i64;
    let head = json!({
        "description": format!("Fairloop project {}: {}", ctx.project, ctx.project_name),
        "version": "1.0",
        "date_created": to_rfc3339(now_millis()),
    });
    let mut out = format!(
        "{{\"info\":{},\"licenses\":[],\"categories\":{},\"images\":[",
        head,
        Value::Array(coco_categories(&ctx.shapes))
    )
    .into_bytes();

    // Pass 1: the images.
    let (mut after, mut first, mut last_item) = (0, true, 0);
    let mut without_size = 0u64;
    while let Some((last, (rows, media))) = ctx.page(after, None).await? {
        after = last;
        last_item = last;
        for row in &rows {
            let data = data_of(row);
            for (i, (field, source)) in fields.iter().enumerate() {
                let Some(value) = data.get(source).and_then(Value::as_str) else {
                    continue;
                };
                let size = image_size(&data, source, &media);
                if size.is_none() {
                    without_size += 1;
                }
                let mut img = json!({
                    "id": image_id(row.item_id, i),
                    "file_name": image_file_name(value),
                    // COCO readers expect whole pixels here.
                    "width": size.map(|s| s.0.round() as i64),
                    "height": size.map(|s| s.1.round() as i64),
                    "fairloop_item_id": item_id(row),
                    "fairloop_field": field,
                });
                match MediaRef::parse(value) {
                    Ok(MediaRef::Url { url, .. }) => img["coco_url"] = json!(url),
                    Ok(MediaRef::Key(k)) => img["fairloop_media_key"] = json!(k),
                    Err(_) => {}
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                serde_json::to_writer(&mut out, &img).expect("JSON to memory");
            }
            ctx.progress.items.fetch_add(1, Ordering::Relaxed);
        }
        send(tx, std::mem::take(&mut out)).await?;
    }
    out.extend_from_slice(b"],\"annotations\":[");

    // Pass 2: the shapes, up to the last item of pass 1 (items imported meanwhile have no image entry).
    let (mut after, mut first, mut next_id) = (0, true, 1u64);
    let mut skipped = 0u64;
    let mut pseudonyms = HashMap::new();
    while let Some((last, (rows, media))) = ctx.page(after, Some(last_item)).await? {
        after = last;
        for row in &rows {
            let data = data_of(row);
            for a in &row.annotations {
                let answers: Value = serde_json::from_str(&a.answers).unwrap_or(Value::Null);
                let annotator = ctx.pseudonym(&mut pseudonyms, a.worker_id);
                ctx.progress.annotations.fetch_add(1, Ordering::Relaxed);
                for q in &ctx.shapes {
                    let Some(list) = answers.get(&q.name).and_then(Value::as_array) else {
                        continue;
                    };
                    let field_index = fields.iter().position(|(f, _)| *f == q.field).unwrap_or(0);
                    let Some((w, h)) = image_size(&data, &q.source, &media) else {
                        skipped += list.len() as u64;
                        continue;
                    };
                    for shape in list {
                        let label = shape["label"].as_str().unwrap_or_default();
                        let Some(li) = q.labels.iter().position(|l| l == label) else {
                            continue;
                        };
                        let mut ann = json!({
                            "id": next_id,
                            "image_id": image_id(row.item_id, field_index),
                            "category_id": q.first_category + li,
                            "iscrowd": 0,
                            "annotator": annotator,
                            "fairloop_annotation_id": a.annotation_id.to_string(),
                            "fairloop_question": q.name,
                        });
                        match q.kind {
                            ShapeKind::Boxes => {
                                let (x, y) = (num(shape, "x") * w, num(shape, "y") * h);
                                let (bw, bh) = (num(shape, "w") * w, num(shape, "h") * h);
                                ann["bbox"] = json!([round2(x), round2(y), round2(bw), round2(bh)]);
                                ann["area"] = json!(round2(bw * bh));
                                ann["segmentation"] = json!([[
                                    round2(x),
                                    round2(y),
                                    round2(x + bw),
                                    round2(y),
                                    round2(x + bw),
                                    round2(y + bh),
                                    round2(x),
                                    round2(y + bh)
                                ]]);
                            }
                            ShapeKind::Polygons => {
                                let pts: Vec<(f64, f64)> = polygon_points(shape)
                                    .into_iter()
                                    .map(|(x, y)| (x * w, y * h))
                                    .collect();
                                let (bx, by, bw, bh) =
                                    bounds(pts.iter().copied()).unwrap_or((0.0, 0.0, 0.0, 0.0));
                                let flat: Vec<f64> = pts
                                    .iter()
                                    .flat_map(|(x, y)| [round2(*x), round2(*y)])
                                    .collect();
                                ann["segmentation"] = json!([flat]);
                                ann["area"] = json!(round2(shoelace(&pts)));
                                ann["bbox"] =
                                    json!([round2(bx), round2(by), round2(bw), round2(bh)]);
                            }
                            ShapeKind::Keypoints => {
                                let triples = keypoint_triples(shape);
                                let flat: Vec<Value> = triples
                                    .iter()
                                    .flat_map(|(x, y, v)| {
                                        if *v == 0 {
                                            [json!(0), json!(0), json!(0)]
                                        } else {
                                            [json!(round2(x * w)), json!(round2(y * h)), json!(v)]
                                        }
                                    })
                                    .collect();
                                let placed = triples.iter().filter(|t| t.2 > 0);
                                let (bx, by, bw, bh) =
                                    bounds(placed.map(|(x, y, _)| (x * w, y * h)))
                                        .unwrap_or((0.0, 0.0, 0.0, 0.0));
                                ann["keypoints"] = Value::Array(flat);
                                ann["num_keypoints"] =
                                    json!(triples.iter().filter(|t| t.2 > 0).count());
                                ann["bbox"] =
                                    json!([round2(bx), round2(by), round2(bw), round2(bh)]);
                                ann["area"] = json!(round2(bw * bh));
                            }
                        }
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        next_id += 1;
                        serde_json::to_writer(&mut out, &ann).expect("JSON to memory");
                    }
                }
            }
        }
        send(tx, std::mem::take(&mut out)).await?;
    }
    out.extend_from_slice(
        format!(
            "],\"fairloop\":{}}}\n",
            json!({"images_without_size": without_size, "annotations_skipped": skipped})
        )
        .as_bytes(),
    );
    send(tx, out).await
}

// -------------------------------------------------------------------------------------------------------------
// YOLO
// -------------------------------------------------------------------------------------------------------------

/// A file-name stem for the label file of an image: the key's path with `/` turned into `__` and no extension.
fn label_stem(value: &str) -> String {
    let name = match MediaRef::parse(value) {
        Ok(MediaRef::Key(k)) => k.replace('/', "__"),
        _ => image_file_name(value),
    };
    let stem = match name.rsplit_once('.') {
        Some((s, ext)) if !s.is_empty() && ext.len() <= 5 => s.to_string(),
        _ => name,
    };
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(150)
        .collect();
    if clean.is_empty() {
        "image".into()
    } else {
        clean
    }
}

fn yaml_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// The shapes YOLO writes for an item, as an answer object (question name to its list of shapes): per shape
/// question, the consensus of the submitted answers ([`fairloop_domain::template::shapes::consensus`], the same
/// the live quality shows: a shape more than half of the annotators drew, boxes averaged, polygons and keypoints
/// by their medoid) when two or more answered, the one answer when one did, nothing when none did.
fn consensus_answers(template: &TaskTemplate, shapes: &[ShapeQuestion], row: &ExportRow) -> Value {
    let parsed: Vec<Value> = row
        .annotations
        .iter()
        .filter_map(|a| serde_json::from_str(&a.answers).ok())
        .collect();
    let mut out = Map::new();
    for q in shapes {
        let Some(kind) = template.question(&q.name).map(|t| &t.kind) else {
            continue;
        };
        let given: Vec<&Value> = parsed
            .iter()
            .filter_map(|a| a.get(&q.name).filter(|v| !v.is_null()))
            .collect();
        let value = match given.as_slice() {
            [] => continue,
            [one] => (*one).clone(),
            many => match fairloop_domain::template::shapes::consensus(kind, many) {
                Some((v, _)) => v,
                None => continue,
            },
        };
        out.insert(q.name.clone(), value);
    }
    Value::Object(out)
}

async fn yolo(ctx: &Ctx, tx: &mpsc::Sender<AppResult<Vec<u8>>>) -> AppResult<()> {
    let time = to_rfc3339(now_millis());
    let part = |a: usize, b: usize| time.get(a..b).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut zip = ZipWriter::new((
        part(0, 4),
        part(5, 7),
        part(8, 10),
        part(11, 13),
        part(14, 16),
        part(17, 19),
    ))
    .map_err(|e| AppError::Internal(format!("zip writer: {e}")))?;
    // One class per distinct label value, in template order.
    let mut names: Vec<String> = Vec::new();
    for s in &ctx.shapes {
        for l in &s.labels {
            if !names.contains(l) {
                names.push(l.clone());
            }
        }
    }
    let kpt = ctx.shapes.iter().find(|s| s.kind == ShapeKind::Keypoints);
    let mut yaml = format!(
        "# YOLO labels exported by Fairloop from project {} ({}) on {time}.\n\
         # labels/<image>.txt: one line per shape, coordinates normalized to 0..1:\n\
         #   boxes: class cx cy w h; polygons: class x1 y1 x2 y2 ...; keypoints: class cx cy w h px py v ...\n\
         # images.csv maps each label file to its item and image. With several annotators per item, each image\n\
         # carries their consensus shapes (those more than half of them drew; see docs/media.md); with one, its\n\
         # shapes. The COCO export has every annotator's shapes.\n\
         path: .\ntrain: images\nval: images\nnc: {}\nnames:\n",
        ctx.project,
        yaml_string(&ctx.project_name),
        names.len()
    );
    for (i, n) in names.iter().enumerate() {
        yaml.push_str(&format!("  {i}: {}\n", yaml_string(n)));
    }
    if let Some(k) = kpt {
        yaml.push_str(&format!("kpt_shape: [{}, 3]\n", k.points.len()));
    }
    let zerr = |e: std::io::Error| AppError::Internal(format!("zip writer: {e}"));
    zip.add("data.yaml", yaml.as_bytes()).map_err(zerr)?;
    let fields = image_fields(&ctx.shapes);
    let mut csv = String::from("label_file,item_id,field,image,width,height\n");
    let mut used: HashSet<String> = HashSet::new();
    let mut after = 0;
    while let Some((last, (rows, media))) = ctx.page(after, None).await? {
        after = last;
        for row in &rows {
            let data = data_of(row);
            let answers = consensus_answers(&ctx.template, &ctx.shapes, row);
            ctx.progress.items.fetch_add(1, Ordering::Relaxed);
            ctx.progress
                .annotations
                .fetch_add(row.annotations.len() as u64, Ordering::Relaxed);
            for (field, source) in &fields {
                let Some(value) = data.get(source).and_then(Value::as_str) else {
                    continue;
                };
                let mut stem = label_stem(value);
                if !used.insert(stem.clone()) {
                    stem = format!("{stem}-{}", row.item_id);
                    used.insert(stem.clone());
                }
                let mut lines = String::new();
                for q in ctx.shapes.iter().filter(|q| q.field == *field) {
                    for shape in answers
                        .get(&q.name)
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let label = shape["label"].as_str().unwrap_or_default();
                        let Some(class) = names.iter().position(|n| n == label) else {
                            continue;
                        };
                        let mut parts = vec![class.to_string()];
                        match q.kind {
                            ShapeKind::Boxes => {
                                let (x, y, w, h) = (
                                    num(shape, "x"),
                                    num(shape, "y"),
                                    num(shape, "w"),
                                    num(shape, "h"),
                                );
                                parts.extend(
                                    [x + w / 2.0, y + h / 2.0, w, h].map(|v| round6(v).to_string()),
                                );
                            }
                            ShapeKind::Polygons => {
                                parts.extend(
                                    polygon_points(shape)
                                        .into_iter()
                                        .flat_map(|(x, y)| [round6(x), round6(y)])
                                        .map(|v| v.to_string()),
                                );
                            }
                            ShapeKind::Keypoints => {
                                let t = keypoint_triples(shape);
                                let (bx, by, bw, bh) =
                                    bounds(t.iter().filter(|p| p.2 > 0).map(|(x, y, _)| (*x, *y)))
                                        .unwrap_or((0.0, 0.0, 0.0, 0.0));
                                parts.extend(
                                    [bx + bw / 2.0, by + bh / 2.0, bw, bh]
                                        .map(|v| round6(v).to_string()),
                                );
                                for (x, y, v) in t {
                                    parts.extend([
                                        round6(x).to_string(),
                                        round6(y).to_string(),
                                        v.to_string(),
                                    ]);
                                }
                            }
                        }
                        lines.push_str(&parts.join(" "));
                        lines.push('\n');
                    }
                }
                zip.add(&format!("labels/{stem}.txt"), lines.as_bytes())
                    .map_err(zerr)?;
                let size = image_size(&data, source, &media);
                let mut w = csv::Writer::from_writer(Vec::new());
                let _ = w.write_record([
                    format!("labels/{stem}.txt"),
                    item_id(row),
                    field.clone(),
                    value.to_string(),
                    size.map(|s| s.0.to_string()).unwrap_or_default(),
                    size.map(|s| s.1.to_string()).unwrap_or_default(),
                ]);
                csv.push_str(&String::from_utf8_lossy(
                    &w.into_inner().unwrap_or_default(),
                ));
            }
        }
        send(tx, zip.take()).await?;
    }
    zip.add("images.csv", csv.as_bytes()).map_err(zerr)?;
    let tail = zip.finish().map_err(zerr)?;
    send(tx, tail).await
}

// -------------------------------------------------------------------------------------------------------------
// Video JSONL
// -------------------------------------------------------------------------------------------------------------

/// Frame number of time `t` at `fps`: the frame being shown at that moment (frame k covers [k/fps, (k+1)/fps)).
fn frame_at(t: f64, fps: f64, frames: Option<u64>) -> u64 {
    let f = (t * fps + 1e-6).floor().max(0.0) as u64;
    match frames {
        Some(n) if n > 0 => f.min(n - 1),
        _ => f,
    }
}

async fn video_jsonl(ctx: &Ctx, tx: &mpsc::Sender<AppResult<Vec<u8>>>) -> AppResult<()> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for v in &ctx.videos {
        if !fields.iter().any(|(f, _)| *f == v.field) {
            fields.push((v.field.clone(), v.source.clone()));
        }
    }
    let mut pseudonyms = HashMap::new();
    let mut after = 0;
    while let Some((last, (rows, media))) = ctx.page(after, None).await? {
        after = last;
        let mut out = Vec::new();
        for row in &rows {
            let data = data_of(row);
            // Per video field: its description and the fps used for frame numbers.
            let mut videos = Map::new();
            let mut rates: HashMap<&str, (Option<f64>, Option<u64>)> = HashMap::new();
            for (field, source) in &fields {
                let value = data.get(source).and_then(Value::as_str);
                let m = data
                    .get(source)
                    .and_then(key_of)
                    .and_then(|k| media.get(&k));
                let (fps, fps_source) = match (positive(&data, "fps"), m.and_then(|m| m.fps)) {
                    (Some(f), _) => (Some(f), json!("item")),
                    (None, Some(f)) => (Some(f), json!("media")),
                    _ => (None, Value::Null),
                };
                let duration = m
                    .and_then(|m| m.duration_seconds)
                    .or_else(|| positive(&data, "duration"));
                let frames = match (fps, duration) {
                    (Some(f), Some(d)) => Some((f * d).round() as u64),
                    _ => None,
                };
                rates.insert(field.as_str(), (fps, frames));
                videos.insert(
                    field.clone(),
                    json!({
                        "source": value,
                        "media_key": m.map(|m| m.key.clone()),
                        "width": m.and_then(|m| m.width).map(|v| v as f64).or_else(|| positive(&data, "width")),
                        "height": m.and_then(|m| m.height).map(|v| v as f64).or_else(|| positive(&data, "height")),
                        "duration": duration,
                        "fps": fps,
                        "fps_source": fps_source,
                        "frame_count": frames,
                    }),
                );
            }
            let mut annotations = Vec::new();
            for a in &row.annotations {
                let answers: Value = serde_json::from_str(&a.answers).unwrap_or(Value::Null);
                let (mut events, mut tracks) = (Vec::new(), Vec::new());
                for q in &ctx.videos {
                    let (fps, frames) =
                        rates.get(q.field.as_str()).copied().unwrap_or((None, None));
                    for v in answers
                        .get(&q.name)
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if q.events {
                            let (start, end) = (num(v, "start"), num(v, "end"));
                            events.push(json!({
                                "question": q.name,
                                "field": q.field,
                                "label": v["label"],
                                "start": start,
                                "end": end,
                                "start_frame": fps.map(|f| frame_at(start, f, frames)),
                                "end_frame": fps.map(|f| frame_at(end, f, frames)),
                                "severity": v.get("severity").cloned().unwrap_or(Value::Null),
                                "note": v.get("note").cloned().unwrap_or(Value::Null),
                            }));
                        } else {
                            let keyframes: Vec<Value> = v["keyframes"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(|k| {
                                    let frame = k["frame"].as_u64().unwrap_or(0);
                                    json!({
                                        "frame": frame,
                                        "time": fps.map(|f| round6(frame as f64 / f)),
                                        "x": k["x"], "y": k["y"], "w": k["w"], "h": k["h"],
                                        "outside": k.get("outside").and_then(Value::as_bool).unwrap_or(false),
                                    })
                                })
                                .collect();
                            tracks.push(json!({
                                "question": q.name,
                                "field": q.field,
                                "id": v["id"],
                                "label": v["label"],
                                "keyframes": keyframes,
                            }));
                        }
                    }
                }
                annotations.push(json!({
                    "annotation_id": a.annotation_id.to_string(),
                    "annotator": ctx.pseudonym(&mut pseudonyms, a.worker_id),
                    "submitted_at": to_rfc3339(a.submitted_at),
                    "events": events,
                    "tracks": tracks,
                }));
            }
            ctx.progress.items.fetch_add(1, Ordering::Relaxed);
            ctx.progress
                .annotations
                .fetch_add(row.annotations.len() as u64, Ordering::Relaxed);
            serde_json::to_writer(
                &mut out,
                &json!({"id": item_id(row), "data": data, "videos": videos, "annotations": annotations}),
            )
            .expect("JSON to memory");
            out.push(b'\n');
        }
        send(tx, out).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_helpers() {
        assert_eq!(
            shoelace(&[(0.0, 0.0), (4.0, 0.0), (4.0, 3.0), (0.0, 3.0)]),
            12.0
        );
        assert_eq!(
            bounds([(1.0, 5.0), (3.0, 2.0)].into_iter()),
            Some((1.0, 2.0, 2.0, 3.0))
        );
        assert_eq!(frame_at(1.0, 25.0, None), 25);
        assert_eq!(frame_at(0.999, 25.0, None), 24);
        assert_eq!(frame_at(2.0, 25.0, Some(50)), 49);
        assert_eq!(label_stem("media:scans/a.b/x-ray.png"), "scans__a.b__x-ray");
        assert_eq!(label_stem("https://cdn.test/p/q.jpg?sig=1"), "q");
    }
}
