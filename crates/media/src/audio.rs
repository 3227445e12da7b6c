//! Audio: a light check that the file is what it starts like, and its duration where that is cheap to know.
//!
//! Audio fields are played by the browser's own `<audio>` element, so there is no size or frame rate to read;
//! the duration helps the transcription widgets and exports. WAV gives it from its header, Ogg from the last
//! page's granule position; MP3 (often variable bit rate) is left without one rather than guessed.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::{Format, MediaError};

/// Checks an audio file and answers its duration in seconds when known.
pub fn check(path: &Path, format: Format) -> Result<Option<f64>, MediaError> {
    let mut file = File::open(path)?;
    match format {
        Format::Wav => wav(&mut file).map(Some),
        Format::Ogg => ogg(&mut file),
        Format::Mp3 => Ok(None),
        other => unreachable!("{other:?} is not an audio format"),
    }
}

fn corrupt(what: &str) -> MediaError {
    MediaError::Corrupt(format!("the audio file is corrupt or truncated: {what}"))
}

fn wav(file: &mut File) -> Result<f64, MediaError> {
    let mut riff = [0u8; 12];
    file.read_exact(&mut riff)
        .map_err(|_| corrupt("the WAV header is cut off"))?;
    let mut byte_rate = None;
    loop {
        let mut h = [0u8; 8];
        if file.read_exact(&mut h).is_err() {
            return Err(corrupt("the WAV file has no data chunk"));
        }
        let size = u32::from_le_bytes(h[4..8].try_into().expect("4 bytes")) as u64;
        match &h[0..4] {
            b"fmt " => {
                let mut fmt = vec![0u8; size.min(64) as usize];
                file.read_exact(&mut fmt)
                    .map_err(|_| corrupt("the WAV format chunk is cut off"))?;
                byte_rate = fmt
                    .get(8..12)
                    .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
                    .filter(|r| *r > 0);
                file.seek(SeekFrom::Current(
                    size as i64 - fmt.len() as i64 + (size & 1) as i64,
                ))?;
            }
            b"data" => {
                let rate =
                    byte_rate.ok_or_else(|| corrupt("the WAV data comes before its format"))?;
                return Ok(size as f64 / rate as f64);
            }
            _ => {
                file.seek(SeekFrom::Current(size as i64 + (size & 1) as i64))?;
            }
        }
    }
}

fn ogg(file: &mut File) -> Result<Option<f64>, MediaError> {
    let len = file.metadata()?.len();
    let mut first = vec![0u8; 4096.min(len as usize)];
    file.read_exact(&mut first)
        .map_err(|_| corrupt("the Ogg header is cut off"))?;
    // The first page holds the codec's identification header after the segment table.
    let segments = *first
        .get(26)
        .ok_or_else(|| corrupt("the first Ogg page is cut off"))? as usize;
    let packet = first
        .get(27 + segments..)
        .ok_or_else(|| corrupt("the first Ogg page is cut off"))?;
    let rate = if packet.starts_with(b"\x01vorbis") {
        packet
            .get(12..16)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as f64)
    } else if packet.starts_with(b"OpusHead") {
        Some(48_000.0)
    } else if packet.starts_with(b"\x7fFLAC") {
        None
    } else if packet.starts_with(b"\x80theora") {
        return Err(MediaError::Unsupported(
            "the file is Ogg Theora video, which browsers no longer play; upload video as MP4 or WebM".into(),
        ));
    } else {
        return Err(corrupt(
            "the Ogg stream holds no Vorbis, Opus or FLAC audio",
        ));
    };
    // The last page's granule position counts samples since the start.
    let tail_len = len.min(65_536);
    file.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0u8; tail_len as usize];
    file.read_exact(&mut tail)?;
    let last = tail.windows(4).rposition(|w| w == b"OggS");
    let granule = last
        .and_then(|at| tail.get(at + 6..at + 14))
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
    Ok(match (rate, granule) {
        (Some(r), Some(g)) if r > 0.0 && g != u64::MAX => Some(g as f64 / r),
        _ => None,
    })
}
