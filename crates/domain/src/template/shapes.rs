//! Geometry for the answers of shape questions (`boxes`, `polygons`, `keypoints`, `video_events`, `tracks`): how
//! similar two shapes are, how two workers' lists of shapes are matched, how much two answers agree, and the
//! consensus of several answers.
//!
//! Gold scoring ([`super::gold`]) and the live quality job (`fairloop-app`) use the same measures, so "agreement"
//! and "gold accuracy" of a shape question mean the same thing. Everything works on normalized coordinates (0..1
//! of the image's width and height), as answers store them; the measures below are all scale-free.
//!
//! Similarity of two shapes with the same label (shapes with different labels never match):
//! - boxes: intersection over union (IoU) of the rectangles;
//! - polygons: IoU of the areas, exact for any simple polygon, convex or not (see [`polygon_intersection_area`]);
//! - keypoints: object keypoint similarity (OKS, as COCO defines it) with one constant `k` = [`OKS_K`] for every
//!   point and the object's scale taken from the bounding box of the placed points (see [`oks`]);
//! - video events: temporal IoU of the two time ranges, each widened to at least [`MIN_EVENT_SECONDS`] so instants
//!   can match;
//! - tracks: the mean over the frames either track covers of the IoU of the two (interpolated) boxes, 0 on frames
//!   only one covers (a spatio-temporal IoU).
//!
//! Two answers are matched per label, greedily: the most similar pair first, then the most similar of the rest,
//! and so on. (The Hungarian method maximises the total instead; with the threshold of 0.5 used here two shapes
//! can match at most one partner above it on each side in all but contrived cases, so greedy is what COCO's own
//! evaluation does too, and it is O(n·m log nm).)
//!
//! - **Agreement** of two answers: `2 · Σ similarity of matched pairs / (n + m)`, 1 for two empty answers. It is
//!   1 for identical answers, drops with every shape one worker drew and the other did not, and with every
//!   mismatch in position.
//! - **Gold score** (default): F1 of the shapes found, a shape counting as found when it matches a gold shape with
//!   similarity at least the threshold (default [`DEFAULT_THRESHOLD`]): `2k / (n + m)`.

use serde_json::{Map, Value, json};

use super::question::QuestionKind;

/// The similarity two shapes need to count as the same object in gold scoring and in consensus clusters.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// OKS's per-keypoint constant (COCO's `k = 2σ`; COCO's own values range from 0.05 for eyes to 0.2 for hips; 0.1
/// is a middle value for templates that name arbitrary points).
pub const OKS_K: f64 = 0.1;

/// The smallest area (as a share of the image) an object's scale is taken to have in OKS, so a tiny or one-point
/// object does not make every small distance a total miss.
pub const OKS_MIN_AREA: f64 = 0.0025;

/// Events shorter than this (in seconds, including instants) are widened to it, around their middle, for temporal
/// IoU: two marks of the same instant a few frames apart should match.
pub const MIN_EVENT_SECONDS: f64 = 0.5;

/// Tracks longer than this many frames are compared on this many evenly spaced frames, to bound the cost.
pub const MAX_TRACK_FRAMES: i64 = 5_000;

/// An axis-aligned rectangle: top-left corner and size, normalized.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    fn from_obj(v: &Value) -> Option<Rect> {
        Some(Rect {
            x: v.get("x")?.as_f64()?,
            y: v.get("y")?.as_f64()?,
            w: v.get("w")?.as_f64()?,
            h: v.get("h")?.as_f64()?,
        })
    }

    fn area(&self) -> f64 {
        self.w.max(0.0) * self.h.max(0.0)
    }
}

