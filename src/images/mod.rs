//! The avatar pipeline as pure functions from bytes to bytes: no I/O, no clock, no globals, so it
//! is tested directly and run by the image workers and by `normalize` alike.

mod name;
mod pipeline;

pub use name::{AvatarName, OutputFormat};
pub use pipeline::{
    decode_stored, inspect, normalise, thumbnails, Normalised, SourceFormat, SourceInfo, Thumbnail,
};

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
