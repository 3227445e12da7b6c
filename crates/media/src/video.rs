//! Videos: duration, frame rate, size and codec read from the container, in pure Rust.
//!
//! The workbench steps frame by frame, so it needs the frame rate; exports turn seconds into frame numbers with
//! it. Both come from the container's metadata, which is small and at a known place: the `moov` box of an MP4
//! (wherever it sits in the file) and the `Info` and `Tracks` elements of a WebM, which precede the clusters.
//! Nothing here decodes a frame, so no ffmpeg is needed at run time.
//!
//! A video is accepted only when a current browser plays it: H.264 (`avc1`/`avc3`), VP9 (`vp09`) or AV1
//! (`av01`) in MP4, and VP8, VP9 or AV1 in WebM. HEVC, MPEG-4 Part 2, encrypted tracks, audio-only files and
//! unreadable containers are refused with a sentence saying how to re-encode.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::{Format, MediaError};

/// Largest `moov` box (or WebM `Info`/`Tracks` element) read into memory.
const MAX_METADATA: u64 = 64 << 20;

/// What the container says about the video track.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    /// `h264`, `vp8`, `vp9` or `av1`.
    pub codec: &'static str,
    /// Width in pixels, when the container says.
    pub width: Option<u32>,
    /// Height in pixels.
    pub height: Option<u32>,
    /// Duration in seconds.
    pub duration: Option<f64>,
    /// Frames per second, when the container gives it (MP4: sample count over track duration; WebM: the
    /// track's default frame duration).
    pub fps: Option<f64>,
}

/// Reads the container and refuses what browsers cannot play.
pub fn read_info(path: &Path, format: Format) -> Result<VideoInfo, MediaError> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    match format {
        Format::Mp4 => mp4(&mut file, len),
        Format::WebM => webm(&mut file, len),
        other => unreachable!("{other:?} is not a video format"),
    }
}

const REENCODE: &str = "re-encode it as MP4 with H.264 (ffmpeg -i IN -c:v libx264 -pix_fmt yuv420p OUT.mp4) or as WebM with VP9";

fn unreadable(what: &str) -> MediaError {
    MediaError::Unplayable(format!(
        "the video cannot be read: {what}; it is truncated or not a valid file. {REENCODE}"
    ))
}

// ---------------------------------------------------------------------------------------------------------
// MP4 (ISO base media file format)
// ---------------------------------------------------------------------------------------------------------

fn be_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The children of a box held in memory: (type, content).
fn boxes(mut b: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        if b.len() < 8 {
            return None;
        }
        let size32 = be_u32(b, 0)? as u64;
        let kind: [u8; 4] = b[4..8].try_into().ok()?;
        let (header, size) = match size32 {
            0 => (8, b.len() as u64),
            1 => (16, be_u64(b, 8)?),
            n => (8, n),
        };
        if size < header || size > b.len() as u64 {
            b = &[];
            return None;
        }
        let content = &b[header as usize..size as usize];
        b = &b[size as usize..];
        Some((kind, content))
    })
}

fn child<'a>(b: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(b).find(|(k, _)| k == kind).map(|(_, c)| c)
}

/// Finds the top-level `moov` box by walking the box headers (it may come after `mdat`) and reads it.
fn read_moov(file: &mut File, len: u64) -> Result<Vec<u8>, MediaError> {
    let mut at = 0u64;
    while at + 8 <= len {
        file.seek(SeekFrom::Start(at))?;
        let mut h = [0u8; 16];
        let n = file.read(&mut h)?;
        if n < 8 {
            break;
        }
        let size32 = u32::from_be_bytes(h[0..4].try_into().expect("4 bytes")) as u64;
        let (header, size) = match size32 {
            0 => (8, len - at),
            1 if n >= 16 => (
                16,
                u64::from_be_bytes(h[8..16].try_into().expect("8 bytes")),
            ),
            1 => return Err(unreadable("a box header is cut off")),
            s => (8, s),
        };
        if size < header || at + size > len {
            return Err(unreadable("a box runs past the end of the file"));
        }
        if &h[4..8] == b"moov" {
            let content = size - header;
            if content > MAX_METADATA {
                return Err(unreadable("its metadata box is implausibly large"));
            }
            let mut buf = vec![0u8; content as usize];
            file.seek(SeekFrom::Start(at + header))?;
            file.read_exact(&mut buf)
                .map_err(|_| unreadable("the metadata box is cut off"))?;
            return Ok(buf);
        }
        at += size;
    }
    Err(unreadable("it has no metadata (moov) box"))
}

