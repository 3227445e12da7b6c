//! The upload path's judgement of real files: accepted formats described completely, bad input refused with a
//! reason. The videos and audio clips in `tests/data` were made with ffmpeg's test sources (see the README
//! there), so these tests do not need ffmpeg.

use std::path::{Path, PathBuf};

use fairloop_media::{Format, MediaError, ProbeLimits, probe};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn no_ffmpeg() -> ProbeLimits {
    ProbeLimits {
        use_ffmpeg: false,
        ..ProbeLimits::default()
    }
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A small PNG whose header claims `w`×`h` pixels (a decompression bomb's shape).
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut b = png(4, 4);
    // IHDR data starts at 16 (8 signature + 4 length + 4 type); its CRC covers type and data (17 bytes).
    b[16..20].copy_from_slice(&w.to_be_bytes());
    b[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&b[12..29]);
    b[29..33].copy_from_slice(&crc.to_be_bytes());
    b
}

#[test]
fn a_png_is_measured_and_gets_a_thumbnail() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "upload.bin", &png(640, 320));
    let got = probe(&p, &no_ffmpeg()).unwrap();
    assert_eq!(got.format, Format::Png);
    assert_eq!((got.width, got.height), (Some(640), Some(320)));
    let thumb = got.thumbnail.unwrap();
    assert_eq!(thumb.content_type, "image/jpeg");
    let t = image::load_from_memory(&thumb.bytes).unwrap();
    assert_eq!((t.width(), t.height()), (256, 128));
}

#[test]
fn a_jpeg_a_gif_and_a_webp_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
        30,
        20,
        image::Rgb([10, 200, 30]),
    ));
    for (fmt, expected) in [
        (image::ImageFormat::Jpeg, Format::Jpeg),
        (image::ImageFormat::Gif, Format::Gif),
        (image::ImageFormat::WebP, Format::WebP),
    ] {
        let mut out = std::io::Cursor::new(Vec::new());
        let rgba = image::DynamicImage::ImageRgba8(img.to_rgba8());
        match fmt {
            image::ImageFormat::Jpeg => img.write_to(&mut out, fmt).unwrap(),
            _ => rgba.write_to(&mut out, fmt).unwrap(),
        }
        let p = write(&dir, "x", &out.into_inner());
        let got = probe(&p, &no_ffmpeg()).unwrap();
        assert_eq!(got.format, expected);
        assert_eq!((got.width, got.height), (Some(30), Some(20)));
    }
}

#[test]
fn a_decompression_bomb_is_refused_from_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "bomb.png", &png_claiming(100_000, 100_000));
    assert!(std::fs::metadata(&p).unwrap().len() < 1000);
    let err = probe(&p, &no_ffmpeg()).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::TooManyPixels {
                width: 100_000,
                height: 100_000,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), Some("image_too_large"));
    assert!(err.to_string().contains("100000×100000"), "{err}");
    // Under a small limit, an ordinary image is refused the same way.
    let p = write(&dir, "big.png", &png(300, 300));
    let limits = ProbeLimits {
        max_image_pixels: 10_000,
        ..no_ffmpeg()
    };
    assert!(matches!(
        probe(&p, &limits),
        Err(MediaError::TooManyPixels { .. })
    ));
}

#[test]
fn corrupt_images_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let full = png(200, 200);
    let p = write(&dir, "cut.png", &full[..full.len() / 2]);
    let err = probe(&p, &no_ffmpeg()).unwrap_err();
    assert_eq!(err.code(), Some("corrupt_media"), "{err:?}");
    assert!(err.to_string().contains("corrupt or truncated"), "{err}");
    let mut garbage = b"\x89PNG\r\n\x1a\n".to_vec();
    garbage.extend(std::iter::repeat_n(0x5a, 300));
    let p = write(&dir, "garbage.png", &garbage);
    assert_eq!(
        probe(&p, &no_ffmpeg()).unwrap_err().code(),
        Some("corrupt_media")
    );
    let p = write(
        &dir,
        "cut.jpg",
        b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0",
    );
    assert_eq!(
        probe(&p, &no_ffmpeg()).unwrap_err().code(),
        Some("corrupt_media")
    );
}

