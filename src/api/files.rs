//! `GET /static/employee/avatars/[<size>/]<name>`: stored avatars and their thumbnails, made on
//! demand when missing. Names are content hashes, so every answer is cacheable for ever.

use actix_web::http::header::{
    HeaderValue, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, X_CONTENT_TYPE_OPTIONS,
};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use crate::images::AvatarName;
use crate::startup::AppState;
use crate::store::StoredFile;

const CACHE_FOR_EVER: &str = "public, max-age=31536000, immutable";

/// The file a path names, if it has the service's shape; nothing else reaches the disk.
fn parse_path(path: &str, sizes: &[u32]) -> Option<StoredFile> {
    match path.split('/').collect::<Vec<_>>()[..] {
        [name] => Some(StoredFile::avatar(AvatarName::parse(name)?)),
        [size_text, name] => {
            let size: u32 = size_text.parse().ok()?;
            let configured = sizes.contains(&size) && size.to_string() == size_text;
            let name = AvatarName::parse(name)?;
            configured.then(|| StoredFile::thumbnail(name, size))
        }
        _ => None,
    }
}

fn etag_of(file: &StoredFile) -> String {
    match file.size {
        None => format!("\"{}\"", file.name.hash()),
        Some(size) => format!("\"{}-{size}\"", file.name.hash()),
    }
}

fn matches_etag(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

pub async fn avatar(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let Some(file) = parse_path(&path, state.avatars.thumbnail_sizes()) else {
        return HttpResponse::NotFound().finish();
    };
    let etag = etag_of(&file);
    let content_type = file.name.format().mime();
    let cached = |mut response: actix_web::HttpResponseBuilder| {
        response
            .insert_header((ETAG, HeaderValue::from_str(&etag).expect("hex ETag")))
            .insert_header((CACHE_CONTROL, CACHE_FOR_EVER))
            .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .take()
    };
    match state.avatars.file(&file).await {
        Ok(Some(_)) if matches_etag(&req, &etag) => cached(HttpResponse::NotModified()).finish(),
        Ok(Some(bytes)) => cached(HttpResponse::Ok())
            .insert_header((CONTENT_TYPE, content_type))
            .body(bytes),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(error) => error.error_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::OutputFormat;

    #[test]
    fn only_the_services_shapes_name_files() {
        let name = AvatarName::for_content(b"x", OutputFormat::Jpeg).to_string();
        let sizes = [32, 64];
        assert_eq!(parse_path(&name, &sizes).unwrap().size, None);
        assert_eq!(
            parse_path(&format!("64/{name}"), &sizes).unwrap().size,
            Some(64)
        );
        for bad in [
            format!("128/{name}"),
            format!("064/{name}"),
            format!("+64/{name}"),
            format!("64/64/{name}"),
            format!("../{name}"),
            "..%2F..%2Fetc%2Fpasswd".to_owned(),
            String::new(),
        ] {
            assert!(parse_path(&bad, &sizes).is_none(), "{bad}");
        }
    }
}
