//! Media for Fairloop: where the bytes of images, videos and audio clips live, and what they are.
//!
//! This crate knows files and object storage, never the database or HTTP:
//! - [`store`]: the [`MediaStore`], one interface over a local directory (the default, under the data
//!   directory) and S3-compatible storage (`object_store`), with streamed writes and ranged, streamed reads;
//! - [`sniff`]: the format read from the first bytes of a file, never from its name or a client's header;
//! - [`picture`]: image dimensions checked against a pixel limit *before* decoding (decompression bombs), a full
//!   decode to refuse corrupt files, and a thumbnail;
//! - [`video`]: duration, frame rate, size and codec read from the MP4 or WebM container (pure Rust, no
//!   ffmpeg), and a refusal of codecs browsers do not play;
//! - [`poster`]: a poster frame for a video through `ffmpeg` when it is on the PATH, else a neutral placeholder
//!   that shows the video's size and duration.
//!
//! [`probe`] ties these together for the upload path: it either describes a file completely (with its
//! thumbnail) or says in one sentence why the file is refused.

use std::io::Read;
use std::path::Path;

pub mod audio;
pub mod picture;
pub mod poster;
#[cfg(feature = "s3")]
mod s3http;
pub mod sniff;
pub mod store;
pub mod synth;
pub mod video;

pub use sniff::{Format, MediaKind};
pub use store::{MediaRead, MediaStore, ObjectKey};

/// Why a file was refused, or why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// Not one of the accepted formats (the message says what it is and what is accepted).
    #[error("{0}")]
    Unsupported(String),
    /// An SVG file (see [`sniff::SVG_REFUSED`]).
    #[error("{0}")]
    Svg(String),
    /// An image whose header declares more pixels than allowed: refused before any pixel is decoded.
    #[error(
        "the image is {width}×{height} pixels ({pixels} in all), over the limit of {limit} pixels; scale it down \
         (a header this large is also how decompression bombs look)",
        pixels = u64::from(*width) * u64::from(*height)
    )]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The configured limit.
        limit: u64,
    },
    /// The file starts like an accepted format but cannot be read through.
    #[error("{0}")]
    Corrupt(String),
    /// A video a browser cannot play (codec or container).
    #[error("{0}")]
    Unplayable(String),
    /// The object is not in the store.
    #[error("the media object is not in the store")]
    NotFound,
    /// The storage backend failed (disk, network, credentials).
    #[error("media storage: {0}")]
    Store(String),
    /// A local file could not be read or written.
    #[error("media file: {0}")]
    Io(#[from] std::io::Error),
}

impl MediaError {
    /// The stable API code of a refusal (`None` for failures on our side).
    pub fn code(&self) -> Option<&'static str> {
        match self {
            MediaError::Unsupported(_) => Some("unsupported_media"),
            MediaError::Svg(_) => Some("svg_refused"),
            MediaError::TooManyPixels { .. } => Some("image_too_large"),
            MediaError::Corrupt(_) => Some("corrupt_media"),
            MediaError::Unplayable(_) => Some("unplayable_video"),
            MediaError::NotFound | MediaError::Store(_) | MediaError::Io(_) => None,
        }
    }
}

/// Limits and switches of the upload path.
#[derive(Debug, Clone)]
pub struct ProbeLimits {
    /// Most pixels (width × height) an image may declare.
    pub max_image_pixels: u64,
    /// Longest side of thumbnails and posters, in pixels.
    pub thumbnail_size: u32,
    /// Try `ffmpeg` for video posters (falls back to the placeholder when it is missing or fails).
    pub use_ffmpeg: bool,
}

impl Default for ProbeLimits {
    fn default() -> Self {
        ProbeLimits {
            max_image_pixels: 50_000_000,
            thumbnail_size: 256,
            use_ffmpeg: true,
        }
    }
}

/// A small picture shown in lists and as a video's poster.
#[derive(Debug, Clone)]
pub struct Thumbnail {
    /// Encoded bytes.
    pub bytes: Vec<u8>,
    /// `image/jpeg` or `image/png`.
    pub content_type: &'static str,
}

/// Everything the upload path learns about an accepted file.
#[derive(Debug, Clone)]
pub struct Probed {
    /// The format read from the bytes.
    pub format: Format,
    /// Width in pixels (images; videos when the container says).
    pub width: Option<u32>,
    /// Height in pixels.
    pub height: Option<u32>,
    /// Duration in seconds (videos; WAV audio), when known.
    pub duration: Option<f64>,
    /// Frames per second (videos), when the container says.
    pub fps: Option<f64>,
    /// The video codec (`h264`, `vp8`, `vp9`, `av1`).
    pub codec: Option<String>,
    /// Thumbnail (images) or poster (videos); none for audio.
    pub thumbnail: Option<Thumbnail>,
}

/// Describes the file at `path` completely, or refuses it with a reason. Blocking: call it off the async
/// workers. Nothing here trusts the file's name.
pub fn probe(path: &Path, limits: &ProbeLimits) -> Result<Probed, MediaError> {
    let mut head = Vec::with_capacity(sniff::SNIFF_LEN);
    std::fs::File::open(path)?
        .take(sniff::SNIFF_LEN as u64)
        .read_to_end(&mut head)?;
    let format = sniff::sniff(&head)?;
    match format.kind() {
        MediaKind::Image => {
            let (width, height, thumbnail) = picture::check_and_thumbnail(path, format, limits)?;
            Ok(Probed {
                format,
                width: Some(width),
                height: Some(height),
                duration: None,
                fps: None,
                codec: None,
                thumbnail: Some(thumbnail),
            })
        }
        MediaKind::Video => {
            let info = video::read_info(path, format)?;
            let thumbnail = poster::poster(path, &info, limits);
            Ok(Probed {
                format,
                width: info.width,
                height: info.height,
                duration: info.duration,
                fps: info.fps,
                codec: Some(info.codec.to_string()),
                thumbnail: Some(thumbnail),
            })
        }
        MediaKind::Audio => {
            let duration = audio::check(path, format)?;
            Ok(Probed {
                format,
                width: None,
                height: None,
                duration,
                fps: None,
                codec: None,
                thumbnail: None,
            })
        }
    }
}

/// The SHA-256 (hex) and length of a file, read in 64 KiB blocks.
pub fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    use sha2::Digest;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        len += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((hex::encode(hasher.finalize()), len))
}
