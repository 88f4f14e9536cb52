use std::fmt;

/// What a stored avatar is encoded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    Jpeg,
    Png,
}

impl OutputFormat {
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            OutputFormat::Png => "png",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "image/jpeg",
            OutputFormat::Png => "image/png",
        }
    }
}

/// The service's own name of a stored avatar: the hex BLAKE3 hash of its bytes and an extension.
/// Nothing of the client's file name survives, and the shape makes path tricks impossible.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AvatarName {
    hash: String,
    format: OutputFormat,
}

const HASH_HEX_LEN: usize = 64;

impl AvatarName {
    pub fn for_content(bytes: &[u8], format: OutputFormat) -> Self {
        Self {
            hash: blake3::hash(bytes).to_hex().to_string(),
            format,
        }
    }

    /// A name of the service's shape, or `None`: `<64 lowercase hex>.jpg|png`.
    pub fn parse(name: &str) -> Option<Self> {
        let (hash, extension) = name.split_once('.')?;
        let format = match extension {
            "jpg" => OutputFormat::Jpeg,
            "png" => OutputFormat::Png,
            _ => return None,
        };
        let hex_ok = hash.len() == HASH_HEX_LEN
            && hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        hex_ok.then(|| Self {
            hash: hash.to_owned(),
            format,
        })
    }

    pub fn hash(&self) -> &str {
        &self.hash
    }

    pub fn format(&self) -> OutputFormat {
        self.format
    }
}

impl fmt::Display for AvatarName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.hash, self.format.extension())
    }
}

impl fmt::Debug for AvatarName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AvatarName({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_odd_shapes_are_refused() {
        let name = AvatarName::for_content(b"pixels", OutputFormat::Png);
        let text = name.to_string();
        assert!(text.ends_with(".png"));
        assert_eq!(AvatarName::parse(&text), Some(name));
        let hash = "a".repeat(64);
        for bad in [
            format!("{hash}.gif"),
            format!("{hash}.jpg.exe"),
            format!("{}.jpg", "A".repeat(64)),
            format!("{}.jpg", "a".repeat(63)),
            "../../etc/passwd".to_owned(),
            format!("..{}.jpg", "a".repeat(62)),
            String::new(),
        ] {
            assert_eq!(AvatarName::parse(&bad), None, "{bad}");
        }
    }
}
