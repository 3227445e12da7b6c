//! Media end to end on both backends: uploads judged by their bytes, the authenticated media route with ranges
//! and caching, tenant and worker scoping, media references checked at import, and the COCO, YOLO and video
//! exports (COCO loaded by pycocotools).

mod common;

use std::path::Path;

use common::{TestApp, expect_error, expect_status, on_every_backend, on_every_backend_with};
use fairloop_app::AppConfig;
use fairloop_domain::Role;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::{Value, json};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../media/tests/data")
            .join(name),
    )
    .expect("fixture")
}

fn png(w: u32, h: u32) -> Vec<u8> {
    // A minimal valid PNG made by hand (stored deflate blocks), so this test needs no image library.
    fn crc(bytes: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in bytes {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ 0xedb8_8320
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc(&body).to_be_bytes());
    }
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0u8);
        for x in 0..w {
            raw.extend_from_slice(&[(x % 256) as u8, (y % 256) as u8, 120]);
        }
    }
    // zlib stream of stored blocks.
    let mut z = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, c) in chunks.iter().enumerate() {
        z.push(u8::from(i + 1 == chunks.len()));
        z.extend_from_slice(&(c.len() as u16).to_le_bytes());
        z.extend_from_slice(&(!(c.len() as u16)).to_le_bytes());
        z.extend_from_slice(c);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + x as u32) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A PNG whose header claims `w`×`h` pixels with almost no data: a decompression bomb's shape.
fn bomb() -> Vec<u8> {
    let mut b = png(2, 2);
    b[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    b[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    // Recompute the IHDR CRC so that only the size is wrong.
    let mut c = 0xffff_ffffu32;
    for &x in &b[12..29] {
        c ^= x as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xedb8_8320
            } else {
                c >> 1
            };
        }
    }
    b[29..33].copy_from_slice(&(!c).to_be_bytes());
    b
}

async fn upload_raw(
    t: &TestApp,
    token: &str,
    key: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let path = match key {
        Some(k) => format!("/api/v1/media?key={k}"),
        None => "/api/v1/media".into(),
    };
    t.client
        .post(t.url(&path))
        .bearer_auth(token)
        // The client's type is ignored: the bytes decide.
        .header(CONTENT_TYPE, "image/png")
        .body(body)
        .send()
        .await
        .expect("request")
}

async fn upload_multipart(
    t: &TestApp,
    token: &str,
    file_name: &str,
    body: &[u8],
) -> reqwest::Response {
    let boundary = "fairloop-test-boundary-7MA4YWxkTrZu0gW";
    let mut form = Vec::new();
    form.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    form.extend_from_slice(body);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    t.client
        .post(t.url("/api/v1/media"))
        .bearer_auth(token)
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(form)
        .send()
        .await
        .expect("request")
}

async fn get_media(t: &TestApp, token: &str, path: &str, headers: HeaderMap) -> reqwest::Response {
    t.client
        .get(t.url(path))
        .bearer_auth(token)
        .headers(headers)
        .send()
        .await
        .expect("request")
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn uploads_are_described_from_their_bytes_and_served_with_ranges_and_caching() {
    on_every_backend(async |t| {
        let lab = t.user("Media Lab", "lab@media.test", Role::Requester).await;
        let image = png(640, 320);
        let r = upload_raw(&t, &lab.token, Some("scans/a.png"), image.clone()).await;
        assert_eq!(header(&r, "location"), "/media/scans/a.png");
        let m = expect_status(r, StatusCode::CREATED).await;
        assert_eq!(m["key"], "scans/a.png");
        assert_eq!(m["kind"], "image");
        assert_eq!(m["content_type"], "image/png");
        assert_eq!(
            (m["width"].as_i64(), m["height"].as_i64()),
            (Some(640), Some(320))
        );
        assert_eq!(m["size_bytes"].as_u64(), Some(image.len() as u64));
        assert_eq!(m["thumbnail_url"], "/media/scans/a.png/thumb");
        // The same bytes under the same key: a no-op. Other bytes under it: a conflict.
        let again = expect_status(
            upload_raw(&t, &lab.token, Some("scans/a.png"), image.clone()).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(again["sha256"], m["sha256"]);
        let e = expect_error(
            upload_raw(&t, &lab.token, Some("scans/a.png"), png(10, 10)).await,
            StatusCode::CONFLICT,
            "media_key_taken",
        )
        .await;
        assert!(e["message"].as_str().unwrap().contains("scans/a.png"));
        // Without a key, a name is generated with the type's extension.
        let generated = expect_status(
            upload_raw(&t, &lab.token, None, png(3, 3)).await,
            StatusCode::CREATED,
        )
        .await;
        assert!(
            generated["key"].as_str().unwrap().starts_with("m-"),
            "{generated}"
        );
        assert!(
            generated["key"].as_str().unwrap().ends_with(".png"),
            "{generated}"
        );

        // A video through multipart: the file's name becomes the key; size, duration and fps are read.
        let mp4 = fixture("h264-64x48-25fps-2s.mp4");
        let v = expect_status(
            upload_multipart(&t, &lab.token, "clip 1.mp4", &mp4).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(v["key"], "clip-1.mp4");
        assert_eq!(v["kind"], "video");
        assert_eq!(v["codec"], "h264");
        assert_eq!(v["fps"].as_f64(), Some(25.0));
        assert_eq!(
            (v["width"].as_i64(), v["height"].as_i64()),
            (Some(64), Some(48))
        );
        assert!((v["duration_seconds"].as_f64().unwrap() - 2.0).abs() < 0.05);
        assert_eq!(v["original_name"], "clip 1.mp4");

        // The bytes, as stored, with the stored type and private long-lived caching.
        let r = get_media(&t, &lab.token, "/media/scans/a.png", HeaderMap::new()).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "content-type"), "image/png");
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
        assert!(header(&r, "cache-control").starts_with("private, max-age=31536000"));
        let etag = header(&r, "etag");
        assert_eq!(etag, format!("\"{}\"", m["sha256"].as_str().unwrap()));
        assert_eq!(r.bytes().await.unwrap().as_ref(), &image[..]);
        let mut h = HeaderMap::new();
        h.insert("if-none-match", etag.parse().unwrap());
        let r = get_media(&t, &lab.token, "/media/scans/a.png", h).await;
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);

        // Ranges, for seeking.
        let mut h = HeaderMap::new();
        h.insert("range", "bytes=100-199".parse().unwrap());
        let r = get_media(&t, &lab.token, "/media/clip-1.mp4", h).await;
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            header(&r, "content-range"),
            format!("bytes 100-199/{}", mp4.len())
        );
        assert_eq!(header(&r, "content-type"), "video/mp4");
        assert_eq!(r.bytes().await.unwrap().as_ref(), &mp4[100..200]);
        let mut h = HeaderMap::new();
        h.insert("range", "bytes=-16".parse().unwrap());
        let r = get_media(&t, &lab.token, "/media/clip-1.mp4", h).await;
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(r.bytes().await.unwrap().as_ref(), &mp4[mp4.len() - 16..]);
        let mut h = HeaderMap::new();
        h.insert("range", format!("bytes={}-", mp4.len()).parse().unwrap());
        let r = get_media(&t, &lab.token, "/media/clip-1.mp4", h).await;
        assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(
            header(&r, "content-range"),
            format!("bytes */{}", mp4.len())
        );

        // Thumbnail, poster and details.
        let r = get_media(&t, &lab.token, "/media/scans/a.png/thumb", HeaderMap::new()).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "content-type"), "image/jpeg");
        let r = get_media(&t, &lab.token, "/media/clip-1.mp4/thumb", HeaderMap::new()).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(header(&r, "content-type").starts_with("image/"));
        let info = expect_status(
            get_media(&t, &lab.token, "/media/clip-1.mp4/info", HeaderMap::new()).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(info["fps"].as_f64(), Some(25.0));

        // The list, newest first.
        let list = expect_status(t.get(&lab.token, "/api/v1/media").await, StatusCode::OK).await;
        let keys: Vec<&str> = list["media"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys.len(), 3);
        assert_eq!(keys[0], "clip-1.mp4");
        assert_eq!(keys[2], "scans/a.png");
        // The endpoints are in the OpenAPI document.
        let doc = expect_status(t.get_anon("/api/openapi.json").await, StatusCode::OK).await;
        assert!(doc["paths"]["/api/v1/media"]["post"].is_object());
        assert!(doc["paths"]["/api/v1/media"]["get"].is_object());
        assert!(doc["paths"]["/api/v1/media/settings"]["put"].is_object());
        // Three files and their three thumbnails are on disk, nothing in the spool.
        assert_eq!(t.media_files().len(), 6, "{:?}", t.media_files());
        assert!(t.spool_files().is_empty(), "{:?}", t.spool_files());
    })
    .await;
}

