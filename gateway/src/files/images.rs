//! Raster images as they are served: decoded once within a pixel bound (a decompression bomb
//! is refused from its header, before any pixel is allocated), turned upright by their EXIF
//! orientation, then re-encoded from the pixels alone, so no metadata (GPS position, camera
//! serial, comments) reaches the reader; and a thumbnail made here, not by the browser.
//!
//! GIFs are kept as sent: re-encoding would lose their animation, and the format has no EXIF.

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

use crate::error::{Error, Result};

/// Most pixels decoded: a 40-megapixel photo is about 160 MB of pixels while it is decoded.
pub const MAX_PIXELS: u64 = 40_000_000;
/// A thumbnail fits in this square.
pub const THUMBNAIL_EDGE: u32 = 320;

/// An image ready to be stored.
pub struct Cleaned {
    /// The bytes served: re-encoded, or the original GIF.
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
    /// Always a JPEG (transparency over white), so its type needs no record of its own.
    pub thumbnail: Vec<u8>,
}

/// Cleans one image; CPU-bound, so callers run it off the async threads.
pub fn clean(data: &[u8], format: ImageFormat) -> Result<Cleaned> {
    let reader = || ImageReader::with_format(Cursor::new(data), format);
    let (width, height) = reader()
        .into_dimensions()
        .map_err(|e| Error::ImageRefused(e.to_string()))?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Error::ImageRefused(format!(
            "{width}×{height} pixels is more than {MAX_PIXELS}"
        )));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    // The decoded pixels (at most 16 bits × 4 channels each) and the decoder's own buffers.
    limits.max_alloc = Some(MAX_PIXELS * 8 + (64 << 20));
    let mut decoder = {
        let mut reader = reader();
        reader.limits(limits);
        reader
            .into_decoder()
            .map_err(|e| Error::ImageRefused(e.to_string()))?
    };
    let orientation = decoder
        .orientation()
        .map_err(|e| Error::ImageRefused(e.to_string()))?;
    let mut pixels =
        DynamicImage::from_decoder(decoder).map_err(|e| Error::ImageRefused(e.to_string()))?;
    pixels.apply_orientation(orientation);
    let (bytes, content_type) = match format {
        ImageFormat::Gif => (data.to_vec(), "image/gif"),
        ImageFormat::Jpeg => (encode_jpeg(&pixels, 90)?, "image/jpeg"),
        // PNG stays PNG; WebP becomes PNG (the encoder here writes lossless WebP only, far
        // larger than the photo it came from).
        _ => (encode_png(&pixels)?, "image/png"),
    };
    let thumbnail = encode_jpeg(
        &on_white(pixels.thumbnail(THUMBNAIL_EDGE, THUMBNAIL_EDGE)),
        80,
    )?;
    Ok(Cleaned {
        bytes,
        content_type,
        width: pixels.width(),
        height: pixels.height(),
        thumbnail,
    })
}

/// The image over a white background: what a chat bubble shows behind a transparent one.
fn on_white(pixels: DynamicImage) -> DynamicImage {
    if !pixels.color().has_alpha() {
        return pixels;
    }
    let mut rgba = pixels.to_rgba8();
    for pixel in rgba.pixels_mut() {
        let alpha = u16::from(pixel[3]);
        for channel in 0..3 {
            let over = u16::from(pixel[channel]) * alpha + 255 * (255 - alpha);
            pixel[channel] = (over / 255) as u8;
        }
        pixel[3] = 255;
    }
    DynamicImage::ImageRgba8(rgba)
}

fn encode_jpeg(pixels: &DynamicImage, quality: u8) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    // JPEG has no alpha: whatever was transparent is dropped, as every viewer would.
    DynamicImage::ImageRgb8(pixels.to_rgb8())
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, quality))
        .map_err(|e| Error::Internal(format!("encoding a JPEG: {e}")))?;
    Ok(out)
}

fn encode_png(pixels: &DynamicImage) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    pixels
        .write_with_encoder(PngEncoder::new(&mut out))
        .map_err(|e| Error::Internal(format!("encoding a PNG: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(RgbImage::from_pixel(width, height, Rgb([200, 10, 10])))
            .write_with_encoder(PngEncoder::new(&mut out))
            .unwrap();
        out
    }

    #[test]
    fn an_image_gets_a_thumbnail_within_the_square() {
        let cleaned = clean(&png(1000, 500), ImageFormat::Png).unwrap();
        assert_eq!((cleaned.width, cleaned.height), (1000, 500));
        let thumb = image::load_from_memory(&cleaned.thumbnail).unwrap();
        assert_eq!(
            (thumb.width(), thumb.height()),
            (THUMBNAIL_EDGE, THUMBNAIL_EDGE / 2)
        );
    }

    #[test]
    fn a_header_claiming_too_many_pixels_is_refused_before_decoding() {
        // A valid PNG header (its checksum right) for 100,000 × 100,000 pixels, and a few bytes
        // of data: decoded, it would be 30 GB.
        let mut bomb = Vec::new();
        {
            let mut writer = png::Encoder::new(&mut bomb, 100_000, 100_000)
                .write_header()
                .unwrap();
            writer
                .write_chunk(png::chunk::IDAT, &[0x78, 0x9c, 0x03, 0x00])
                .unwrap();
        }
        assert!(bomb.len() > 30, "the header was written");
        let refused = clean(&bomb, ImageFormat::Png);
        assert!(
            matches!(&refused, Err(Error::ImageRefused(why)) if why.contains("more than")),
            "refused for its size, not as unreadable: {:?}",
            refused.as_ref().err()
        );
        assert!(matches!(
            clean(b"\x89PNG\r\n\x1a\nnot really", ImageFormat::Png),
            Err(Error::ImageRefused(_))
        ));
    }
}