/// Intersection over union of two rectangles (0 when either has no area).
pub fn box_iou(a: Rect, b: Rect) -> f64 {
    let iw = ((a.x + a.w).min(b.x + b.w) - a.x.max(b.x)).max(0.0);
    let ih = ((a.y + a.h).min(b.y + b.h) - a.y.max(b.y)).max(0.0);
    let inter = iw * ih;
    let union = a.area() + b.area() - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

/// Signed area of a polygon (positive when its points run counter-clockwise in a y-up frame).
fn signed_area(p: &[(f64, f64)]) -> f64 {
    let n = p.len();
    (0..n)
        .map(|i| {
            let (a, b) = (p[i], p[(i + 1) % n]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum::<f64>()
        / 2.0
}

/// The area of a polygon (its points in order; the outline closes by itself).
pub fn polygon_area(p: &[(f64, f64)]) -> f64 {
    signed_area(p).abs()
}

/// Clips convex polygon `subject` by convex, counter-clockwise polygon `clip` (Sutherland–Hodgman).
fn clip_convex(subject: &[(f64, f64)], clip: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = subject.to_vec();
    let n = clip.len();
    for i in 0..n {
        if out.is_empty() {
            break;
        }
        let (a, b) = (clip[i], clip[(i + 1) % n]);
        let side = |p: (f64, f64)| (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0);
        let input = std::mem::take(&mut out);
        let m = input.len();
        for j in 0..m {
            let (p, q) = (input[j], input[(j + 1) % m]);
            let (sp, sq) = (side(p), side(q));
            if sp >= 0.0 {
                out.push(p);
            }
            if (sp >= 0.0) != (sq >= 0.0) {
                let t = sp / (sp - sq);
                out.push((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)));
            }
        }
    }
    out
}

/// The area two polygons share; exact for simple polygons whether convex or not (and for self-intersecting ones
/// it counts each region by its winding number).
///
/// Each polygon is the signed sum of the triangles its edges make with one origin point (the "fan"): on any point
/// of the plane the signs add up to 1 inside and 0 outside. So the shared area is the sum over every pair of
/// triangles (one from each fan) of the signed area the two triangles share, and two triangles are convex, which
/// Sutherland–Hodgman clipping handles exactly. It costs n·m small clips (two 100-point non-convex outlines: 10 000
/// clips, about 12 ms in an unoptimized test build; checked against a raster count in the tests), needs no
/// dependency (the `geo` crate's boolean operations would add geo, geo-types, rstar, i_overlay and friends to every
/// build for one function), and has no special cases for touching edges or shared vertices, which are
/// what make general polygon clipping (Greiner–Hormann, Weiler–Atherton) fragile.
pub fn polygon_intersection_area(a: &[(f64, f64)], b: &[(f64, f64)]) -> f64 {
    if a.len() < 3 || b.len() < 3 {
        return 0.0;
    }
    // The origin of both fans: a point near both shapes keeps the triangles small and the sums well conditioned.
    let o = a[0];
    let fan = |p: &[(f64, f64)]| -> Vec<(f64, [(f64, f64); 3])> {
        let n = p.len();
        (0..n)
            .filter_map(|i| {
                let (u, v) = (p[i], p[(i + 1) % n]);
                let s = (u.0 - o.0) * (v.1 - o.1) - (v.0 - o.0) * (u.1 - o.1);
                if s.abs() < 1e-18 {
                    None
                } else if s > 0.0 {
                    Some((1.0, [o, u, v]))
                } else {
                    Some((-1.0, [o, v, u]))
                }
            })
            .collect()
    };
    let (fa, fb) = (fan(a), fan(b));
    let orient = signed_area(a).signum() * signed_area(b).signum();
    let mut total = 0.0;
    for (sa, ta) in &fa {
        for (sb, tb) in &fb {
            let piece = clip_convex(ta, tb);
            if piece.len() >= 3 {
                total += sa * sb * polygon_area(&piece);
            }
        }
    }
    (total * orient).max(0.0)
}

/// Intersection over union of two polygons (0 when either has no area).
pub fn polygon_iou(a: &[(f64, f64)], b: &[(f64, f64)]) -> f64 {
    let inter = polygon_intersection_area(a, b);
    let union = polygon_area(a) + polygon_area(b) - inter;
    if union <= 1e-15 {
        0.0
    } else {
        (inter / union).clamp(0.0, 1.0)
    }
}

/// Object keypoint similarity of two objects' points `[x, y, v]` (v = 0: not placed).
///
/// Per point placed in both: `exp(-d² / (2 · s² · k²))` with `d` the distance, `k` = [`OKS_K`] and `s²` the object's
/// area: the mean of the areas of the bounding boxes of each object's placed points (at least [`OKS_MIN_AREA`]). A
/// point placed in one and not the other scores 0; points placed in neither do not count. The result is the mean
/// over counted points; 1 when no point is placed in either.
pub fn oks(a: &[(f64, f64, u8)], b: &[(f64, f64, u8)]) -> f64 {
    let area = |p: &[(f64, f64, u8)]| {
        let placed: Vec<_> = p.iter().filter(|q| q.2 > 0).collect();
        if placed.is_empty() {
            return None;
        }
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for q in placed {
            x0 = x0.min(q.0);
            y0 = y0.min(q.1);
            x1 = x1.max(q.0);
            y1 = y1.max(q.1);
        }
        Some((x1 - x0) * (y1 - y0))
    };
    let s2 = match (area(a), area(b)) {
        (Some(x), Some(y)) => (x + y) / 2.0,
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => return 1.0,
    }
    .max(OKS_MIN_AREA);
    let (mut sum, mut n) = (0.0, 0usize);
    for (p, q) in a.iter().zip(b) {
        match (p.2 > 0, q.2 > 0) {
            (false, false) => {}
            (true, true) => {
                let d2 = (p.0 - q.0).powi(2) + (p.1 - q.1).powi(2);
                sum += (-d2 / (2.0 * s2 * OKS_K * OKS_K)).exp();
                n += 1;
            }
            _ => n += 1,
        }
    }
    // Lists of different lengths (not valid answers) count the extra points as misses.
    n += a.len().abs_diff(b.len());
    if n == 0 { 1.0 } else { sum / n as f64 }
}

/// Temporal IoU of two time ranges in seconds, each widened to at least [`MIN_EVENT_SECONDS`] around its middle.
pub fn interval_iou(a: (f64, f64), b: (f64, f64)) -> f64 {
    let widen = |(s, e): (f64, f64)| {
        if e - s >= MIN_EVENT_SECONDS {
            (s, e)
        } else {
            let mid = (s + e) / 2.0;
            (mid - MIN_EVENT_SECONDS / 2.0, mid + MIN_EVENT_SECONDS / 2.0)
        }
    };
    let (a, b) = (widen(a), widen(b));
    let inter = (a.1.min(b.1) - a.0.max(b.0)).max(0.0);
    let union = (a.1 - a.0) + (b.1 - b.0) - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

/// One keyframe of a track.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Keyframe {
    /// Frame number from 0.
    pub frame: i64,
    /// The box on that frame.
    pub rect: Rect,
    /// The object is out of the picture from this frame until the next keyframe.
    pub outside: bool,
}

/// The box of a track on `frame`: linear interpolation between the keyframes around it; `None` before the first
/// keyframe, after the last one, and while the object is outside. (The last keyframe's own frame is covered.)
pub fn track_box(keyframes: &[Keyframe], frame: i64) -> Option<Rect> {
    let i = keyframes.partition_point(|k| k.frame <= frame);
    if i == 0 {
        return None;
    }
    let k0 = keyframes[i - 1];
    if k0.outside {
        return None;
    }
    if k0.frame == frame {
        return Some(k0.rect);
    }
    let k1 = keyframes.get(i)?;
    let t = (frame - k0.frame) as f64 / (k1.frame - k0.frame) as f64;
    let lerp = |a: f64, b: f64| a + (b - a) * t;
    Some(Rect {
        x: lerp(k0.rect.x, k1.rect.x),
        y: lerp(k0.rect.y, k1.rect.y),
        w: lerp(k0.rect.w, k1.rect.w),
        h: lerp(k0.rect.h, k1.rect.h),
    })
}

/// Spatio-temporal similarity of two tracks: the mean per-frame box IoU over the frames either covers (0 on frames
/// only one covers). Long spans are sampled at [`MAX_TRACK_FRAMES`] evenly spaced frames.
pub fn track_similarity(a: &[Keyframe], b: &[Keyframe]) -> f64 {
    let (Some(fa), Some(fb)) = (a.first(), b.first()) else {
        return if a.is_empty() && b.is_empty() {
            1.0
        } else {
            0.0
        };
    };
    let first = fa.frame.min(fb.frame);
    let last = a
        .last()
        .map_or(0, |k| k.frame)
        .max(b.last().map_or(0, |k| k.frame));
    let span = last - first + 1;
    let step = (span / MAX_TRACK_FRAMES).max(1);
    let (mut sum, mut n) = (0.0, 0usize);
    let mut f = first;
    while f <= last {
        match (track_box(a, f), track_box(b, f)) {
            (Some(x), Some(y)) => {
                sum += box_iou(x, y);
                n += 1;
            }
            (None, None) => {}
            _ => n += 1,
        }
        f += step;
    }
    if n == 0 { 1.0 } else { sum / n as f64 }
}

/// One shape of an answer, parsed; what it is depends on the question type.
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    /// A box.
    Box(Rect),
    /// A polygon's points.
    Polygon(Vec<(f64, f64)>),
    /// Keypoints `[x, y, v]`.
    Points(Vec<(f64, f64, u8)>),
    /// A time range in seconds.
    Event(f64, f64),
    /// A track's keyframes, in frame order.
    Track(Vec<Keyframe>),
}

/// A labelled shape of an answer, with the JSON it came from (kept for consensus, which returns members as given).
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// The label's value.
    pub label: String,
    /// The geometry.
    pub geometry: Geometry,
    /// The shape as it was in the answer.
    pub raw: Value,
}

/// Whether answers of `kind` are lists of shapes that this module compares.
pub fn is_shape_kind(kind: &QuestionKind) -> bool {
    matches!(
        kind,
        QuestionKind::Boxes { .. }
            | QuestionKind::Polygons { .. }
            | QuestionKind::Keypoints { .. }
            | QuestionKind::VideoEvents { .. }
            | QuestionKind::Tracks { .. }
    )
}

/// The name of the similarity a shape question uses, for reports: `iou`, `temporal_iou`, `oks` or
/// `track_iou`; `None` for other kinds.
pub fn measure_name(kind: &QuestionKind) -> Option<&'static str> {
    Some(match kind {
        QuestionKind::Boxes { .. } | QuestionKind::Polygons { .. } => "iou",
        QuestionKind::Keypoints { .. } => "oks",
        QuestionKind::VideoEvents { .. } => "temporal_iou",
        QuestionKind::Tracks { .. } => "track_iou",
        _ => return None,
    })
}