/// (timescale, duration) of an `mvhd` or `mdhd` box, versions 0 and 1.
fn header_times(b: &[u8]) -> Option<(u32, u64)> {
    match b.first()? {
        0 => Some((be_u32(b, 12)?, be_u32(b, 16)? as u64)),
        1 => Some((be_u32(b, 20)?, be_u64(b, 24)?)),
        _ => None,
    }
}

fn codec_of_fourcc(fourcc: &[u8]) -> Result<&'static str, MediaError> {
    match fourcc {
        b"avc1" | b"avc3" => Ok("h264"),
        b"vp09" => Ok("vp9"),
        b"vp08" => Ok("vp8"),
        b"av01" => Ok("av1"),
        b"hvc1" | b"hev1" => Err(MediaError::Unplayable(format!(
            "the video is H.265/HEVC, which Chrome and Firefox do not all play; {REENCODE}"
        ))),
        b"mp4v" => Err(MediaError::Unplayable(format!(
            "the video is MPEG-4 Part 2 (DivX/Xvid), which browsers do not play; {REENCODE}"
        ))),
        b"encv" => Err(MediaError::Unplayable(
            "the video track is encrypted (DRM); upload an unencrypted file".into(),
        )),
        other => Err(MediaError::Unplayable(format!(
            "the video codec {:?} is not one browsers play (H.264, VP8, VP9 or AV1); {REENCODE}",
            String::from_utf8_lossy(other)
        ))),
    }
}

fn mp4(file: &mut File, len: u64) -> Result<VideoInfo, MediaError> {
    let moov = read_moov(file, len)?;
    let movie = child(&moov, b"mvhd").and_then(header_times);
    let mut saw_audio = false;
    for (kind, trak) in boxes(&moov) {
        if &kind != b"trak" {
            continue;
        }
        let Some(mdia) = child(trak, b"mdia") else {
            continue;
        };
        let handler = child(mdia, b"hdlr").and_then(|h| h.get(8..12));
        match handler {
            Some(b"vide") => {}
            Some(b"soun") => {
                saw_audio = true;
                continue;
            }
            _ => continue,
        }
        let stbl = child(mdia, b"minf")
            .and_then(|m| child(m, b"stbl"))
            .ok_or_else(|| unreadable("the video track has no sample table"))?;
        let stsd = child(stbl, b"stsd").ok_or_else(|| unreadable("no sample description"))?;
        // stsd: version/flags (4), entry count (4), then sample entries (size, format, …).
        let entry = stsd
            .get(8..)
            .ok_or_else(|| unreadable("empty sample description"))?;
        let fourcc = entry
            .get(4..8)
            .ok_or_else(|| unreadable("empty sample description"))?;
        let codec = codec_of_fourcc(fourcc)?;
        // A visual sample entry: 8-byte box header, 6 reserved, 2 data reference index, 16 pre-defined, then
        // width and height as 16-bit integers.
        let (mut width, mut height) = (
            be_u16(entry, 32).map(u32::from),
            be_u16(entry, 34).map(u32::from),
        );
        if let Some(tkhd) = child(trak, b"tkhd")
            && tkhd.len() >= 8
        {
            // The display size, 16.16 fixed point, in the last 8 bytes; it wins over the coded size
            // (non-square pixels, rotation are ignored).
            let w = be_u32(tkhd, tkhd.len() - 8).unwrap_or(0) >> 16;
            let h = be_u32(tkhd, tkhd.len() - 4).unwrap_or(0) >> 16;
            if w > 0 && h > 0 {
                (width, height) = (Some(w), Some(h));
            }
        }
        let media = child(mdia, b"mdhd").and_then(header_times);
        let samples: u64 = child(stbl, b"stts")
            .map(|stts| {
                let n = be_u32(stts, 4).unwrap_or(0) as usize;
                (0..n)
                    .filter_map(|i| be_u32(stts, 8 + i * 8).map(u64::from))
                    .sum()
            })
            .unwrap_or(0);
        let duration = media
            .filter(|(scale, d)| *scale > 0 && *d > 0)
            .map(|(scale, d)| d as f64 / scale as f64)
            .or_else(|| {
                movie
                    .filter(|(scale, d)| *scale > 0 && *d > 0)
                    .map(|(scale, d)| d as f64 / scale as f64)
            });
        let fps = match (samples, media) {
            (n, Some((scale, d))) if n > 0 && scale > 0 && d > 0 => {
                Some(round_fps(n as f64 * scale as f64 / d as f64))
            }
            _ => None,
        };
        return Ok(VideoInfo {
            codec,
            width: width.filter(|w| *w > 0),
            height: height.filter(|h| *h > 0),
            duration,
            fps,
        });
    }
    Err(if saw_audio {
        MediaError::Unsupported(
            "the MP4 file has no video track (only audio); upload audio as MP3, WAV or Ogg".into(),
        )
    } else {
        unreadable("it has no video track")
    })
}