#[tokio::test]
async fn bad_uploads_are_refused_with_a_reason_and_leave_nothing_behind() {
    let mut config = AppConfig::default();
    config.media.max_upload_bytes = 200_000;
    on_every_backend_with(config, async |t| {
        let lab = t
            .user("Bad Input Lab", "lab@bad.test", Role::Requester)
            .await;
        let cut = png(200, 200);
        let e = expect_error(
            upload_raw(
                &t,
                &lab.token,
                Some("cut.png"),
                cut[..cut.len() / 2].to_vec(),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "corrupt_media",
        )
        .await;
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("corrupt or truncated"),
            "{e}"
        );
        let e = expect_error(
            upload_raw(&t, &lab.token, Some("bomb.png"), bomb()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "image_too_large",
        )
        .await;
        assert!(
            e["message"].as_str().unwrap().contains("100000×100000"),
            "{e}"
        );
        let svg =
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
        let e = expect_error(
            upload_multipart(&t, &lab.token, "logo.svg", &svg).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "svg_refused",
        )
        .await;
        assert!(e["message"].as_str().unwrap().contains("scripts"), "{e}");
        let e = expect_error(
            upload_multipart(&t, &lab.token, "photo.png", b"label,text\npos,great\n").await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported_media",
        )
        .await;
        assert!(e["message"].as_str().unwrap().contains("text"), "{e}");
        let e = expect_error(
            upload_multipart(&t, &lab.token, "clip.mp4", &fixture("hevc-64x48.mp4")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unplayable_video",
        )
        .await;
        assert!(e["message"].as_str().unwrap().contains("HEVC"), "{e}");
        // Over the size limit, streamed (413 without a declared length too).
        let big = vec![0u8; 300_000];
        expect_error(
            upload_raw(&t, &lab.token, None, big.clone()).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        )
        .await;
        let r = t
            .client
            .post(t.url("/api/v1/media"))
            .bearer_auth(&lab.token)
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                big.chunks(10_000)
                    .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                    .collect::<Vec<_>>(),
            )))
            .send()
            .await
            .unwrap();
        expect_error(r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
        // Bad keys and roles.
        expect_error(
            upload_raw(&t, &lab.token, Some("../etc/passwd"), png(2, 2)).await,
            StatusCode::BAD_REQUEST,
            "invalid_media_key",
        )
        .await;
        let worker = t.user("Bad Input Lab", "w@bad.test", Role::Worker).await;
        expect_error(
            upload_raw(&t, &worker.token, None, png(2, 2)).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        // Nothing of any of it was kept: no rows, no bytes, no spool files.
        let list = expect_status(t.get(&lab.token, "/api/v1/media").await, StatusCode::OK).await;
        assert_eq!(list["media"], json!([]));
        assert!(t.media_files().is_empty(), "{:?}", t.media_files());
        assert!(t.spool_files().is_empty(), "{:?}", t.spool_files());
        expect_error(
            get_media(&t, &lab.token, "/media/cut.png", HeaderMap::new()).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    })
    .await;
}

fn image_template() -> Value {
    json!({
        "fields": [{"name": "photo", "type": "image", "source": "image"}],
        "questions": [
            {"name": "objects", "type": "boxes", "field": "photo", "labels": ["car", "person"]},
            {"name": "regions", "type": "polygons", "field": "photo", "labels": ["road"]},
            {"name": "people", "type": "keypoints", "field": "photo", "labels": ["person"],
             "points": ["head", "left_hand", "right_hand"], "skeleton": [[0, 1], [0, 2]]}
        ]
    })
}

#[tokio::test]
async fn media_is_scoped_to_the_organization_and_to_workers_projects() {
    on_every_backend(async |t| {
        let lab = t.user("Scope Lab", "lab@scope.test", Role::Requester).await;
        let reviewer = t.user("Scope Lab", "rev@scope.test", Role::Reviewer).await;
        let worker = t.user("Scope Lab", "w@scope.test", Role::Worker).await;
        let other = t.user("Other Lab", "lab@other.test", Role::Requester).await;
        expect_status(
            upload_raw(&t, &lab.token, Some("xray-1.png"), png(40, 30)).await,
            StatusCode::CREATED,
        )
        .await;
        expect_status(
            upload_raw(&t, &lab.token, Some("unused.png"), png(4, 3)).await,
            StatusCode::CREATED,
        )
        .await;
        // Another organization: not found (not "forbidden": a key's existence does not leak), and it may use
        // the same key for its own file.
        expect_error(
            get_media(&t, &other.token, "/media/xray-1.png", HeaderMap::new()).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            get_media(
                &t,
                &other.token,
                "/media/xray-1.png/thumb",
                HeaderMap::new(),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_status(
            upload_raw(&t, &other.token, Some("xray-1.png"), png(8, 8)).await,
            StatusCode::CREATED,
        )
        .await;
        let theirs = get_media(&t, &other.token, "/media/xray-1.png/info", HeaderMap::new()).await;
        assert_eq!(expect_status(theirs, StatusCode::OK).await["width"], 8);
        // Without credentials: 401.
        expect_error(
            t.get_anon("/media/xray-1.png").await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
        // The reviewer reads the organization's media; the worker only what a project they work in uses.
        assert_eq!(
            get_media(&t, &reviewer.token, "/media/xray-1.png", HeaderMap::new())
                .await
                .status(),
            StatusCode::OK
        );
        expect_error(
            get_media(&t, &worker.token, "/media/xray-1.png", HeaderMap::new()).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let project = t
            .project(
                &lab.token,
                json!({"name": "X-rays", "overlap": 1, "template": image_template()}),
            )
            .await;
        let r = t
            .import_jsonl(
                &lab.token,
                project,
                "{\"id\":\"i1\",\"data\":{\"image\":\"media:xray-1.png\"}}\n",
                None,
            )
            .await;
        expect_status(r, StatusCode::CREATED).await;
        // Referred to, but the worker has taken no work there yet.
        expect_error(
            get_media(&t, &worker.token, "/media/xray-1.png", HeaderMap::new()).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let task = t.claim(&worker.token, project).await;
        assert_eq!(task["item"]["data"]["image"], "media:xray-1.png");
        let r = get_media(&t, &worker.token, "/media/xray-1.png", HeaderMap::new()).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.bytes().await.unwrap().as_ref(), &png(40, 30)[..]);
        // Still nothing the project does not use, and listing is for the console.
        expect_error(
            get_media(&t, &worker.token, "/media/unused.png", HeaderMap::new()).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            t.get(&worker.token, "/api/v1/media").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        // Another organization's list does not show ours.
        let list = expect_status(t.get(&other.token, "/api/v1/media").await, StatusCode::OK).await;
        assert_eq!(list["media"].as_array().unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn imports_refuse_unknown_keys_wrong_kinds_and_urls_from_hosts_not_allowed() {
    on_every_backend(async |t| {
        let lab = t.user("Import Lab", "lab@import.test", Role::Requester).await;
        expect_status(upload_raw(&t, &lab.token, Some("a.png"), png(10, 10)).await, StatusCode::CREATED).await;
        expect_status(
            upload_multipart(&t, &lab.token, "v.mp4", &fixture("h264-64x48-25fps-2s.mp4")).await,
            StatusCode::CREATED,
        )
        .await;
        let project = t.project(&lab.token, json!({"name": "Refs", "overlap": 1, "template": image_template()})).await;
        let lines = [
            r#"{"id":"ok-key","data":{"image":"a.png"}}"#,
            r#"{"id":"ok-prefixed","data":{"image":"media:a.png"}}"#,
            r#"{"id":"missing","data":{"image":"media:nope.png"}}"#,
            r#"{"id":"video","data":{"image":"v.mp4"}}"#,
            r#"{"id":"evil","data":{"image":"https://evil.test/x.png"}}"#,
            r#"{"id":"cdn","data":{"image":"https://img.cdn.example/x.png","width":800,"height":600}}"#,
            r#"{"id":"bad","data":{"image":"../../etc/passwd"}}"#,
        ]
        .join("\n");
        let e = expect_error(t.import_jsonl(&lab.token, project, &lines, None).await, StatusCode::BAD_REQUEST, "invalid_lines").await;
        let errors = e["details"]["errors"].as_array().unwrap();
        let by_line: Vec<(i64, String)> = errors
            .iter()
            .map(|x| (x["line"].as_i64().unwrap(), x["message"].as_str().unwrap().to_string()))
            .collect();
        assert_eq!(by_line.iter().map(|x| x.0).collect::<Vec<_>>(), vec![3, 4, 5, 6, 7], "{by_line:?}");
        assert!(by_line[0].1.contains("no media with the key \"nope.png\""), "{by_line:?}");
        assert!(by_line[1].1.contains("is a video"), "{by_line:?}");
        assert!(by_line[2].1.contains("\"evil.test\" is not among the organization's allowed media hosts"), "{by_line:?}");
        assert!(by_line[0].1.starts_with("data.image:"), "{by_line:?}");
        // Allow the CDN (by wildcard) and import the good lines.
        let bad_host = t
            .client
            .put(t.url("/api/v1/media/settings"))
            .bearer_auth(&lab.token)
            .json(&json!({"allowed_hosts": ["https://cdn.example/"]}))
            .send()
            .await
            .unwrap();
        let e = expect_error(bad_host, StatusCode::UNPROCESSABLE_ENTITY, "invalid_host").await;
        assert!(e["message"].as_str().unwrap().starts_with("allowed_hosts[0]"), "{e}");
        let r = t
            .client
            .put(t.url("/api/v1/media/settings"))
            .bearer_auth(&lab.token)
            .json(&json!({"allowed_hosts": ["*.CDN.example", "  "]}))
            .send()
            .await
            .unwrap();
        assert_eq!(expect_status(r, StatusCode::OK).await, json!({"allowed_hosts": ["*.cdn.example"]}));
        let r = t.import_jsonl(&lab.token, project, &lines, Some("skip")).await;
        let report = expect_status(r, StatusCode::CREATED).await;
        assert_eq!(report["imported"], 3, "{report}");
        assert_eq!(report["error_count"], 4, "{report}");
        // Another organization's allowed hosts are its own.
        let other = t.user("Other Import Lab", "lab@other-import.test", Role::Requester).await;
        let theirs = expect_status(t.get(&other.token, "/api/v1/media/settings").await, StatusCode::OK).await;
        assert_eq!(theirs, json!({"allowed_hosts": []}));
    })
    .await;
}

/// Runs python3 with pycocotools on the exports; `None` when python or pycocotools is missing and
/// FAIRLOOP_REQUIRE_PYTHON is not 1 (then the Rust-side checks stand alone).
fn pycocotools(coco: &[u8], yolo: &[u8]) -> Option<Value> {
    let required = std::env::var("FAIRLOOP_REQUIRE_PYTHON").is_ok_and(|v| v == "1");
    let dir = tempfile::tempdir().unwrap();
    let (coco_path, yolo_path) = (dir.path().join("coco.json"), dir.path().join("yolo.zip"));
    std::fs::write(&coco_path, coco).unwrap();
    std::fs::write(&yolo_path, yolo).unwrap();
    let script = r#"
import json, sys, zipfile
from pycocotools.coco import COCO
coco = COCO(sys.argv[1])
anns = coco.loadAnns(coco.getAnnIds())
masks = {}
for a in anns:
    img = coco.imgs[a["image_id"]]
    if "segmentation" in a and img["width"]:
        masks[str(a["id"])] = int(coco.annToMask(a).sum())
z = zipfile.ZipFile(sys.argv[2])
assert z.testzip() is None
print(json.dumps({
    "images": len(coco.getImgIds()),
    "annotations": [{"id": a["id"], "area": a["area"], "category": a["category_id"],
                     "num_keypoints": a.get("num_keypoints")} for a in anns],
    "categories": len(coco.getCatIds()),
    "person_skeleton": coco.loadCats(coco.getCatIds(catNms=["person"], supNms=["people"]))[0]["skeleton"],
    "masks": masks,
    "zip": {n: z.read(n).decode() for n in z.namelist()},
}))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&coco_path)
        .arg(&yolo_path)
        .output();
    match out {
        // pycocotools prints its own progress first; the last line is the script's.
        Ok(o) if o.status.success() => Some(
            serde_json::from_str(
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .last()
                    .unwrap_or_default(),
            )
            .expect("the script prints JSON last"),
        ),
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr).to_string();
            if err.contains("No module named 'pycocotools'") && !required {
                eprintln!(
                    "pycocotools is not installed; set FAIRLOOP_REQUIRE_PYTHON=1 to make this a failure"
                );
                None
            } else {
                panic!("the pycocotools check failed:\n{err}")
            }
        }
        Err(e) if !required => {
            eprintln!(
                "python3 is not available ({e}); set FAIRLOOP_REQUIRE_PYTHON=1 to make this a failure"
            );
            None
        }
        Err(e) => panic!("FAIRLOOP_REQUIRE_PYTHON=1 but python3 cannot run: {e}"),
    }
}

#[tokio::test]
async fn coco_and_yolo_exports_put_shapes_in_pixels_and_load_in_pycocotools() {
    on_every_backend(async |t| {
        let lab = t.user("Export Lab", "lab@export.test", Role::Requester).await;
        let w1 = t.user("Export Lab", "w1@export.test", Role::Worker).await;
        let w2 = t.user("Export Lab", "w2@export.test", Role::Worker).await;
        expect_status(upload_raw(&t, &lab.token, Some("street/a.png"), png(640, 320)).await, StatusCode::CREATED).await;
        let r = t
            .client
            .put(t.url("/api/v1/media/settings"))
            .bearer_auth(&lab.token)
            .json(&json!({"allowed_hosts": ["img.example"]}))
            .send()
            .await
            .unwrap();
        expect_status(r, StatusCode::OK).await;
        let project = t.project(&lab.token, json!({"name": "Street", "overlap": 2, "template": image_template()})).await;
        let items = [
            r#"{"id":"uploaded","data":{"image":"media:street/a.png"}}"#,
            r#"{"id":"by-url","data":{"image":"https://img.example/b.jpg?v=2","width":1000,"height":500}}"#,
            r#"{"id":"no-size","data":{"image":"https://img.example/c.jpg"}}"#,
        ]
        .join("\n");
        t.items(&lab.token, project, &items).await;
        let answers = json!({
            "objects": [{"x": 0.1, "y": 0.2, "w": 0.25, "h": 0.5, "label": "car"},
                        {"x": 0.5, "y": 0.5, "w": 0.1, "h": 0.1, "label": "person"}],
            "regions": [{"points": [[0.0, 0.5], [0.5, 0.5], [0.5, 1.0], [0.0, 1.0]], "label": "road"}],
            "people": [{"points": [[0.5, 0.1, 2], [0.4, 0.3, 1], [0, 0, 0]], "label": "person"}]
        });
        // w1 answers all three items, w2 the first one only.
        for _ in 0..3 {
            let task = t.claim(&w1.token, project).await;
            let id = task["assignment_id"].as_i64().unwrap();
            expect_status(t.submit(&w1.token, id, answers.clone(), None).await, StatusCode::OK).await;
        }
        let task = t.claim(&w2.token, project).await;
        assert_eq!(task["item"]["id"], "uploaded");
        let id = task["assignment_id"].as_i64().unwrap();
        // w2 sees the car a little to the right and nothing else: the consensus of the two (YOLO) is the mean car.
        let only_box = json!({"objects": [{"x": 0.12, "y": 0.2, "w": 0.25, "h": 0.5, "label": "car"}], "regions": [], "people": []});
        expect_status(t.submit(&w2.token, id, only_box, None).await, StatusCode::OK).await;

        let r = t.export(&lab.token, project, "coco").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "content-type"), "application/json");
        assert!(header(&r, "content-disposition").contains(&format!("project-{project}.coco.json")));
        let coco_bytes = r.bytes().await.unwrap().to_vec();
        let coco: Value = serde_json::from_slice(&coco_bytes).expect("one JSON document");
        assert_eq!(coco["categories"].as_array().unwrap().len(), 4);
        let person = &coco["categories"][3];
        assert_eq!(person["keypoints"], json!(["head", "left_hand", "right_hand"]));
        assert_eq!(person["skeleton"], json!([[1, 2], [1, 3]]));
        let images = coco["images"].as_array().unwrap();
        assert_eq!(images.len(), 3);
        assert_eq!((images[0]["width"].as_f64(), images[0]["height"].as_f64()), (Some(640.0), Some(320.0)));
        assert_eq!(images[0]["file_name"], "street/a.png");
        assert_eq!(images[1]["file_name"], "b.jpg");
        assert_eq!(images[1]["coco_url"], "https://img.example/b.jpg?v=2");
        assert_eq!((images[1]["width"].as_f64(), images[1]["height"].as_f64()), (Some(1000.0), Some(500.0)));
        assert_eq!(images[2]["width"], Value::Null);
        let anns = coco["annotations"].as_array().unwrap();
        // Item 1: w1's 2 boxes + 1 polygon + 1 skeleton, and w2's box; item 2: w1's 4; item 3: skipped (no size).
        assert_eq!(anns.len(), 9);
        assert_eq!(coco["fairloop"]["annotations_skipped"], 4);
        assert_eq!(coco["fairloop"]["images_without_size"], 1);
        let car = &anns[0];
        assert_eq!(car["image_id"], images[0]["id"]);
        assert_eq!(car["bbox"], json!([64.0, 64.0, 160.0, 160.0]));
        assert_eq!(car["area"].as_f64(), Some(25600.0));
        let road = anns.iter().find(|a| a["fairloop_question"] == "regions").unwrap();
        assert_eq!(road["area"].as_f64(), Some(320.0 * 160.0));
        assert_eq!(road["bbox"], json!([0.0, 160.0, 320.0, 160.0]));
        let skeleton = anns.iter().find(|a| a["fairloop_question"] == "people").unwrap();
        assert_eq!(skeleton["keypoints"], json!([320.0, 32.0, 2, 256.0, 96.0, 1, 0, 0, 0]));
        assert_eq!(skeleton["num_keypoints"], 2);
        let annotators: std::collections::HashSet<&str> =
            anns.iter().map(|a| a["annotator"].as_str().unwrap()).collect();
        assert_eq!(annotators.len(), 2);
        assert!(!coco_bytes.windows(b"@export.test".len()).any(|w| w == b"@export.test"));

        let r = t.export(&lab.token, project, "yolo").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "content-type"), "application/zip");
        let zip = r.bytes().await.unwrap().to_vec();
        assert_eq!(&zip[..4], b"PK\x03\x04");

        if let Some(py) = pycocotools(&coco_bytes, &zip) {
            assert_eq!(py["images"], 3);
            assert_eq!(py["categories"], 4);
            assert_eq!(py["person_skeleton"], json!([[1, 2], [1, 3]]));
            let anns = py["annotations"].as_array().unwrap();
            assert_eq!(anns.len(), 9);
            let mut areas: Vec<f64> = anns.iter().map(|a| a["area"].as_f64().unwrap()).collect();
            areas.sort_by(f64::total_cmp);
            // Boxes 160x160, 64x32, 160x160 (w2) on item 1 and 250x250, 100x50 on item 2; polygons 320x160 and
            // 500x250; skeleton boxes 64x64 and 100x100.
            assert_eq!(
                areas,
                vec![2048.0, 4096.0, 5000.0, 10000.0, 25600.0, 25600.0, 51200.0, 62500.0, 125000.0]
            );
            // The rasterised polygon covers about its area.
            let road = anns.iter().find(|a| a["area"] == 51200.0 && a["num_keypoints"].is_null()).unwrap();
            let mask = py["masks"][road["id"].to_string()].as_f64().unwrap();
            assert!((mask - 51200.0).abs() / 51200.0 < 0.02, "mask {mask}");
            let files = py["zip"].as_object().unwrap();
            let yaml = files["data.yaml"].as_str().unwrap();
            assert!(yaml.contains("nc: 3"), "{yaml}");
            assert!(yaml.contains("0: \"car\"") && yaml.contains("2: \"road\""), "{yaml}");
            assert!(yaml.contains("kpt_shape: [3, 3]"), "{yaml}");
            // Item 1 had two annotators: YOLO carries their consensus, the car both drew (boxes averaged), and
            // not the shapes only w1 drew. Item 2 had one: all of its shapes.
            let labels = files["labels/street__a.txt"].as_str().unwrap();
            assert_eq!(labels, "0 0.235 0.45 0.25 0.5\n");
            let labels = files["labels/b.txt"].as_str().unwrap();
            let lines: Vec<&str> = labels.lines().collect();
            assert_eq!(lines[0], "0 0.225 0.45 0.25 0.5");
            assert_eq!(lines[2], "2 0 0.5 0.5 0.5 0.5 1 0 1");
            assert!(lines[3].starts_with("1 0.45 0.2 0.1 0.2 0.5 0.1 2 0.4 0.3 1 0 0 0"), "{labels}");
            assert!(yaml.contains("consensus"), "{yaml}");
            assert_eq!(files["labels/c.txt"].as_str().unwrap().lines().count(), 4);
            assert!(files["images.csv"].as_str().unwrap().contains("labels/b.txt,by-url,photo,https://img.example/b.jpg?v=2,1000,500"));
        }

        // A template without shapes has no COCO export.
        let text = t.project(&lab.token, json!({"name": "Text", "overlap": 1, "template": common::minimal_template()})).await;
        expect_error(t.export(&lab.token, text, "coco").await, StatusCode::BAD_REQUEST, "format_unsupported").await;
        expect_error(t.export(&lab.token, text, "gif").await, StatusCode::BAD_REQUEST, "invalid_format").await;
        // And another organization cannot export this project.
        let other = t.user("Other Export Lab", "lab@other-export.test", Role::Requester).await;
        expect_error(t.export(&other.token, project, "coco").await, StatusCode::NOT_FOUND, "not_found").await;
    })
    .await;
}

#[tokio::test]
async fn the_video_export_turns_seconds_into_frames() {
    on_every_backend(async |t| {
        let lab = t.user("Video Lab", "lab@video.test", Role::Requester).await;
        let worker = t.user("Video Lab", "w@video.test", Role::Worker).await;
        expect_status(
            upload_multipart(&t, &lab.token, "clip.mp4", &fixture("h264-64x48-25fps-2s.mp4")).await,
            StatusCode::CREATED,
        )
        .await;
        let template = json!({
            "fields": [{"name": "video", "type": "video", "source": "video_url"}],
            "questions": [
                {"name": "errors", "type": "video_events", "field": "video", "labels": ["anatomy", "physics"],
                 "severities": ["minor", "major"]},
                {"name": "objects", "type": "tracks", "field": "video", "labels": ["car"]}
            ]
        });
        let project = t.project(&lab.token, json!({"name": "Clips", "overlap": 1, "template": template})).await;
        t.items(&lab.token, project, "{\"id\":\"file\",\"data\":{\"video_url\":\"clip.mp4\"}}\n{\"id\":\"stated\",\"data\":{\"video_url\":\"media:clip.mp4\",\"fps\":10}}\n").await;
        for _ in 0..2 {
            let task = t.claim(&worker.token, project).await;
            let id = task["assignment_id"].as_i64().unwrap();
            let answers = json!({
                "errors": [{"start": 1.0, "end": 2.0, "label": "anatomy", "severity": "major", "note": "six fingers"}],
                "objects": [{"id": "c1", "label": "car", "keyframes": [
                    {"frame": 0, "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2},
                    {"frame": 25, "x": 0.5, "y": 0.1, "w": 0.2, "h": 0.2, "outside": true}]}]
            });
            expect_status(t.submit(&worker.token, id, answers, None).await, StatusCode::OK).await;
        }
        let r = t.export(&lab.token, project, "video_jsonl").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "content-type"), "application/x-ndjson");
        let lines: Vec<Value> = r
            .text()
            .await
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        let file = &lines[0];
        assert_eq!(file["id"], "file");
        let v = &file["videos"]["video"];
        assert_eq!((v["fps"].as_f64(), v["fps_source"].as_str()), (Some(25.0), Some("media")));
        assert_eq!(v["frame_count"], 50);
        assert_eq!((v["width"].as_f64(), v["height"].as_f64()), (Some(64.0), Some(48.0)));
        let ev = &file["annotations"][0]["events"][0];
        // 2.0 s is the end of a 2 s video: its last frame.
        assert_eq!((ev["start_frame"].as_u64(), ev["end_frame"].as_u64()), (Some(25), Some(49)));
        assert_eq!((ev["severity"].as_str(), ev["note"].as_str()), (Some("major"), Some("six fingers")));
        let kf = &file["annotations"][0]["tracks"][0]["keyframes"];
        assert_eq!(kf[1]["time"].as_f64(), Some(1.0));
        assert_eq!(kf[1]["outside"], true);
        let stated = &lines[1];
        assert_eq!(stated["videos"]["video"]["fps_source"], "item");
        let ev = &stated["annotations"][0]["events"][0];
        assert_eq!((ev["start_frame"].as_u64(), ev["end_frame"].as_u64()), (Some(10), Some(19)));
        assert_eq!(stated["annotations"][0]["tracks"][0]["keyframes"][1]["time"].as_f64(), Some(2.5));
        // An image-only template has no video export.
        let images = t.project(&lab.token, json!({"name": "Img", "overlap": 1, "template": image_template()})).await;
        expect_error(t.export(&lab.token, images, "video_jsonl").await, StatusCode::BAD_REQUEST, "format_unsupported").await;
    })
    .await;
}

#[tokio::test]
async fn failed_and_abandoned_uploads_leave_no_row_and_no_bytes() {
    on_every_backend(async |t| {
        let lab = t
            .user("Janitor Lab", "lab@janitor.test", Role::Requester)
            .await;
        let principal = t.app.authenticate(&lab.token).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("upload.bin");
        std::fs::write(&spool, png(16, 16)).unwrap();
        // The store fails after the row is reserved: the row goes again, and the key stays free.
        let broken = t
            .app
            .clone()
            .with_media(fairloop_media::MediaStore::unconfigured());
        let err = broken
            .upload_media(
                &principal,
                &spool,
                fairloop_app::media::UploadRequest {
                    key: Some("x.png".into()),
                    original_name: None,
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, fairloop_app::AppError::Internal(_)),
            "{err:?}"
        );
        assert!(
            t.app
                .store
                .media_by_key_any(lab.org_id, "x.png")
                .await
                .unwrap()
                .is_none()
        );
        expect_status(
            upload_raw(&t, &lab.token, Some("x.png"), png(16, 16)).await,
            StatusCode::CREATED,
        )
        .await;

        // A crash between the steps leaves a pending row and some bytes; the janitor removes both, once the
        // grace period is over, and never touches ready files.
        let object = fairloop_media::ObjectKey::generate(lab.org_id);
        let now = fairloop_domain::time::now_millis();
        t.app
            .store
            .media_reserve(fairloop_store::media::NewMedia {
                org_id: lab.org_id,
                key: "crashed.png".into(),
                object_key: object.as_str().into(),
                thumb_key: None,
                thumb_content_type: None,
                kind: "image".into(),
                content_type: "image/png".into(),
                size_bytes: 3,
                sha256: "00".into(),
                width: None,
                height: None,
                duration_seconds: None,
                fps: None,
                codec: None,
                original_name: None,
                created_by: lab.id,
                created_at: now,
            })
            .await
            .unwrap();
        t.app
            .media_store()
            .put_bytes(&object, b"abc".to_vec())
            .await
            .unwrap();
        let files_before = t.media_files().len();
        // A pending row is never served.
        expect_error(
            get_media(&t, &lab.token, "/media/crashed.png", HeaderMap::new()).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let janitor = fairloop_app::media::MediaJanitor::new(t.app.clone());
        assert_eq!(janitor.try_run_one(now).await.unwrap(), 0, "too early");
        let later = now + fairloop_app::media::PENDING_GRACE.as_millis() as i64 + 1;
        assert_eq!(janitor.try_run_one(later).await.unwrap(), 1);
        assert_eq!(t.media_files().len(), files_before - 1);
        assert!(
            t.app
                .store
                .media_by_key_any(lab.org_id, "crashed.png")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(janitor.try_run_one(later).await.unwrap(), 0);
        assert_eq!(
            get_media(&t, &lab.token, "/media/x.png", HeaderMap::new())
                .await
                .status(),
            StatusCode::OK
        );
    })
    .await;
}

/// The media row's object and thumbnail keys, to check the store after a delete.
async fn object_keys(t: &TestApp, org: i64, key: &str) -> Vec<fairloop_media::ObjectKey> {
    let row = t
        .app
        .store
        .media_by_key(org, key)
        .await
        .unwrap()
        .expect("a stored file");
    let mut keys = vec![fairloop_media::ObjectKey::parse(&row.object_key).unwrap()];
    keys.extend(
        row.thumb_key
            .as_deref()
            .map(|k| fairloop_media::ObjectKey::parse(k).unwrap()),
    );
    keys
}

async fn in_store(t: &TestApp, key: &fairloop_media::ObjectKey) -> bool {
    match t.app.media_store().get(key, None).await {
        Ok(_) => true,
        Err(fairloop_media::MediaError::NotFound) => false,
        Err(e) => panic!("reading {key:?}: {e}"),
    }
}

async fn delete_media(t: &TestApp, token: &str, key: &str) -> reqwest::Response {
    t.client
        .delete(t.url(&format!("/api/v1/media/{key}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}

/// The delete scenario, on whatever media store `t` has (files or a bucket).
async fn delete_scenario(t: &TestApp) {
    let lab = t
        .user("Delete Lab", "lab@delete.test", Role::Requester)
        .await;
    for (key, body) in [
        ("scans/a.png", png(40, 30)),
        ("b.png", png(20, 20)),
        ("clip.mp4", fixture("h264-64x48-25fps-2s.mp4")),
    ] {
        expect_status(
            upload_raw(t, &lab.token, Some(key), body).await,
            StatusCode::CREATED,
        )
        .await;
    }
    let project = t
        .project(
            &lab.token,
            json!({"name": "Scans", "overlap": 1, "template": image_template()}),
        )
        .await;
    let items = [
        r#"{"id":"one","data":{"image":"media:scans/a.png"}}"#,
        r#"{"id":"two","data":{"image":"scans/a.png"}}"#,
        r#"{"id":"three","data":{"image":"b.png"}}"#,
    ]
    .join("\n");
    t.items(&lab.token, project, &items).await;

    // Referred to by items: refused, naming how many, and nothing is touched.
    let a_keys = object_keys(t, lab.org_id, "scans/a.png").await;
    let e = expect_error(
        delete_media(t, &lab.token, "scans/a.png").await,
        StatusCode::CONFLICT,
        "media_in_use",
    )
    .await;
    assert!(
        e["message"].as_str().unwrap().contains("2 items refer"),
        "{e}"
    );
    let e = expect_error(
        delete_media(t, &lab.token, "b.png").await,
        StatusCode::CONFLICT,
        "media_in_use",
    )
    .await;
    assert!(
        e["message"].as_str().unwrap().contains("1 item refers"),
        "{e}"
    );
    for k in &a_keys {
        assert!(in_store(t, k).await);
    }
    expect_status(
        get_media(t, &lab.token, "/media/scans/a.png", HeaderMap::new()).await,
        StatusCode::OK,
    )
    .await;

    // Roles and tenants: a worker may not, another organization does not even see it.
    let worker = t.user("Delete Lab", "w@delete.test", Role::Worker).await;
    expect_error(
        delete_media(t, &worker.token, "clip.mp4").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let other = t
        .user("Other Delete Lab", "lab@other-delete.test", Role::Requester)
        .await;
    expect_error(
        delete_media(t, &other.token, "clip.mp4").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Not referred to: the row, the bytes and the poster go.
    let clip_keys = object_keys(t, lab.org_id, "clip.mp4").await;
    assert_eq!(clip_keys.len(), 2, "a video has a poster");
    for k in &clip_keys {
        assert!(in_store(t, k).await);
    }
    let gone = expect_status(
        delete_media(t, &lab.token, "clip.mp4").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(gone["key"], "clip.mp4");
    for k in &clip_keys {
        assert!(!in_store(t, k).await, "{k:?} is still stored");
    }
    for path in [
        "/media/clip.mp4",
        "/media/clip.mp4/thumb",
        "/media/clip.mp4/info",
    ] {
        expect_error(
            get_media(t, &lab.token, path, HeaderMap::new()).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    let list = expect_status(t.get(&lab.token, "/api/v1/media").await, StatusCode::OK).await;
    let keys: Vec<&str> = list["media"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["b.png", "scans/a.png"]);
    expect_error(
        delete_media(t, &lab.token, "clip.mp4").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // An item may no longer name it.
    let r = t
        .import_jsonl(
            &lab.token,
            project,
            r#"{"id":"four","data":{"image":"clip.mp4"}}"#,
            None,
        )
        .await;
    assert_ne!(r.status(), StatusCode::CREATED);

    // The key stays the deleted content's: other bytes under it are refused, the same bytes come back.
    let e = expect_error(
        upload_raw(t, &lab.token, Some("clip.mp4"), png(8, 8)).await,
        StatusCode::CONFLICT,
        "media_key_taken",
    )
    .await;
    assert!(e["message"].as_str().unwrap().contains("deleted"), "{e}");
    expect_status(
        upload_raw(
            t,
            &lab.token,
            Some("clip.mp4"),
            fixture("h264-64x48-25fps-2s.mp4"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    expect_status(
        get_media(t, &lab.token, "/media/clip.mp4", HeaderMap::new()).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn media_in_use_is_not_deleted_and_unused_media_is_removed_with_its_poster() {
    on_every_backend(async |t| {
        delete_scenario(&t).await;
        // Local files: nothing of the deleted clip's first upload is left on disk (2 images with thumbnails and
        // the clip uploaded again with its poster).
        assert_eq!(t.media_files().len(), 6, "{:?}", t.media_files());
    })
    .await;
}

/// The same against an S3-compatible server (moto; `.ci/run` starts it), on both database backends.
#[tokio::test]
async fn deleting_media_removes_it_from_an_s3_bucket() {
    let endpoint = match std::env::var("FAIRLOOP_TEST_S3_ENDPOINT") {
        Ok(e) if !e.trim().is_empty() => e.trim().trim_end_matches('/').to_string(),
        _ if std::env::var("FAIRLOOP_REQUIRE_S3").is_ok_and(|v| v == "1") => {
            panic!("FAIRLOOP_REQUIRE_S3=1 but FAIRLOOP_TEST_S3_ENDPOINT is not set")
        }
        _ => {
            eprintln!("FAIRLOOP_TEST_S3_ENDPOINT is not set: skipping the S3 delete test");
            return;
        }
    };
    for backend in common::backends() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let bucket = format!("fairloop-delete-{}-{nanos:x}", std::process::id());
        let created = reqwest::Client::new()
            .put(format!("{endpoint}/{bucket}"))
            .send()
            .await
            .expect("the S3 test server answers");
        assert!(
            created.status().is_success(),
            "creating the bucket: {}",
            created.status()
        );
        let media = fairloop_media::MediaStore::s3(
            &format!("s3://{bucket}/media"),
            [
                ("aws_endpoint", endpoint.as_str()),
                ("aws_allow_http", "true"),
                ("aws_access_key_id", "test"),
                ("aws_secret_access_key", "test"),
                ("aws_region", "us-east-1"),
            ],
        )
        .expect("an S3 store");
        let t = common::spawn_app_with_media(&backend, AppConfig::default(), Some(media)).await;
        eprintln!("--- running on {} with s3://{bucket}", t.backend);
        delete_scenario(&t).await;
        assert!(t.media_files().is_empty(), "nothing was written locally");
    }
}

fn shapes_and_tracks_template() -> Value {
    json!({
        "fields": [{"name": "photo", "type": "image", "source": "image"},
                   {"name": "clip", "type": "video", "source": "video"}],
        "questions": [
            {"name": "objects", "type": "boxes", "field": "photo", "labels": ["car", "person"]},
            {"name": "regions", "type": "polygons", "field": "photo", "labels": ["road"]},
            {"name": "cars", "type": "tracks", "field": "clip", "labels": ["car"]}
        ]
    })
}

/// The issue's "Bad input" lines for answers: shapes outside the image and a track whose keyframes are out of
/// order get a clear error naming the question and the shape, and nothing is saved (the same assignment then
/// takes a good answer). The file-level lines (corrupt image, bomb, SVG, unplayable video) are in
/// `bad_uploads_are_refused_with_a_reason_and_leave_nothing_behind`.
#[tokio::test]
async fn shapes_outside_the_image_and_tracks_out_of_order_are_refused_and_nothing_is_saved() {
    on_every_backend(async |t| {
        let lab = t.user("Shapes Lab", "lab@shapes-bad.test", Role::Requester).await;
        let w = t.user("Shapes Lab", "w@shapes-bad.test", Role::Worker).await;
        expect_status(upload_raw(&t, &lab.token, Some("street.png"), png(64, 48)).await, StatusCode::CREATED).await;
        expect_status(
            upload_raw(&t, &lab.token, Some("drive.mp4"), fixture("h264-64x48-25fps-2s.mp4")).await,
            StatusCode::CREATED,
        )
        .await;
        let project = t
            .project(&lab.token, json!({"name": "Bad shapes", "overlap": 1, "template": shapes_and_tracks_template()}))
            .await;
        t.items(&lab.token, project, r#"{"id":"s1","data":{"image":"media:street.png","video":"media:drive.mp4"}}"#).await;
        let a = t.claim(&w.token, project).await["assignment_id"].as_i64().unwrap();
        let good_track = json!({"id": "t1", "label": "car", "keyframes": [
            {"frame": 0, "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2}, {"frame": 10, "x": 0.3, "y": 0.1, "w": 0.2, "h": 0.2}]});
        let cases = [
            (
                json!({"objects": [{"x": 0.8, "y": 0.1, "w": 0.5, "h": 0.2, "label": "car"}], "regions": [], "cars": [good_track.clone()]}),
                "objects",
                "outside the image",
            ),
            (
                json!({"objects": [], "regions": [{"points": [[0.1, 0.1], [1.2, 0.5], [0.1, 0.9]], "label": "road"}], "cars": [good_track.clone()]}),
                "regions",
                "outside the image",
            ),
            (
                json!({"objects": [], "regions": [], "cars": [{"id": "t1", "label": "car", "keyframes": [
                    {"frame": 10, "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2}, {"frame": 5, "x": 0.3, "y": 0.1, "w": 0.2, "h": 0.2}]}]}),
                "cars",
                "increasing frame order",
            ),
        ];
        for (answer, question, says) in cases {
            let e = expect_error(t.submit(&w.token, a, answer, None).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_answer").await;
            let err = &e["details"]["errors"][0];
            assert_eq!(err["question"], question, "{e}");
            assert!(err["message"].as_str().unwrap().contains(says), "{e}");
        }
        // Nothing was saved: the item has no answer yet, and the same assignment still takes a good one.
        let lines = t.export_jsonl(&lab.token, project).await;
        assert_eq!(lines[0]["annotations"], json!([]), "{lines:?}");
        let good = json!({"objects": [{"x": 0.5, "y": 0.1, "w": 0.5, "h": 0.2, "label": "car"}], "regions": [], "cars": [good_track]});
        expect_status(t.submit(&w.token, a, good, None).await, StatusCode::OK).await;
        let lines = t.export_jsonl(&lab.token, project).await;
        assert_eq!(lines[0]["annotations"].as_array().unwrap().len(), 1, "{lines:?}");
    })
    .await;
}
