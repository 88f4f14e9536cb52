//! The avatar pipeline as pure functions from bytes to bytes: no I/O, no clock, no globals, so it
//! is tested directly and run by the image workers and by `normalize` alike.

mod name;
mod pipeline;

pub use name::{AvatarName, OutputFormat};
pub use pipeline::{
    decode_stored, inspect, normalise, thumbnails, Normalised, SourceFormat, SourceInfo, Thumbnail,
};

/// The steps of `normalise` one by one (decode with its EXIF orientation, or shrink-on-load for
/// a large JPEG; flatten to 8-bit RGB(A); cap the longest side; encode), for the stage benchmark
/// in `benches/`.
pub mod stages {
    pub use super::pipeline::{cap_longest_side, decode, decode_jpeg_shrunk, encode, flatten};
}

/// The limits and targets of the pipeline (`images.*` settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineSettings {
    pub max_source_pixels: u64,
    pub max_source_side: u32,
    pub max_side: u32,
    pub jpeg_quality: u8,
    pub thumbnail_sizes: Vec<u32>,
}

/// Why an image was refused; every kind is error 234 to the client except an encoder failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("not an image of an allowed type (JPEG, PNG, GIF, WebP)")]
    UnknownFormat,
    #[error("image of {width}x{height} pixels is over the limit")]
    TooLarge { width: u32, height: u32 },
    #[error("the image does not decode: {0}")]
    Undecodable(String),
    #[error("the decoder failed on this image")]
    DecoderPanicked,
    #[error("the image could not be encoded: {0}")]
    Encode(String),
}

#[cfg(test)]
mod tests;