/// Rounds a measured frame rate to 3 decimals, and to the NTSC rates (23.976, 29.97, 59.94) they approximate.
fn round_fps(fps: f64) -> f64 {
    (fps * 1000.0).round() / 1000.0
}

// ---------------------------------------------------------------------------------------------------------
// WebM (EBML)
// ---------------------------------------------------------------------------------------------------------

const EBML: u32 = 0x1A45_DFA3;
const DOC_TYPE: u32 = 0x4282;
const SEGMENT: u32 = 0x1853_8067;
const INFO: u32 = 0x1549_A966;
const TIMESTAMP_SCALE: u32 = 0x2A_D7B1;
const DURATION: u32 = 0x4489;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_TYPE: u32 = 0x83;
const CODEC_ID: u32 = 0x86;
const DEFAULT_DURATION: u32 = 0x23_E383;
const VIDEO: u32 = 0xE0;
const PIXEL_WIDTH: u32 = 0xB0;
const PIXEL_HEIGHT: u32 = 0xBA;
const CLUSTER: u32 = 0x1F43_B675;

/// A variable-length integer: (value, length). For ids the marker bit is kept; for sizes it is removed and
/// "all ones" means unknown (`None`).
fn vint(b: &[u8], keep_marker: bool) -> Option<(Option<u64>, usize)> {
    let first = *b.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 || b.len() < len {
        return None;
    }
    let mut v = if keep_marker {
        first as u64
    } else {
        (first as u64) & ((1u64 << (8 - len)) - 1)
    };
    for &x in &b[1..len] {
        v = (v << 8) | x as u64;
    }
    let all_ones = !keep_marker && v == (1u64 << (7 * len)) - 1;
    Some(((!all_ones).then_some(v), len))
}

/// The elements of an EBML body held in memory: (id, content).
fn elements(mut b: &[u8]) -> impl Iterator<Item = (u32, &[u8])> {
    std::iter::from_fn(move || {
        let (id, n) = vint(b, true)?;
        let (size, m) = vint(b.get(n..)?, false)?;
        let start = n + m;
        let end = match size {
            Some(s) => start.checked_add(usize::try_from(s).ok()?)?,
            None => b.len(),
        };
        if end > b.len() {
            b = &[];
            return None;
        }
        let out = (id? as u32, &b[start..end]);
        b = &b[end..];
        Some(out)
    })
}

fn uint(b: &[u8]) -> u64 {
    b.iter().take(8).fold(0, |v, x| (v << 8) | *x as u64)
}

fn float(b: &[u8]) -> Option<f64> {
    match b.len() {
        4 => Some(f32::from_be_bytes(b.try_into().ok()?) as f64),
        8 => Some(f64::from_be_bytes(b.try_into().ok()?)),
        _ => None,
    }
}

/// Reads one element header from the file at its position: (id, content size or `None` when unknown, header
/// length).
fn read_header(file: &mut File) -> Result<Option<(u32, Option<u64>, u64)>, MediaError> {
    let mut h = [0u8; 12];
    let n = file.read(&mut h)?;
    if n == 0 {
        return Ok(None);
    }
    let (id, a) = vint(&h[..n], true).ok_or_else(|| unreadable("an element id is malformed"))?;
    let (size, b) =
        vint(&h[a..n], false).ok_or_else(|| unreadable("an element size is malformed"))?;
    let id = id.ok_or_else(|| unreadable("an element id is malformed"))? as u32;
    file.seek(SeekFrom::Current(-(n as i64) + (a + b) as i64))?;
    Ok(Some((id, size, (a + b) as u64)))
}

fn read_body(file: &mut File, size: Option<u64>) -> Result<Vec<u8>, MediaError> {
    let size = size.ok_or_else(|| unreadable("a metadata element has no size"))?;
    if size > MAX_METADATA {
        return Err(unreadable("a metadata element is implausibly large"));
    }
    let mut buf = vec![0u8; size as usize];
    file.read_exact(&mut buf)
        .map_err(|_| unreadable("a metadata element is cut off"))?;
    Ok(buf)
}

