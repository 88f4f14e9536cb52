use std::io::Cursor;
use std::sync::Arc;

use fast_image_resize as fr;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, Limits};

use super::{AvatarName, ImageError, OutputFormat, PipelineSettings};

/// An upload's real format, read from its magic bytes; the declared MIME type does not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Jpeg,
    Png,
    Gif,
    Webp,
}

impl SourceFormat {
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0xFF, 0xD8, 0xFF, ..] => Some(Self::Jpeg),
            [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(Self::Png),
            [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(Self::Gif),
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some(Self::Webp),
            _ => None,
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::Gif => ImageFormat::Gif,
            Self::Webp => ImageFormat::WebP,
        }
    }
}

/// What the header of an accepted upload says, before any pixel is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    pub format: SourceFormat,
    pub width: u32,
    pub height: u32,
}

/// A normalised avatar: its encoded bytes, its name, and its pixels for the thumbnails.
#[derive(Debug, Clone)]
pub struct Normalised {
    pub name: AvatarName,
    pub bytes: Vec<u8>,
    pub pixels: Arc<DynamicImage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    pub size: u32,
    pub bytes: Vec<u8>,
}

/// Sniffs the format and reads the declared dimensions, refusing an image over the limits
/// before a pixel buffer exists.
pub fn inspect(bytes: &[u8], settings: &PipelineSettings) -> Result<SourceInfo, ImageError> {
    let format = SourceFormat::sniff(bytes).ok_or(ImageError::UnknownFormat)?;
    if format == SourceFormat::Jpeg && !jpeg_reaches_its_end(bytes) {
        return Err(ImageError::Undecodable("the JPEG is truncated".into()));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.no_limits();
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| ImageError::Undecodable(e.to_string()))?;
    if width == 0 || height == 0 {
        return Err(ImageError::Undecodable("the image has no pixels".into()));
    }
    let too_large = width > settings.max_source_side
        || height > settings.max_source_side
        || u64::from(width) * u64::from(height) > settings.max_source_pixels;
    if too_large {
        return Err(ImageError::TooLarge { width, height });
    }
    Ok(SourceInfo {
        format,
        width,
        height,
    })
}

/// Walks the JPEG's segments and entropy-coded scans to its end-of-image marker. The decoder
/// would paint a truncated photo's missing part grey; a truncated upload is refused instead.
fn jpeg_reaches_its_end(bytes: &[u8]) -> bool {
    const EOI: u8 = 0xD9;
    const SOS: u8 = 0xDA;
    let segment_end = |at: usize| -> Option<usize> {
        let length = u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]);
        Some(at + usize::from(length))
    };
    let mut at = 2;
    loop {
        // Tolerate stray bytes between segments, as decoders do; a marker starts at an 0xFF.
        while at < bytes.len() && bytes[at] != 0xFF {
            at += 1;
        }
        while at < bytes.len() && bytes[at] == 0xFF {
            at += 1;
        }
        let Some(&marker) = bytes.get(at) else {
            return false;
        };
        at += 1;
        match marker {
            EOI => return true,
            0x01 | 0xD0..=0xD7 => {}
            SOS => {
                let Some(scan_start) = segment_end(at) else {
                    return false;
                };
                at = scan_start;
                // Entropy-coded data ends at an 0xFF that is neither stuffing nor a restart.
                loop {
                    match bytes.get(at..at + 2) {
                        None => return false,
                        Some([0xFF, 0x00 | 0xD0..=0xD7]) => at += 2,
                        Some([0xFF, _]) => break,
                        Some(_) => at += 1,
                    }
                }
            }
            _ => match segment_end(at) {
                Some(end) => at = end,
                None => return false,
            },
        }
    }
}

/// Decodes under limits, caps the longest side, applies the EXIF orientation and re-encodes
/// without any metadata: JPEG when no pixel is transparent, PNG otherwise. An animation
/// keeps its first frame.
pub fn normalise(
    bytes: &[u8],
    info: &SourceInfo,
    settings: &PipelineSettings,
) -> Result<Normalised, ImageError> {
    let shrunk = match info.format {
        SourceFormat::Jpeg => decode_jpeg_shrunk(bytes, info, settings.max_side),
        _ => None,
    };
    let (decoded, orientation) = match shrunk {
        Some(decoded) => decoded,
        None => decode(bytes, info.format.image_format(), settings)?,
    };
    let mut pixels = cap_longest_side(flatten(decoded), settings.max_side)?;
    pixels.apply_orientation(orientation);
    let (bytes, format) = encode(&pixels, settings.jpeg_quality)?;
    Ok(Normalised {
        name: AvatarName::for_content(&bytes, format),
        bytes,
        pixels: Arc::new(pixels),
    })
}

/// Centre-cropped squares of every configured size, encoded like the avatar they come from.
pub fn thumbnails(
    pixels: &DynamicImage,
    settings: &PipelineSettings,
) -> Result<Vec<Thumbnail>, ImageError> {
    let (width, height) = (pixels.width(), pixels.height());
    let side = width.min(height);
    let crop = (
        f64::from((width - side) / 2),
        f64::from((height - side) / 2),
        f64::from(side),
        f64::from(side),
    );
    settings
        .thumbnail_sizes
        .iter()
        .map(|&size| {
            let square = resize(pixels, size, size, Some(crop))?;
            let (bytes, _) = encode(&square, settings.jpeg_quality)?;
            Ok(Thumbnail { size, bytes })
        })
        .collect()
}