fn pair(v: &Value) -> Option<(f64, f64)> {
    let a = v.as_array()?;
    Some((a.first()?.as_f64()?, a.get(1)?.as_f64()?))
}

/// Parses an answer of a shape question into its shapes; entries that do not parse are left out (answers were
/// validated when submitted, so that only happens to hand-made input).
pub fn parse_shapes(kind: &QuestionKind, answer: &Value) -> Vec<Shape> {
    let mut out = Vec::new();
    for item in answer.as_array().into_iter().flatten() {
        let Some(label) = item.get("label").and_then(Value::as_str) else {
            continue;
        };
        let geometry = match kind {
            QuestionKind::Boxes { .. } => Rect::from_obj(item).map(Geometry::Box),
            QuestionKind::Polygons { .. } => item
                .get("points")
                .and_then(Value::as_array)
                .and_then(|ps| ps.iter().map(pair).collect::<Option<Vec<_>>>())
                .map(Geometry::Polygon),
            QuestionKind::Keypoints { .. } => item
                .get("points")
                .and_then(Value::as_array)
                .and_then(|ps| {
                    ps.iter()
                        .map(|p| {
                            let (x, y) = pair(p)?;
                            let v = p.get(2)?.as_u64()?;
                            Some((x, y, v.min(2) as u8))
                        })
                        .collect::<Option<Vec<_>>>()
                })
                .map(Geometry::Points),
            QuestionKind::VideoEvents { .. } => {
                match (
                    item.get("start").and_then(Value::as_f64),
                    item.get("end").and_then(Value::as_f64),
                ) {
                    (Some(s), Some(e)) => Some(Geometry::Event(s, e)),
                    _ => None,
                }
            }
            QuestionKind::Tracks { .. } => item
                .get("keyframes")
                .and_then(Value::as_array)
                .and_then(|ks| {
                    ks.iter()
                        .map(|k| {
                            Some(Keyframe {
                                frame: k.get("frame")?.as_i64()?,
                                rect: Rect::from_obj(k)?,
                                outside: k.get("outside").and_then(Value::as_bool).unwrap_or(false),
                            })
                        })
                        .collect::<Option<Vec<_>>>()
                })
                .map(|mut ks| {
                    ks.sort_by_key(|k| k.frame);
                    Geometry::Track(ks)
                }),
            _ => None,
        };
        if let Some(geometry) = geometry {
            out.push(Shape {
                label: label.to_string(),
                geometry,
                raw: item.clone(),
            });
        }
    }
    out
}