#[test]
fn svg_and_a_text_file_named_png_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "logo.png",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(document.cookie)\"/>",
    );
    let err = probe(&p, &no_ffmpeg()).unwrap_err();
    assert_eq!(err.code(), Some("svg_refused"));
    assert!(err.to_string().contains("scripts"), "{err}");
    let p = write(&dir, "photo.png", b"id,label\n1,cat\n");
    let err = probe(&p, &no_ffmpeg()).unwrap_err();
    assert_eq!(err.code(), Some("unsupported_media"));
    assert!(err.to_string().contains("text"), "{err}");
}

#[test]
fn h264_mp4_gives_size_duration_and_frame_rate() {
    let got = probe(&data("h264-64x48-25fps-2s.mp4"), &no_ffmpeg()).unwrap();
    assert_eq!(got.format, Format::Mp4);
    assert_eq!(got.codec.as_deref(), Some("h264"));
    assert_eq!((got.width, got.height), (Some(64), Some(48)));
    assert_eq!(got.fps, Some(25.0));
    assert!(
        (got.duration.unwrap() - 2.0).abs() < 0.05,
        "{:?}",
        got.duration
    );
    // The placeholder poster keeps the aspect ratio.
    let poster = got.thumbnail.unwrap();
    assert_eq!(poster.content_type, "image/png");
    let p = image::load_from_memory(&poster.bytes).unwrap();
    assert_eq!((p.width(), p.height()), (256, 192));
}

#[test]
fn the_metadata_box_may_come_after_the_media_data() {
    let got = probe(&data("h264-moov-at-end-30fps.mp4"), &no_ffmpeg()).unwrap();
    assert_eq!(got.fps, Some(30.0));
    assert!((got.duration.unwrap() - 1.0).abs() < 0.05);
}

#[test]
fn vp9_webm_is_read() {
    let got = probe(&data("vp9-80x60-24fps-1s.webm"), &no_ffmpeg()).unwrap();
    assert_eq!(got.format, Format::WebM);
    assert_eq!(got.codec.as_deref(), Some("vp9"));
    assert_eq!((got.width, got.height), (Some(80), Some(60)));
    assert!(
        (got.duration.unwrap() - 1.0).abs() < 0.1,
        "{:?}",
        got.duration
    );
}

#[test]
fn videos_browsers_cannot_play_are_refused() {
    for name in ["hevc-64x48.mp4", "mpeg4-part2.mp4"] {
        let err = probe(&data(name), &no_ffmpeg()).unwrap_err();
        assert_eq!(err.code(), Some("unplayable_video"), "{name}: {err:?}");
        assert!(err.to_string().contains("libx264"), "{err}");
    }
    // A truncated MP4: the header is there, the metadata is not.
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(data("h264-moov-at-end-30fps.mp4")).unwrap();
    let p = write(&dir, "cut.mp4", &whole[..whole.len() / 2]);
    assert_eq!(
        probe(&p, &no_ffmpeg()).unwrap_err().code(),
        Some("unplayable_video")
    );
}

#[test]
fn audio_is_accepted_with_a_duration_where_cheap() {
    let wav = probe(&data("tone-1s-8khz.wav"), &no_ffmpeg()).unwrap();
    assert_eq!(wav.format, Format::Wav);
    assert!(
        (wav.duration.unwrap() - 1.0).abs() < 0.01,
        "{:?}",
        wav.duration
    );
    assert!(wav.thumbnail.is_none());
    let ogg = probe(&data("tone.ogg"), &no_ffmpeg()).unwrap();
    assert_eq!(ogg.format, Format::Ogg);
    assert!(
        (ogg.duration.unwrap() - 1.0).abs() < 0.05,
        "{:?}",
        ogg.duration
    );
    let mp3 = probe(&data("tone.mp3"), &no_ffmpeg()).unwrap();
    assert_eq!(mp3.format, Format::Mp3);
}

#[test]
fn with_ffmpeg_the_poster_is_a_real_frame() {
    if !fairloop_media::poster::ffmpeg_available() {
        eprintln!("ffmpeg is not installed: the placeholder poster is tested above");
        return;
    }
    let got = probe(&data("h264-64x48-25fps-2s.mp4"), &ProbeLimits::default()).unwrap();
    let poster = got.thumbnail.unwrap();
    assert_eq!(poster.content_type, "image/jpeg");
    let p = image::load_from_memory(&poster.bytes).unwrap();
    assert_eq!((p.width(), p.height()), (64, 48));
}
