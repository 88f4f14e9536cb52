//! Where the time of one avatar goes: each stage of the pipeline on a 12 MP and a 3 MP photo
//! made from the shared EXIF test image (`TESTDATA_DIR` overrides its folder).
//! `cargo bench --bench pipeline`.

use std::io::Cursor;
use std::path::PathBuf;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use employee_avatars::config::Settings;
use employee_avatars::images::{self, stages, SourceFormat};
use image::{DynamicImage, ImageFormat};

fn photo(megapixels: u32) -> Vec<u8> {
    let folder = std::env::var_os("TESTDATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata"));
    let source = image::open(folder.join("exif-orientation/Landscape_1.jpg"))
        .expect("the shared EXIF test photos");
    let scale = (f64::from(megapixels) * 1e6 / f64::from(source.width() * source.height())).sqrt();
    let (width, height) = (
        (f64::from(source.width()) * scale) as u32,
        (f64::from(source.height()) * scale) as u32,
    );
    let resized = source.resize_exact(width, height, image::imageops::FilterType::Triangle);
    let mut bytes = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(resized.to_rgb8())
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut bytes, 90,
        ))
        .unwrap();
    bytes.into_inner()
}

fn stages_of(c: &mut Criterion) {
    let settings = Settings::defaults().images.pipeline();
    for megapixels in [12, 3] {
        let jpeg = photo(megapixels);
        let info = images::inspect(&jpeg, &settings).unwrap();
        let mut group = c.benchmark_group(format!("{megapixels}mp"));
        group.sample_size(10);
        group.bench_function("sniff+header", |b| {
            b.iter(|| images::inspect(black_box(&jpeg), &settings).unwrap())
        });
        assert_eq!(info.format, SourceFormat::Jpeg);
        group.bench_function("decode", |b| {
            b.iter(|| stages::decode(black_box(&jpeg), ImageFormat::Jpeg, &settings).unwrap())
        });
        group.bench_function("decode, shrink-on-load", |b| {
            b.iter(|| stages::decode_jpeg_shrunk(black_box(&jpeg), &info, settings.max_side))
        });
        let (decoded, orientation) = stages::decode(&jpeg, ImageFormat::Jpeg, &settings).unwrap();
        let flat = stages::flatten(decoded);
        group.bench_function("resize to 1024", |b| {
            b.iter(|| stages::cap_longest_side(black_box(flat.clone()), settings.max_side).unwrap())
        });
        let mut capped = stages::cap_longest_side(flat, settings.max_side).unwrap();
        group.bench_function("orient", |b| {
            b.iter(|| {
                let mut turned = capped.clone();
                turned.apply_orientation(black_box(image::metadata::Orientation::Rotate90));
                turned
            })
        });
        capped.apply_orientation(orientation);
        group.bench_function("encode JPEG q85", |b| {
            b.iter(|| stages::encode(black_box(&capped), settings.jpeg_quality).unwrap())
        });
        group.bench_function("four thumbnails", |b| {
            b.iter(|| images::thumbnails(black_box(&capped), &settings).unwrap())
        });
        group.bench_function("whole normalise", |b| {
            b.iter(|| images::normalise(black_box(&jpeg), &info, &settings).unwrap())
        });
        group.finish();
    }
}

criterion_group!(benches, stages_of);
criterion_main!(benches);
