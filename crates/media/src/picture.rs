//! Images: the pixel limit checked on the header, a full decode, and a thumbnail.
//!
//! A decompression bomb is a small file whose header promises an enormous picture (a 50 KB PNG of 100,000 ×
//! 100,000 pixels decodes to 40 GB). So the header's dimensions are read first and compared with the limit
//! before a single pixel buffer is allocated; the decoder then also runs under `image::Limits`, so a file that
//! lies in its header cannot allocate more than the limit allows either. The full decode is what proves the
//! file is not corrupt (a truncated PNG fails here), and its result gives the thumbnail.

use std::io::{BufReader, Cursor};
use std::path::Path;

use image::{DynamicImage, ImageFormat, ImageReader};

use crate::{Format, MediaError, ProbeLimits, Thumbnail};

/// Longest side accepted whatever the pixel limit (the decoders' own ceiling is 65,535 for several formats).
const MAX_SIDE: u32 = 60_000;

fn image_format(format: Format) -> ImageFormat {
    match format {
        Format::Png => ImageFormat::Png,
        Format::Jpeg => ImageFormat::Jpeg,
        Format::WebP => ImageFormat::WebP,
        Format::Gif => ImageFormat::Gif,
        other => unreachable!("{other:?} is not an image format"),
    }
}

fn reader(
    path: &Path,
    format: Format,
    limits: image::Limits,
) -> Result<ImageReader<BufReader<std::fs::File>>, MediaError> {
    let mut r = ImageReader::new(BufReader::new(std::fs::File::open(path)?));
    r.set_format(image_format(format));
    r.limits(limits);
    Ok(r)
}

/// The limits the decoder runs under: no side over [`MAX_SIDE`], no allocation over what the pixel limit
/// needs at 8 bytes a pixel (16-bit RGBA) plus slack for the decoder's own buffers.
fn decoder_limits(limits: &ProbeLimits) -> image::Limits {
    let mut l = image::Limits::default();
    l.max_image_width = Some(MAX_SIDE);
    l.max_image_height = Some(MAX_SIDE);
    l.max_alloc = Some(
        limits
            .max_image_pixels
            .saturating_mul(8)
            .saturating_add(64 << 20),
    );
    l
}

/// Reads the declared size, refuses bombs, decodes the image fully and makes its thumbnail.
pub fn check_and_thumbnail(
    path: &Path,
    format: Format,
    limits: &ProbeLimits,
) -> Result<(u32, u32, Thumbnail), MediaError> {
    let name = format.extension().to_ascii_uppercase();
    // The header alone, read without limits (no pixel buffer is allocated for it), so the size is known and
    // reported even when it is absurd.
    let (width, height) = reader(path, format, image::Limits::no_limits())?
        .into_dimensions()
        .map_err(|e| corrupt(&name, &e))?;
    if u64::from(width) * u64::from(height) > limits.max_image_pixels
        || width > MAX_SIDE
        || height > MAX_SIDE
    {
        return Err(MediaError::TooManyPixels {
            width,
            height,
            limit: limits.max_image_pixels,
        });
    }
    if width == 0 || height == 0 {
        return Err(MediaError::Corrupt(format!(
            "the {name} image declares a size of {width}×{height} pixels"
        )));
    }
    let img = reader(path, format, decoder_limits(limits))?
        .decode()
        .map_err(|e| corrupt(&name, &e))?;
    Ok((width, height, thumbnail(&img, limits.thumbnail_size)?))
}

fn corrupt(name: &str, e: &image::ImageError) -> MediaError {
    match e {
        image::ImageError::Limits(_) => MediaError::Corrupt(format!(
            "the {name} image needs more memory to decode than its size allows; it is malformed or a \
             decompression bomb"
        )),
        other => MediaError::Corrupt(format!(
            "the {name} image is corrupt or truncated and cannot be decoded ({other})"
        )),
    }
}

/// A thumbnail whose longest side is `size`: JPEG for opaque images, PNG when there is transparency.
pub fn thumbnail(img: &DynamicImage, size: u32) -> Result<Thumbnail, MediaError> {
    let small = if img.width() > size || img.height() > size {
        img.thumbnail(size, size)
    } else {
        img.clone()
    };
    let mut out = Cursor::new(Vec::new());
    let content_type = if small.color().has_alpha() {
        small
            .to_rgba8()
            .write_to(&mut out, ImageFormat::Png)
            .map_err(|e| MediaError::Store(format!("encoding a thumbnail: {e}")))?;
        "image/png"
    } else {
        let rgb = small.to_rgb8();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
            .encode_image(&rgb)
            .map_err(|e| MediaError::Store(format!("encoding a thumbnail: {e}")))?;
        "image/jpeg"
    };
    Ok(Thumbnail {
        bytes: out.into_inner(),
        content_type,
    })
}