fn webm(file: &mut File, len: u64) -> Result<VideoInfo, MediaError> {
    // The EBML header says which flavour of Matroska this is.
    let (id, size, _) = read_header(file)?.ok_or_else(|| unreadable("it is empty"))?;
    if id != EBML {
        return Err(unreadable("it does not start with an EBML header"));
    }
    let header = read_body(file, size)?;
    let doc_type = elements(&header)
        .find(|(id, _)| *id == DOC_TYPE)
        .map(|(_, v)| {
            String::from_utf8_lossy(v)
                .trim_end_matches('\0')
                .to_string()
        })
        .unwrap_or_default();
    if doc_type != "webm" {
        return Err(MediaError::Unplayable(format!(
            "the file is a Matroska ({doc_type:?}) video, which not every browser plays; remux or re-encode it \
             as WebM or MP4 ({REENCODE})"
        )));
    }
    let (id, _, _) = read_header(file)?.ok_or_else(|| unreadable("it has no segment"))?;
    if id != SEGMENT {
        return Err(unreadable("it has no segment after its header"));
    }
    let (mut scale, mut duration_ticks) = (1_000_000u64, None);
    // The first video track: (codec id, nanoseconds per frame, width, height).
    type Track = (String, Option<u64>, Option<u64>, Option<u64>);
    let mut track: Option<Track> = None;
    let mut saw_audio = false;
    // Walk the segment's top-level elements until the first cluster: Info and Tracks come before it.
    loop {
        let pos = file.stream_position()?;
        if pos >= len {
            break;
        }
        let Some((id, size, _)) = read_header(file)? else {
            break;
        };
        match id {
            INFO => {
                for (id, v) in elements(&read_body(file, size)?) {
                    match id {
                        TIMESTAMP_SCALE => scale = uint(v).max(1),
                        DURATION => duration_ticks = float(v),
                        _ => {}
                    }
                }
            }
            TRACKS => {
                for (id, entry) in elements(&read_body(file, size)?) {
                    if id != TRACK_ENTRY {
                        continue;
                    }
                    let (mut kind, mut codec, mut frame_ns, mut w, mut h) =
                        (0, None, None, None, None);
                    for (id, v) in elements(entry) {
                        match id {
                            TRACK_TYPE => kind = uint(v),
                            CODEC_ID => codec = Some(String::from_utf8_lossy(v).to_string()),
                            DEFAULT_DURATION => frame_ns = Some(uint(v)),
                            VIDEO => {
                                for (id, v) in elements(v) {
                                    match id {
                                        PIXEL_WIDTH => w = Some(uint(v)),
                                        PIXEL_HEIGHT => h = Some(uint(v)),
                                        _ => {}
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                    if kind == 2 {
                        saw_audio = true;
                    }
                    if kind == 1 && track.is_none() {
                        track = Some((codec.unwrap_or_default(), frame_ns, w, h));
                    }
                }
            }
            CLUSTER => break,
            _ => match size {
                Some(s) => {
                    file.seek(SeekFrom::Current(
                        i64::try_from(s).map_err(|_| unreadable("an element is too large"))?,
                    ))?;
                }
                None => break,
            },
        }
        if track.is_some() && duration_ticks.is_some() {
            break;
        }
    }
    let Some((codec_id, frame_ns, w, h)) = track else {
        return Err(if saw_audio {
            MediaError::Unsupported(
                "the WebM file has no video track (only audio); upload audio as Ogg, MP3 or WAV"
                    .into(),
            )
        } else {
            unreadable("it has no video track")
        });
    };
    let codec = match codec_id.as_str() {
        "V_VP8" => "vp8",
        "V_VP9" => "vp9",
        "V_AV1" => "av1",
        other => {
            return Err(MediaError::Unplayable(format!(
                "the WebM video codec {other:?} is not one browsers play (VP8, VP9 or AV1); {REENCODE}"
            )));
        }
    };
    let to_u32 = |v: Option<u64>| v.and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0);
    Ok(VideoInfo {
        codec,
        width: to_u32(w),
        height: to_u32(h),
        duration: duration_ticks
            .filter(|d| d.is_finite() && *d > 0.0)
            .map(|d| d * scale as f64 / 1e9),
        fps: frame_ns
            .filter(|n| *n > 0)
            .map(|n| round_fps(1e9 / n as f64)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_length_integers_decode() {
        assert_eq!(vint(&[0x81], false), Some((Some(1), 1)));
        assert_eq!(vint(&[0x40, 0x02], false), Some((Some(2), 2)));
        assert_eq!(vint(&[0xff], false), Some((None, 1)));
        assert_eq!(
            vint(&[0x1a, 0x45, 0xdf, 0xa3], true),
            Some((Some(0x1A45DFA3), 4))
        );
        assert_eq!(vint(&[0x00], false), None);
    }

    #[test]
    fn nested_boxes_stop_at_a_lying_size() {
        let mut b = Vec::new();
        b.extend_from_slice(&12u32.to_be_bytes());
        b.extend_from_slice(b"abcd");
        b.extend_from_slice(&[1, 2, 3, 4]);
        b.extend_from_slice(&999u32.to_be_bytes());
        b.extend_from_slice(b"efgh");
        let found: Vec<_> = boxes(&b).map(|(k, c)| (k, c.len())).collect();
        assert_eq!(found, vec![(*b"abcd", 4)]);
    }
}