/// The pixels of an avatar the service stored earlier, for thumbnails made on demand.
pub fn decode_stored(
    bytes: &[u8],
    format: OutputFormat,
    settings: &PipelineSettings,
) -> Result<DynamicImage, ImageError> {
    let format = match format {
        OutputFormat::Jpeg => ImageFormat::Jpeg,
        OutputFormat::Png => ImageFormat::Png,
    };
    decode(bytes, format, settings).map(|(image, _)| flatten(image))
}

pub fn decode(
    bytes: &[u8],
    format: ImageFormat,
    settings: &PipelineSettings,
) -> Result<(DynamicImage, Orientation), ImageError> {
    let undecodable = |e: image::ImageError| ImageError::Undecodable(e.to_string());
    let mut limits = Limits::default();
    limits.max_image_width = Some(settings.max_source_side);
    limits.max_image_height = Some(settings.max_source_side);
    // Room for the largest allowed image at 16 bits per channel with alpha, plus decoder state.
    limits.max_alloc = Some(settings.max_source_pixels * 8 + (64 << 20));
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(undecodable)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(undecodable)?;
    Ok((image, orientation))
}

/// Shrink-on-load: a JPEG much larger than the target is decoded at 1/2, 1/4 or 1/8 scale in
/// the DCT domain (the smallest scale still at least the target), as libvips does, which saves
/// most of the IDCT, colour conversion and memory. `None` when it does not apply (small images,
/// CMYK and other rare pixel formats), and the full decoder takes over.
pub fn decode_jpeg_shrunk(
    bytes: &[u8],
    info: &SourceInfo,
    max_side: u32,
) -> Option<(DynamicImage, Orientation)> {
    let longest = info.width.max(info.height);
    if longest < max_side * 2 {
        return None;
    }
    let scale = f64::from(max_side) / f64::from(longest);
    let target = |side: u32| {
        (f64::from(side) * scale)
            .ceil()
            .clamp(1.0, f64::from(u16::MAX)) as u16
    };
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().ok()?;
    let (width, height) = decoder
        .scale(target(info.width), target(info.height))
        .ok()?;
    let pixels = decoder.decode().ok()?;
    let orientation = decoder
        .exif_data()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    let (width, height) = (u32::from(width), u32::from(height));
    let image = match decoder.info()?.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => {
            DynamicImage::ImageRgb8(image::RgbImage::from_raw(width, height, pixels)?)
        }
        jpeg_decoder::PixelFormat::L8 => {
            DynamicImage::ImageLuma8(image::GrayImage::from_raw(width, height, pixels)?)
        }
        _ => return None,
    };
    Some((image, orientation))
}

/// 8-bit RGB, or 8-bit RGBA when some pixel is not opaque.
pub fn flatten(image: DynamicImage) -> DynamicImage {
    if !image.color().has_alpha() {
        return DynamicImage::ImageRgb8(image.into_rgb8());
    }
    let rgba = image.into_rgba8();
    if rgba.pixels().any(|p| p.0[3] != u8::MAX) {
        DynamicImage::ImageRgba8(rgba)
    } else {
        DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(rgba).into_rgb8())
    }
}

pub fn cap_longest_side(image: DynamicImage, max_side: u32) -> Result<DynamicImage, ImageError> {
    let (width, height) = (image.width(), image.height());
    let longest = width.max(height);
    if longest <= max_side {
        return Ok(image);
    }
    let scale = f64::from(max_side) / f64::from(longest);
    let scaled = |side: u32| ((f64::from(side) * scale).round() as u32).clamp(1, max_side);
    resize(&image, scaled(width), scaled(height), None)
}

fn resize(
    source: &DynamicImage,
    width: u32,
    height: u32,
    crop: Option<(f64, f64, f64, f64)>,
) -> Result<DynamicImage, ImageError> {
    let mut target = match source {
        DynamicImage::ImageRgba8(_) => DynamicImage::new_rgba8(width, height),
        _ => DynamicImage::new_rgb8(width, height),
    };
    let mut options =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
    if let Some((left, top, crop_width, crop_height)) = crop {
        options = options.crop(left, top, crop_width, crop_height);
    }
    fr::Resizer::new()
        .resize(source, &mut target, &options)
        .map_err(|e| ImageError::Encode(e.to_string()))?;
    Ok(target)
}

pub fn encode(
    image: &DynamicImage,
    jpeg_quality: u8,
) -> Result<(Vec<u8>, OutputFormat), ImageError> {
    let (width, height) = (image.width(), image.height());
    let mut bytes = Vec::new();
    match image {
        DynamicImage::ImageRgba8(rgba) => {
            PngEncoder::new_with_quality(&mut bytes, CompressionType::Fast, PngFilter::Adaptive)
                .write_image(rgba, width, height, image::ExtendedColorType::Rgba8)
                .map_err(|e| ImageError::Encode(e.to_string()))?;
            Ok((bytes, OutputFormat::Png))
        }
        _ => {
            let rgb = image.to_rgb8();
            let side = |v: u32| {
                u16::try_from(v).map_err(|_| ImageError::Encode("over 65535 pixels".into()))
            };
            jpeg_encoder::Encoder::new(&mut bytes, jpeg_quality)
                .encode(
                    &rgb,
                    side(width)?,
                    side(height)?,
                    jpeg_encoder::ColorType::Rgb,
                )
                .map_err(|e| ImageError::Encode(e.to_string()))?;
            Ok((bytes, OutputFormat::Jpeg))
        }
    }
}
