//! What a file is, read from its first bytes: never from its name or the Content-Type a client sent.
//!
//! A name or a header is whatever the sender typed; the bytes are what a browser will actually parse. So the
//! upload path calls [`sniff`] on the start of the file and accepts only the formats every current browser
//! shows natively. Files that are recognisably something else (SVG, TIFF, HEIC, PDF, HTML, text…) get a
//! sentence saying what they are and what to do instead.

use crate::MediaError;

/// How many leading bytes [`sniff`] needs to decide (it copes with fewer).
pub const SNIFF_LEN: usize = 4096;

/// A format Fairloop accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PNG image.
    Png,
    /// JPEG image.
    Jpeg,
    /// WebP image.
    WebP,
    /// GIF image (the first frame is used for the thumbnail).
    Gif,
    /// MP4 (ISO base media) video; the codec is checked by [`crate::video`].
    Mp4,
    /// WebM (Matroska subset) video; the codec is checked by [`crate::video`].
    WebM,
    /// MP3 audio.
    Mp3,
    /// WAV (RIFF) audio.
    Wav,
    /// Ogg audio (Vorbis or Opus).
    Ogg,
}

/// Which of the three media families a format belongs to (and so which item fields may show it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// A still image.
    Image,
    /// A video.
    Video,
    /// An audio clip.
    Audio,
}

impl MediaKind {
    /// `image`, `video` or `audio`: the same words as the template's field types.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
        }
    }

    /// Parses [`MediaKind::as_str`].
    pub fn parse(s: &str) -> Option<MediaKind> {
        match s {
            "image" => Some(MediaKind::Image),
            "video" => Some(MediaKind::Video),
            "audio" => Some(MediaKind::Audio),
            _ => None,
        }
    }
}

impl Format {
    /// The family.
    pub fn kind(self) -> MediaKind {
        match self {
            Format::Png | Format::Jpeg | Format::WebP | Format::Gif => MediaKind::Image,
            Format::Mp4 | Format::WebM => MediaKind::Video,
            Format::Mp3 | Format::Wav | Format::Ogg => MediaKind::Audio,
        }
    }

    /// The `Content-Type` the file is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Jpeg => "image/jpeg",
            Format::WebP => "image/webp",
            Format::Gif => "image/gif",
            Format::Mp4 => "video/mp4",
            Format::WebM => "video/webm",
            Format::Mp3 => "audio/mpeg",
            Format::Wav => "audio/wav",
            Format::Ogg => "audio/ogg",
        }
    }

    /// The usual file extension, for generated keys and export file names.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpg",
            Format::WebP => "webp",
            Format::Gif => "gif",
            Format::Mp4 => "mp4",
            Format::WebM => "webm",
            Format::Mp3 => "mp3",
            Format::Wav => "wav",
            Format::Ogg => "ogg",
        }
    }
}

/// Decides the format from the first bytes of a file (up to [`SNIFF_LEN`]).
///
/// Refuses SVG on purpose: an SVG is an XML document that may carry scripts, external references and event
/// handlers, and served from this origin it would run with the signed-in user's session. Sanitising SVG well is
/// a project of its own; a PNG export of the drawing is the safe way to label it.
pub fn sniff(head: &[u8]) -> Result<Format, MediaError> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if head.is_empty() {
        return Err(MediaError::Unsupported("the file is empty".into()));
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Ok(Format::Png);
    }
    if starts(b"\xff\xd8\xff") {
        return Ok(Format::Jpeg);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Ok(Format::Gif);
    }
    if head.len() >= 12 && starts(b"RIFF") {
        match &head[8..12] {
            b"WEBP" => return Ok(Format::WebP),
            b"WAVE" => return Ok(Format::Wav),
            b"AVI " => {
                return Err(MediaError::Unsupported(
                    "the file is an AVI video, which browsers do not play; convert it to MP4 (H.264) or WebM".into(),
                ));
            }
            _ => {}
        }
    }
    if starts(b"OggS") {
        return Ok(Format::Ogg);
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return match &head[8..12] {
            b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1" => {
                Err(MediaError::Unsupported(
                    "the file is a HEIC/HEIF image, which most browsers do not show; convert it to JPEG or PNG"
                        .into(),
                ))
            }
            b"avif" | b"avis" => Err(MediaError::Unsupported(
                "the file is an AVIF image, which Fairloop does not accept yet; convert it to PNG, JPEG or WebP"
                    .into(),
            )),
            b"qt  " => Err(MediaError::Unplayable(
                "the file is a QuickTime (.mov) video, which not every browser plays; re-encode it as MP4 with \
                 H.264 (e.g. ffmpeg -i in.mov -c:v libx264 -pix_fmt yuv420p out.mp4)"
                    .into(),
            )),
            b"M4A " | b"M4B " => Err(MediaError::Unsupported(
                "the file is MPEG-4 audio (M4A); upload audio as MP3, WAV or Ogg".into(),
            )),
            _ => Ok(Format::Mp4),
        };
    }
    if starts(b"\x1a\x45\xdf\xa3") {
        // EBML: WebM or another Matroska file; the doc type is checked when the container is read.
        return Ok(Format::WebM);
    }
    if starts(b"ID3") || is_mp3_frame(head) {
        return Ok(Format::Mp3);
    }
    if trimmed_text_start(head).is_some_and(|t| {
        t.chars()
            .take(1024)
            .collect::<String>()
            .to_ascii_lowercase()
            .contains("<svg")
    }) {
        return Err(MediaError::Svg(SVG_REFUSED.into()));
    }
    Err(MediaError::Unsupported(describe_other(head)))
}

