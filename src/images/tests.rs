use std::io::Cursor;

use image::codecs::gif::GifEncoder;
use image::{DynamicImage, Frame, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

use super::*;

fn settings() -> PipelineSettings {
    PipelineSettings {
        max_source_pixels: 40_000_000,
        max_source_side: 10_000,
        max_side: 1024,
        jpeg_quality: 85,
        thumbnail_sizes: vec![32, 64, 128, 256],
    }
}

fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

fn gradient(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    }))
}

fn run(bytes: &[u8]) -> Result<Normalised, ImageError> {
    let info = inspect(bytes, &settings())?;
    normalise(bytes, &info, &settings())
}

/// Mean absolute difference per channel of two images of one size, 0 to 255.
fn mean_difference(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

fn decoded(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).unwrap()
}

/// A valid PNG whose IHDR (with a correct CRC) claims other dimensions than its data has.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = encoded(&gradient(2, 2), ImageFormat::Png);
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32fast::hash(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

#[test]
fn formats_are_sniffed_from_magic_bytes() {
    let image = gradient(4, 4);
    for (format, expected) in [
        (ImageFormat::Jpeg, SourceFormat::Jpeg),
        (ImageFormat::Png, SourceFormat::Png),
        (ImageFormat::Gif, SourceFormat::Gif),
        (ImageFormat::WebP, SourceFormat::Webp),
    ] {
        assert_eq!(
            SourceFormat::sniff(&encoded(&image, format)),
            Some(expected)
        );
    }
    for hostile in [
        &b"<!DOCTYPE html><html><body>hi</body></html>"[..],
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
        b"#!/bin/sh\nrm -rf /\n",
        b"",
        b"\xFF\xD8",
    ] {
        assert_eq!(SourceFormat::sniff(hostile), None);
    }
}

#[test]
fn oversized_headers_are_refused_before_decoding() {
    assert_eq!(
        inspect(&png_claiming(100_000, 100_000), &settings()),
        Err(ImageError::TooLarge {
            width: 100_000,
            height: 100_000
        })
    );
    // Within the side limit but over the pixel limit.
    assert!(matches!(
        inspect(&png_claiming(9_000, 9_000), &settings()),
        Err(ImageError::TooLarge { .. })
    ));
    let mut gif = encoded(&gradient(1, 1), ImageFormat::Gif);
    gif[6..10].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    assert!(matches!(
        inspect(&gif, &settings()),
        Err(ImageError::TooLarge {
            width: 65535,
            height: 65535
        })
    ));
}

#[test]
fn broken_images_do_not_decode() {
    let jpeg = encoded(&gradient(300, 200), ImageFormat::Jpeg);
    for cut in [jpeg.len() / 3, jpeg.len() - 2, 300] {
        assert!(
            matches!(run(&jpeg[..cut]), Err(ImageError::Undecodable(_))),
            "cut at {cut}"
        );
    }
    let mut noise = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    noise.extend((0..500u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    assert!(run(&noise).is_err());
    // A header that lies about its size is caught by the decoder's own checks.
    assert!(run(&png_claiming(3000, 3000)).is_err());
}

#[test]
fn the_longest_side_is_capped_and_never_upscaled() {
    let big = run(&encoded(&gradient(3000, 1500), ImageFormat::Png)).unwrap();
    assert_eq!(big.name.format(), OutputFormat::Jpeg);
    let image = decoded(&big.bytes);
    assert_eq!((image.width(), image.height()), (1024, 512));
    let small = run(&encoded(&gradient(300, 200), ImageFormat::Jpeg)).unwrap();
    let image = decoded(&small.bytes);
    assert_eq!((image.width(), image.height()), (300, 200));
}

#[test]
fn transparency_keeps_png_and_opaque_alpha_becomes_jpeg() {
    let see_through = DynamicImage::ImageRgba8(RgbaImage::from_fn(64, 48, |x, _| {
        Rgba([200, 10, 10, if x < 32 { 0 } else { 255 }])
    }));
    let out = run(&encoded(&see_through, ImageFormat::Png)).unwrap();
    assert_eq!(out.name.format(), OutputFormat::Png);
    let image = decoded(&out.bytes);
    assert!(image.color().has_alpha());
    assert_eq!(image.to_rgba8().get_pixel(0, 0).0[3], 0);
    assert_eq!(image.to_rgba8().get_pixel(63, 0).0[3], 255);

    let opaque = DynamicImage::ImageRgba8(RgbaImage::from_pixel(10, 10, Rgba([1, 2, 3, 255])));
    let out = run(&encoded(&opaque, ImageFormat::Png)).unwrap();
    assert_eq!(out.name.format(), OutputFormat::Jpeg);
}

#[test]
fn an_animation_keeps_its_first_frame() {
    let mut gif = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut gif);
        for colour in [[250, 0, 0, 255], [0, 0, 250, 255]] {
            let frame = Frame::new(RgbaImage::from_pixel(16, 16, Rgba(colour)));
            encoder.encode_frame(frame).unwrap();
        }
    }
    let out = run(&gif).unwrap();
    let pixel = decoded(&out.bytes).to_rgb8().get_pixel(8, 8).0;
    assert!(pixel[0] > 200 && pixel[2] < 50, "{pixel:?}");
}

#[test]
fn the_name_is_the_content_hash_and_output_is_deterministic() {
    let source = encoded(&gradient(120, 90), ImageFormat::Png);
    let first = run(&source).unwrap();
    let second = run(&source).unwrap();
    assert_eq!(first.name, second.name);
    assert_eq!(first.bytes, second.bytes);
    assert_eq!(
        first.name,
        AvatarName::for_content(&first.bytes, OutputFormat::Jpeg)
    );
}

#[test]
fn thumbnails_are_centred_squares_of_every_size() {
    // Left third red, middle third green, right third blue: the centre crop is all green.
    let image = DynamicImage::ImageRgb8(RgbImage::from_fn(300, 100, |x, _| match x / 100 {
        0 => Rgb([255, 0, 0]),
        1 => Rgb([0, 255, 0]),
        _ => Rgb([0, 0, 255]),
    }));
    let out = run(&encoded(&image, ImageFormat::Png)).unwrap();
    let thumbs = thumbnails(&out.pixels, &settings()).unwrap();
    assert_eq!(
        thumbs.iter().map(|t| t.size).collect::<Vec<_>>(),
        [32, 64, 128, 256]
    );
    for thumb in &thumbs {
        let image = decoded(&thumb.bytes);
        assert_eq!((image.width(), image.height()), (thumb.size, thumb.size));
        let centre = image.to_rgb8().get_pixel(thumb.size / 2, thumb.size / 2).0;
        assert!(
            centre[1] > 200 && centre[0] < 60 && centre[2] < 60,
            "{centre:?}"
        );
    }
    let again = decode_stored(&out.bytes, out.name.format(), &settings()).unwrap();
    assert_eq!((again.width(), again.height()), (300, 100));
}

/// Speed is never bought with ugly avatars: the stored image and the 256 px thumbnail of a real
/// photo stay close to a high-quality reference (a full decode resized with Lanczos3 by `image`).
#[test]
fn output_stays_close_to_a_high_quality_reference() {
    let source = testdata("Landscape_1.jpg");
    let out = run(&source).unwrap();
    let ours = decoded(&out.bytes).to_rgb8();
    let full = decoded(&source);
    let reference = full
        .resize_exact(
            ours.width(),
            ours.height(),
            image::imageops::FilterType::Lanczos3,
        )
        .to_rgb8();
    // JPEG at the same quality costs this much on the reference itself; resizing may add little.
    let jpeg_cost = |image: &RgbImage| {
        let mut again = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut again, settings().jpeg_quality)
            .encode_image(image)
            .unwrap();
        mean_difference(&decoded(&again).to_rgb8(), image)
    };
    let normalised = mean_difference(&ours, &reference);
    let budget = jpeg_cost(&reference) * 1.5 + 0.5;
    assert!(
        normalised < budget,
        "normalised image differs by {normalised} (budget {budget})"
    );

    let thumbnail = thumbnails(&out.pixels, &settings()).unwrap();
    let ours = decoded(&thumbnail.last().unwrap().bytes).to_rgb8();
    let side = full.width().min(full.height());
    let square = full.crop_imm(
        (full.width() - side) / 2,
        (full.height() - side) / 2,
        side,
        side,
    );
    let reference = square
        .resize_exact(256, 256, image::imageops::FilterType::Lanczos3)
        .to_rgb8();
    let thumb = mean_difference(&ours, &reference);
    let budget = jpeg_cost(&reference) * 1.5 + 0.5;
    assert!(
        thumb < budget,
        "256 px thumbnail differs by {thumb} (budget {budget})"
    );
}

