//! A poster frame for a video: a real frame through `ffmpeg` when it is installed, else a placeholder.
//!
//! Decoding video in Rust would mean linking large codec libraries; Fairloop's binary stays free of them. When
//! `ffmpeg` is on the PATH (checked once), the poster is a frame from early in the video, scaled down, made with
//! only the `file` protocol allowed and a time limit. Otherwise, or when ffmpeg fails, the poster is a neutral
//! dark picture with the video's aspect ratio, a play sign and its size and duration written on it, so lists
//! still show what the file is.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use image::{Rgb, RgbImage};

use crate::video::VideoInfo;
use crate::{ProbeLimits, Thumbnail};

/// Longest time ffmpeg may take for one poster.
const FFMPEG_TIMEOUT: Duration = Duration::from_secs(20);

/// Whether `ffmpeg` runs here (asked once per process).
pub fn ffmpeg_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        Command::new("ffmpeg")
            .arg("-version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// The poster of the video at `path`: from ffmpeg when allowed and available, else [`placeholder`].
pub fn poster(path: &Path, info: &VideoInfo, limits: &ProbeLimits) -> Thumbnail {
    if limits.use_ffmpeg && ffmpeg_available() {
        match ffmpeg_frame(path, info, limits.thumbnail_size) {
            Ok(t) => return t,
            Err(e) => {
                tracing::warn!(error = %e, "ffmpeg could not make a poster; using the placeholder")
            }
        }
    }
    placeholder(info, limits.thumbnail_size)
}

fn ffmpeg_frame(path: &Path, info: &VideoInfo, size: u32) -> Result<Thumbnail, String> {
    let out = tempfile_path(path);
    // A frame a little way in: the first one is often black.
    let at = info.duration.map(|d| (d / 4.0).min(1.0)).unwrap_or(0.0);
    let mut child = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-nostdin",
            "-y",
            "-protocol_whitelist",
            "file",
        ])
        .args(["-ss", &format!("{at:.3}")])
        .arg("-i")
        .arg(path)
        .args(["-frames:v", "1", "-an", "-vf"])
        .arg(format!(
            "scale='min({size},iw)':'min({size},ih)':force_original_aspect_ratio=decrease"
        ))
        .args(["-f", "image2", "-c:v", "mjpeg", "-q:v", "4"])
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting ffmpeg: {e}"))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(s) => break s,
            None if started.elapsed() > FFMPEG_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_file(&out);
                return Err("ffmpeg took too long".into());
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let bytes = std::fs::read(&out);
    let _ = std::fs::remove_file(&out);
    match bytes {
        Ok(b) if status.success() && !b.is_empty() => Ok(Thumbnail {
            bytes: b,
            content_type: "image/jpeg",
        }),
        _ => {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            Err(format!("ffmpeg failed ({status}): {}", err.trim()))
        }
    }
}

fn tempfile_path(beside: &Path) -> std::path::PathBuf {
    let name = format!(
        "{}.poster-{}.jpg",
        beside
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "video".into()),
        std::process::id()
    );
    beside.with_file_name(name)
}

/// A neutral poster: the video's aspect ratio, a play sign, and "W×H  M:SS" in a small bitmap font.
pub fn placeholder(info: &VideoInfo, size: u32) -> Thumbnail {
    let size = size.max(64);
    let (w, h) = match (info.width, info.height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => {
            if w >= h {
                (
                    size,
                    (size as u64 * h as u64 / w as u64).max(size as u64 / 4) as u32,
                )
            } else {
                (
                    (size as u64 * w as u64 / h as u64).max(size as u64 / 4) as u32,
                    size,
                )
            }
        }
        _ => (size, size * 9 / 16),
    };
    let mut img = RgbImage::from_pixel(w, h, Rgb([58, 63, 68]));
    // A play triangle in the middle.
    let (cx, cy) = (w as i64 / 2, h as i64 / 2 - h as i64 / 10);
    let r = (h.min(w) as i64 / 6).max(6);
    for y in -r..=r {
        let half = (r - y.abs()) * 3 / 2;
        for x in 0..=half {
            put(&mut img, cx - r / 2 + x, cy + y, Rgb([200, 205, 210]));
        }
    }
    let mut label = String::new();
    if let (Some(w), Some(h)) = (info.width, info.height) {
        label.push_str(&format!("{w}x{h}"));
    }
    if let Some(d) = info.duration {
        let secs = d.round() as u64;
        if !label.is_empty() {
            label.push_str("  ");
        }
        label.push_str(&format!("{}:{:02}", secs / 60, secs % 60));
    }
    let scale = 2i64;
    let text_w = label.chars().count() as i64 * 4 * scale;
    let x0 = (w as i64 - text_w) / 2;
    let y0 = h as i64 - 5 * scale - h as i64 / 8;
    for (i, c) in label.chars().enumerate() {
        draw_char(&mut img, c, x0 + i as i64 * 4 * scale, y0, scale);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encoding a PNG in memory cannot fail");
    Thumbnail {
        bytes: out.into_inner(),
        content_type: "image/png",
    }
}

fn put(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, c);
    }
}

/// 3×5 glyphs for the characters a size and a duration need; each row is 3 bits, high bit on the left.
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 2, 2, 2],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        'x' => [0, 5, 2, 5, 0],
        ':' => [0, 2, 0, 2, 0],
        _ => return None,
    })
}

fn draw_char(img: &mut RgbImage, c: char, x0: i64, y0: i64, scale: i64) {
    let Some(rows) = glyph(c) else { return };
    for (row, bits) in rows.iter().enumerate() {
        for col in 0..3 {
            if bits & (4 >> col) != 0 {
                for dy in 0..scale {
                    for dx in 0..scale {
                        put(
                            img,
                            x0 + col * scale + dx,
                            y0 + row as i64 * scale + dy,
                            Rgb([230, 232, 235]),
                        );
                    }
                }
            }
        }
    }
}