/// Why SVG is refused, in words for the uploader.
pub const SVG_REFUSED: &str = "SVG images are refused: an SVG is an XML document that can carry scripts, event \
     handlers and links, and served from Fairloop it would run with the viewer's session; export the drawing as PNG \
     and upload that";

/// An MPEG audio layer III frame header: 11 sync bits, a valid version, layer III, a real bitrate and rate.
fn is_mp3_frame(h: &[u8]) -> bool {
    h.len() >= 4
        && h[0] == 0xff
        && h[1] & 0xe0 == 0xe0
        && (h[1] >> 3) & 0x3 != 0x1
        && (h[1] >> 1) & 0x3 == 0x1
        && (h[2] >> 4) != 0xf
        && (h[2] >> 4) != 0
        && (h[2] >> 2) & 0x3 != 0x3
}

/// A sentence for a file that is none of the accepted formats: what it looks like, and what is accepted.
fn describe_other(head: &[u8]) -> String {
    const ACCEPTED: &str =
        "accepted are PNG, JPEG, WebP and GIF images, MP4 and WebM videos, MP3, WAV and Ogg audio";
    let text = trimmed_text_start(head);
    if let Some(t) = text {
        let lower: String = t.chars().take(512).collect::<String>().to_ascii_lowercase();
        if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
            return format!("the file is an HTML document, not media; {ACCEPTED}");
        }
        return format!(
            "the file is text, not an image, video or audio file (the type is read from the content, not \
             the name); {ACCEPTED}"
        );
    }
    let what = if head.starts_with(b"%PDF") {
        "a PDF document"
    } else if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        "a TIFF image, which browsers do not show (convert it to PNG)"
    } else if head.starts_with(b"BM") {
        "a BMP image (convert it to PNG)"
    } else if head.starts_with(b"PK\x03\x04") {
        "a ZIP archive (upload the files inside it one by one)"
    } else if head.starts_with(b"\0\0\x01\0") {
        "an icon file"
    } else if head.starts_with(b"fLaC") {
        "FLAC audio (convert it to Ogg or MP3)"
    } else {
        "of a type Fairloop does not recognise"
    };
    format!("the file is {what}; {ACCEPTED}")
}

/// The start of the file as text, when it looks like text (UTF-8 without control bytes other than whitespace).
fn trimmed_text_start(head: &[u8]) -> Option<&str> {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    // A multi-byte character may be cut at the end of the sniffed window.
    let s = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    let printable = s
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'));
    printable.then(|| s.trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_formats_are_recognised_from_their_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....").unwrap(), Format::Png);
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF").unwrap(), Format::Jpeg);
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0").unwrap(), Format::Gif);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), Format::WebP);
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt ").unwrap(), Format::Wav);
        assert_eq!(sniff(b"OggS\0\x02").unwrap(), Format::Ogg);
        assert_eq!(sniff(b"\0\0\0\x20ftypisom\0\0\x02\0").unwrap(), Format::Mp4);
        assert_eq!(
            sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81").unwrap(),
            Format::WebM
        );
        assert_eq!(sniff(b"ID3\x04\0\0").unwrap(), Format::Mp3);
        assert_eq!(sniff(&[0xff, 0xfb, 0x90, 0x64]).unwrap(), Format::Mp3);
    }

    #[test]
    fn svg_text_and_other_files_are_refused_with_a_reason() {
        let svg =
            sniff(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>");
        assert!(matches!(&svg, Err(MediaError::Svg(_))), "{svg:?}");
        let svg = sniff(b"\xef\xbb\xbf  <svg onload=\"alert(1)\">");
        assert!(matches!(&svg, Err(MediaError::Svg(_))), "{svg:?}");
        let text = sniff(b"hello, I am not a picture\n")
            .unwrap_err()
            .to_string();
        assert!(text.contains("text"), "{text}");
        let pdf = sniff(b"%PDF-1.7\n\xe2\xe3").unwrap_err().to_string();
        assert!(pdf.contains("PDF"), "{pdf}");
        let heic = sniff(b"\0\0\0\x18ftypheic\0\0\0\0")
            .unwrap_err()
            .to_string();
        assert!(heic.contains("HEIC"), "{heic}");
        assert!(matches!(
            sniff(b"\0\0\0\x14ftypqt  \0\0\0\0"),
            Err(MediaError::Unplayable(_))
        ));
        assert!(sniff(b"").is_err());
        assert!(sniff(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).is_err());
    }
}