fn testdata(name: &str) -> Vec<u8> {
    let folder = std::env::var_os("TESTDATA_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata")
        });
    std::fs::read(folder.join("exif-orientation").join(name))
        .expect("the shared EXIF test photos (TESTDATA_DIR)")
}

/// The photo's stored pixels enlarged twice, re-encoded, with the photo's own EXIF segment.
fn enlarged_with_exif(source: &[u8]) -> Vec<u8> {
    let pixels = decoded(source);
    let big = pixels.resize_exact(
        pixels.width() * 2,
        pixels.height() * 2,
        image::imageops::FilterType::Triangle,
    );
    let jpeg = encoded(&DynamicImage::ImageRgb8(big.to_rgb8()), ImageFormat::Jpeg);
    let app1 = source
        .windows(2)
        .position(|w| w == [0xFF, 0xE1])
        .expect("an EXIF segment");
    let length = usize::from(u16::from_be_bytes([source[app1 + 2], source[app1 + 3]]));
    let mut spliced = jpeg[..2].to_vec();
    spliced.extend_from_slice(&source[app1..app1 + 2 + length]);
    spliced.extend_from_slice(&jpeg[2..]);
    spliced
}

#[test]
fn shrink_on_load_keeps_every_orientation_upright() {
    let reference = run(&enlarged_with_exif(&testdata("Landscape_1.jpg"))).unwrap();
    let reference = decoded(&reference.bytes);
    assert_eq!((reference.width(), reference.height()), (1024, 683));
    for n in 2..=8 {
        let big = enlarged_with_exif(&testdata(&format!("Landscape_{n}.jpg")));
        let info = inspect(&big, &settings()).unwrap();
        assert!(
            stages::decode_jpeg_shrunk(&big, &info, 1024).is_some(),
            "{n}: shrink-on-load applies"
        );
        let out = decoded(&run(&big).unwrap().bytes);
        assert_eq!((out.width(), out.height()), (1024, 683), "Landscape_{n}");
        let difference = mean_difference(&out.to_rgb8(), &reference.to_rgb8());
        assert!(difference < 6.0, "Landscape_{n} differs by {difference}");
    }
}
