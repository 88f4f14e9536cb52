//! Synthetic and hostile images, made in code.

use std::io::Cursor;

use image::codecs::gif::GifEncoder;
use image::{DynamicImage, Frame, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

pub fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

/// A photo-like picture: smooth gradients with a texture, different in every corner.
pub fn photo(width: u32, height: u32, seed: u8) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        let texture = ((x * 7 + y * 13) % 23) as u8;
        Rgb([
            ((x * 255 / width) as u8).wrapping_add(seed),
            (y * 255 / height) as u8,
            texture.wrapping_mul(5).wrapping_add(seed),
        ])
    }))
}

pub fn photo_jpeg(width: u32, height: u32, seed: u8) -> Vec<u8> {
    encoded(&photo(width, height, seed), ImageFormat::Jpeg)
}

/// A PNG whose left half is fully transparent.
pub fn png_with_alpha(width: u32, height: u32) -> Vec<u8> {
    let image = RgbaImage::from_fn(width, height, |x, y| {
        Rgba([
            (x % 256) as u8,
            (y % 256) as u8,
            90,
            if x < width / 2 { 0 } else { 255 },
        ])
    });
    encoded(&DynamicImage::ImageRgba8(image), ImageFormat::Png)
}

/// A small valid PNG whose header (with a correct CRC) claims other dimensions.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = encoded(&photo(2, 2, 0), ImageFormat::Png);
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32fast::hash(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// A one-pixel GIF whose logical screen claims 65535 x 65535.
pub fn gif_claiming_huge_screen() -> Vec<u8> {
    let mut gif = Vec::new();
    GifEncoder::new(&mut gif)
        .encode_frame(Frame::new(RgbaImage::from_pixel(
            1,
            1,
            Rgba([1, 2, 3, 255]),
        )))
        .unwrap();
    gif[6..10].copy_from_slice(&[0xFF; 4]);
    gif
}

/// Deterministic noise.
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Mean absolute difference per channel of two images of the same size, 0 to 255.
pub fn mean_difference(a: &DynamicImage, b: &DynamicImage) -> f64 {
    let (a, b) = (a.to_rgb8(), b.to_rgb8());
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}