/// Similarity of two shapes from 0 to 1; 0 when the labels or kinds differ.
pub fn similarity(a: &Shape, b: &Shape) -> f64 {
    if a.label != b.label {
        return 0.0;
    }
    match (&a.geometry, &b.geometry) {
        (Geometry::Box(x), Geometry::Box(y)) => box_iou(*x, *y),
        (Geometry::Polygon(x), Geometry::Polygon(y)) => polygon_iou(x, y),
        (Geometry::Points(x), Geometry::Points(y)) => oks(x, y),
        (Geometry::Event(s1, e1), Geometry::Event(s2, e2)) => interval_iou((*s1, *e1), (*s2, *e2)),
        (Geometry::Track(x), Geometry::Track(y)) => track_similarity(x, y),
        _ => 0.0,
    }
}

/// Greedy matching of two lists of shapes: pairs `(i, j, similarity)`, most similar first, each shape in at most
/// one pair, only pairs with similarity above 0 and at least `min`.
pub fn match_shapes(a: &[Shape], b: &[Shape], min: f64) -> Vec<(usize, usize, f64)> {
    let mut pairs: Vec<(usize, usize, f64)> = Vec::new();
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            let s = similarity(x, y);
            if s > 0.0 && s >= min {
                pairs.push((i, j, s));
            }
        }
    }
    // Ties broken by position, so the result does not depend on the sort's stability.
    pairs.sort_by(|p, q| q.2.total_cmp(&p.2).then(p.0.cmp(&q.0)).then(p.1.cmp(&q.1)));
    let (mut used_a, mut used_b) = (vec![false; a.len()], vec![false; b.len()]);
    let mut out = Vec::new();
    for (i, j, s) in pairs {
        if !used_a[i] && !used_b[j] {
            used_a[i] = true;
            used_b[j] = true;
            out.push((i, j, s));
        }
    }
    out
}

/// Agreement of two answers' shapes: `2 · Σ similarity of matched pairs / (n + m)`; 1 when both are empty.
pub fn agreement(a: &[Shape], b: &[Shape]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let total: f64 = match_shapes(a, b, 0.0).iter().map(|p| p.2).sum();
    (2.0 * total / (a.len() + b.len()) as f64).clamp(0.0, 1.0)
}

/// F1 of the shapes of `a` found in `gold`: a shape is found when it matches a gold shape with similarity at least
/// `threshold`; 1 when both are empty.
pub fn f1_at(a: &[Shape], gold: &[Shape], threshold: f64) -> f64 {
    if a.is_empty() && gold.is_empty() {
        return 1.0;
    }
    let found = match_shapes(a, gold, threshold).len();
    2.0 * found as f64 / (a.len() + gold.len()) as f64
}

/// The consensus of several answers to one shape question, as an answer in the question's format.
///
/// Shapes are clustered: each answer in turn is matched (greedily, similarity at least [`DEFAULT_THRESHOLD`]) to
/// the clusters found so far, by each cluster's first shape; unmatched shapes open new clusters. A cluster with
/// shapes from more than half of the answers becomes one consensus shape:
/// - boxes: the mean box;
/// - video events: the mean start and end, and the most frequent severity (ties: the earliest answer's);
/// - polygons, keypoints, tracks: the member with the highest mean similarity to the other members (the medoid:
///   averaging outlines or skeletons point by point is meaningless when workers start at different points).
///
/// Returns the consensus list (possibly empty: the workers agree there is nothing) and, per consensus shape, the
/// share of answers that have it; `None` below two answers.
pub fn consensus(kind: &QuestionKind, answers: &[&Value]) -> Option<(Value, Vec<f64>)> {
    if answers.len() < 2 || !is_shape_kind(kind) {
        return None;
    }
    let parsed: Vec<Vec<Shape>> = answers.iter().map(|a| parse_shapes(kind, a)).collect();
    let mut clusters: Vec<Vec<Shape>> = Vec::new();
    for shapes in &parsed {
        let heads: Vec<Shape> = clusters.iter().map(|c| c[0].clone()).collect();
        let matched = match_shapes(shapes, &heads, DEFAULT_THRESHOLD);
        let mut taken = vec![false; shapes.len()];
        for (i, j, _) in matched {
            clusters[j].push(shapes[i].clone());
            taken[i] = true;
        }
        for (i, s) in shapes.iter().enumerate() {
            if !taken[i] {
                clusters.push(vec![s.clone()]);
            }
        }
    }
    let n = answers.len();
    let mut out = Vec::new();
    let mut support = Vec::new();
    for c in clusters.iter().filter(|c| 2 * c.len() > n) {
        support.push(c.len() as f64 / n as f64);
        out.push(consensus_shape(c));
    }
    Some((Value::Array(out), support))
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn consensus_shape(c: &[Shape]) -> Value {
    let n = c.len() as f64;
    match &c[0].geometry {
        Geometry::Box(_) => {
            let (mut x, mut y, mut w, mut h) = (0.0, 0.0, 0.0, 0.0);
            for s in c {
                if let Geometry::Box(r) = s.geometry {
                    x += r.x;
                    y += r.y;
                    w += r.w;
                    h += r.h;
                }
            }
            // Means of valid boxes are valid boxes; rounding to 6 places could push one a hair past an edge.
            let (x, y) = (round6(x / n), round6(y / n));
            let (w, h) = (round6(w / n).min(1.0 - x), round6(h / n).min(1.0 - y));
            json!({"x": x, "y": y, "w": w, "h": h, "label": c[0].label})
        }
        Geometry::Event(..) => {
            let (mut start, mut end) = (0.0, 0.0);
            for s in c {
                if let Geometry::Event(a, b) = s.geometry {
                    start += a;
                    end += b;
                }
            }
            let mut o = Map::new();
            o.insert("start".into(), json!(round6(start / n)));
            o.insert("end".into(), json!(round6(end / n).max(round6(start / n))));
            o.insert("label".into(), json!(c[0].label));
            let severities: Vec<&str> = c
                .iter()
                .filter_map(|s| s.raw.get("severity").and_then(Value::as_str))
                .collect();
            if let Some(best) = severities
                .iter()
                .max_by_key(|s| {
                    (
                        severities.iter().filter(|t| t == s).count(),
                        std::cmp::Reverse(severities.iter().position(|t| t == *s)),
                    )
                })
                .copied()
            {
                o.insert("severity".into(), json!(best));
            }
            Value::Object(o)
        }
        _ => {
            let best = (0..c.len())
                .max_by(|&i, &j| {
                    let mean = |k: usize| -> f64 {
                        c.iter()
                            .enumerate()
                            .filter(|(m, _)| *m != k)
                            .map(|(_, s)| similarity(&c[k], s))
                            .sum::<f64>()
                    };
                    // max_by keeps the last of equal elements; prefer the earliest member on ties.
                    mean(i).total_cmp(&mean(j)).then(j.cmp(&i))
                })
                .unwrap_or(0);
            c[best].raw.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    fn rect(x: f64, y: f64, w: f64, h: f64) -> Rect {
        Rect { x, y, w, h }
    }

    #[test]
    fn box_iou_by_hand() {
        // Two 0.2 x 0.2 boxes overlapping in a 0.1 x 0.2 strip: 0.02 / (0.04 + 0.04 - 0.02) = 1/3.
        close(
            box_iou(rect(0.1, 0.1, 0.2, 0.2), rect(0.2, 0.1, 0.2, 0.2)),
            1.0 / 3.0,
        );
        close(
            box_iou(rect(0.1, 0.1, 0.2, 0.2), rect(0.1, 0.1, 0.2, 0.2)),
            1.0,
        );
        close(
            box_iou(rect(0.0, 0.0, 0.1, 0.1), rect(0.5, 0.5, 0.1, 0.1)),
            0.0,
        );
        // One box inside another: 0.01 / 0.04.
        close(
            box_iou(rect(0.0, 0.0, 0.2, 0.2), rect(0.05, 0.05, 0.1, 0.1)),
            0.25,
        );
    }

    #[test]
    fn polygon_iou_of_a_non_convex_shape_by_hand() {
        // An L (area 3 on a 2x2 grid, scaled by 1/4 into the image) and a unit square across its inner corner.
        let s = 0.25;
        let l: Vec<(f64, f64)> = [(0., 0.), (2., 0.), (2., 1.), (1., 1.), (1., 2.), (0., 2.)]
            .iter()
            .map(|p| (p.0 * s, p.1 * s))
            .collect();
        let sq: Vec<(f64, f64)> = [(0.5, 0.5), (1.5, 0.5), (1.5, 1.5), (0.5, 1.5)]
            .iter()
            .map(|p| (p.0 * s, p.1 * s))
            .collect();
        close(polygon_area(&l), 3.0 * s * s);
        // The square loses its quarter [1, 1.5]²: it shares 0.75 with the L.
        close(polygon_intersection_area(&l, &sq), 0.75 * s * s);
        close(polygon_iou(&l, &sq), 0.75 / (3.0 + 1.0 - 0.75));
        // Orientation does not matter, nor which polygon comes first.
        let mut rev = sq.clone();
        rev.reverse();
        close(polygon_iou(&rev, &l), 0.75 / 3.25);
        close(polygon_iou(&l, &l), 1.0);
        // A square as a polygon agrees with box IoU.
        let a = [(0.1, 0.1), (0.3, 0.1), (0.3, 0.3), (0.1, 0.3)];
        let b = [(0.2, 0.1), (0.4, 0.1), (0.4, 0.3), (0.2, 0.3)];
        close(polygon_iou(&a, &b), 1.0 / 3.0);
        // Disjoint, and the concave notch of a U holding a square that touches nothing.
        let u: Vec<(f64, f64)> = [
            (0., 0.),
            (3., 0.),
            (3., 3.),
            (2., 3.),
            (2., 1.),
            (1., 1.),
            (1., 3.),
            (0., 3.),
        ]
        .iter()
        .map(|p| (p.0 / 4.0, p.1 / 4.0))
        .collect();
        let inside_notch: Vec<(f64, f64)> = [(1.2, 1.5), (1.8, 1.5), (1.8, 2.5), (1.2, 2.5)]
            .iter()
            .map(|p| (p.0 / 4.0, p.1 / 4.0))
            .collect();
        close(polygon_intersection_area(&u, &inside_notch), 0.0);
    }

    /// A star with `n` spikes (2n points, non-convex) around (cx, cy).
    fn star(n: usize, cx: f64, cy: f64, r: f64, phase: f64) -> Vec<(f64, f64)> {
        (0..2 * n)
            .map(|i| {
                let a = phase + std::f64::consts::PI * i as f64 / n as f64;
                let rr = if i % 2 == 0 { r } else { r * 0.45 };
                (cx + rr * a.cos(), cy + rr * a.sin())
            })
            .collect()
    }

    fn inside_polygon(p: (f64, f64), pts: &[(f64, f64)]) -> bool {
        let mut c = false;
        let mut j = pts.len() - 1;
        for i in 0..pts.len() {
            let ((xi, yi), (xj, yj)) = (pts[i], pts[j]);
            if (yi > p.1) != (yj > p.1) && p.0 < (xj - xi) * (p.1 - yi) / (yj - yi) + xi {
                c = !c;
            }
            j = i;
        }
        c
    }

    #[test]
    fn polygon_iou_of_two_stars_matches_a_raster_count_and_is_fast() {
        // Two 50-spike stars (100 points each, deeply non-convex), offset and turned.
        let a = star(50, 0.5, 0.5, 0.3, 0.0);
        let b = star(50, 0.53, 0.48, 0.28, 0.02);
        let t0 = std::time::Instant::now();
        let iou = polygon_iou(&a, &b);
        let took = t0.elapsed();
        // The same IoU by counting the centres of a 600 x 600 grid of cells.
        let n = 600;
        let (mut inter, mut union) = (0u32, 0u32);
        for i in 0..n {
            for j in 0..n {
                let p = ((i as f64 + 0.5) / n as f64, (j as f64 + 0.5) / n as f64);
                let (x, y) = (inside_polygon(p, &a), inside_polygon(p, &b));
                inter += u32::from(x && y);
                union += u32::from(x || y);
            }
        }
        let raster = f64::from(inter) / f64::from(union);
        assert!((iou - raster).abs() < 0.01, "exact {iou}, raster {raster}");
        assert!(iou > 0.2 && iou < 0.9, "{iou}");
        // 10 000 triangle clips; a few milliseconds even unoptimized (docs/templates.md quotes the figure).
        assert!(took < std::time::Duration::from_millis(500), "{took:?}");
        eprintln!("polygon IoU of two 100-point stars: {took:?}");
    }

    #[test]
    fn oks_and_temporal_iou_by_hand() {
        // Two points, one 0.01 off: area = 0.1 * 0.1 = 0.01 for both objects; exp(-0.0001 / (2 * 0.01 * 0.01)) =
        // exp(-0.5); the other point identical (1); mean (1 + e^-0.5) / 2.
        let a = [(0.1, 0.1, 2), (0.2, 0.2, 2)];
        let b = [(0.1, 0.1, 2), (0.21, 0.2, 2)];
        // b's box is 0.11 x 0.1; s² = (0.01 + 0.011) / 2 = 0.0105.
        let expected = (1.0 + (-0.0001f64 / (2.0 * 0.0105 * 0.01)).exp()) / 2.0;
        close(oks(&a, &b), expected);
        // A point placed by one only is a miss; a point placed by neither does not count.
        close(
            oks(
                &[(0.1, 0.1, 2), (0.0, 0.0, 0)],
                &[(0.1, 0.1, 2), (0.3, 0.3, 1)],
            ),
            0.5,
        );
        close(
            oks(
                &[(0.1, 0.1, 2), (0.0, 0.0, 0)],
                &[(0.1, 0.1, 1), (0.0, 0.0, 0)],
            ),
            1.0,
        );

        close(interval_iou((1.0, 3.0), (2.0, 4.0)), 1.0 / 3.0);
        // Instants 0.1 s apart are widened to 0.5 s: overlap 0.4 of a union 0.6.
        close(interval_iou((5.0, 5.0), (5.1, 5.1)), 0.4 / 0.6);
    }

    #[test]
    fn tracks_interpolate_and_compare_frame_by_frame() {
        let k = |frame, x, outside| Keyframe {
            frame,
            rect: rect(x, 0.0, 0.2, 0.2),
            outside,
        };
        let a = vec![k(0, 0.0, false), k(10, 0.5, false)];
        close(track_box(&a, 5).unwrap().x, 0.25);
        assert_eq!(track_box(&a, 11), None);
        assert_eq!(track_box(&[k(0, 0.0, true), k(4, 0.1, false)], 2), None);
        close(track_similarity(&a, &a), 1.0);
        // The same track covering only frames 0..=4 of 0..=10: 5 of 11 frames match exactly.
        let b = vec![k(0, 0.0, false), k(4, 0.2, false)];
        close(track_similarity(&a, &b), 5.0 / 11.0);
    }

    #[test]
    fn agreement_gold_f1_and_consensus_of_boxes() {
        let kind = QuestionKind::Boxes {
            field: "f".into(),
            labels: vec![],
            min_boxes: None,
            max_boxes: None,
        };
        let a = json!([{"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2, "label": "car"},
                       {"x": 0.6, "y": 0.6, "w": 0.2, "h": 0.2, "label": "car"}]);
        let b = json!([{"x": 0.2, "y": 0.1, "w": 0.2, "h": 0.2, "label": "car"}]);
        let c = json!([{"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2, "label": "person"}]);
        let (sa, sb, sc) = (
            parse_shapes(&kind, &a),
            parse_shapes(&kind, &b),
            parse_shapes(&kind, &c),
        );
        // One pair at IoU 1/3, one box unmatched: 2 * (1/3) / 3.
        close(agreement(&sa, &sb), 2.0 / 9.0);
        // Labels differ: nothing matches.
        close(agreement(&sa, &sc), 0.0);
        close(agreement(&[], &[]), 1.0);
        // Gold: IoU 1/3 is below 0.5, so nothing is found; at 0.3 one of three boxes is.
        close(f1_at(&sb, &sa, 0.5), 0.0);
        close(f1_at(&sb, &sa, 0.3), 2.0 / 3.0);
        // Consensus of three answers: the first box is drawn by all three (close enough), the second by one.
        let d = json!([{"x": 0.12, "y": 0.1, "w": 0.2, "h": 0.2, "label": "car"}]);
        let e = json!([{"x": 0.14, "y": 0.1, "w": 0.2, "h": 0.2, "label": "car"}]);
        let (v, support) = consensus(&kind, &[&a, &d, &e]).unwrap();
        assert_eq!(
            v,
            json!([{"x": 0.12, "y": 0.1, "w": 0.2, "h": 0.2, "label": "car"}])
        );
        assert_eq!(support, vec![1.0]);
        assert!(consensus(&kind, &[&a]).is_none());
    }

    #[test]
    fn consensus_of_events_and_polygons() {
        let kind = QuestionKind::VideoEvents {
            field: "v".into(),
            labels: vec![],
            severities: vec![],
        };
        let a = json!([{"start": 1.0, "end": 2.0, "label": "anatomy", "severity": "major"}]);
        let b = json!([{"start": 1.2, "end": 2.2, "label": "anatomy", "severity": "minor"}]);
        let c = json!([{"start": 1.1, "end": 2.0, "label": "anatomy", "severity": "major"},
                       {"start": 5.0, "end": 6.0, "label": "physics", "severity": "minor"}]);
        let (v, _) = consensus(&kind, &[&a, &b, &c]).unwrap();
        assert_eq!(
            v,
            json!([{"start": 1.1, "end": 2.066667, "label": "anatomy", "severity": "major"}])
        );

        let kind = QuestionKind::Polygons {
            field: "f".into(),
            labels: vec![],
            min_shapes: None,
            max_shapes: None,
        };
        let sq = |d: f64| json!([{"points": [[0.1 + d, 0.1], [0.3 + d, 0.1], [0.3 + d, 0.3], [0.1 + d, 0.3]], "label": "t"}]);
        // The middle one is closest to both others: it is the medoid.
        let (v, _) = consensus(&kind, &[&sq(0.0), &sq(0.02), &sq(0.04)]).unwrap();
        assert_eq!(v, sq(0.02));
    }
}
