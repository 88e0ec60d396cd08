//! JSON and CSV responses.

use lambda_http::{Body, Response, http::StatusCode};
use serde::Serialize;

use super::ApiError;

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Response<Body>, ApiError> {
    let body = serde_json::to_string(value).map_err(|e| ApiError::Internal(Box::new(e)))?;
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(body))
        .map_err(|e| ApiError::Internal(Box::new(e)))
}

/// 201 with the new resource and its `Location`.
pub fn created<T: Serialize>(location: &str, value: &T) -> Result<Response<Body>, ApiError> {
    let mut resp = json(StatusCode::CREATED, value)?;
    let location = location
        .parse()
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    resp.headers_mut().insert("location", location);
    Ok(resp)
}

/// Builds CSV text from rows of fields (quoted where a field needs it).
pub fn csv_text<I, R, F>(rows: I) -> Result<String, ApiError>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = F>,
    F: AsRef<[u8]>,
{
    let fail = |e: csv::Error| ApiError::Internal(Box::new(e));
    let mut writer = csv::WriterBuilder::new()
        .flexible(false)
        .from_writer(Vec::new());
    for row in rows {
        writer.write_record(row).map_err(fail)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ApiError::Internal(Box::new(e.into_error())))?;
    String::from_utf8(bytes).map_err(|e| ApiError::Internal(Box::new(e)))
}

/// 200 with CSV text; `next`, if given, is the URL of the following page (`Link: rel="next"`).
pub fn csv(body: String, next: Option<&str>) -> Result<Response<Body>, ApiError> {
    let mut resp = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/csv; charset=utf-8");
    if let Some(next) = next {
        resp = resp.header("link", format!("<{next}>; rel=\"next\""));
    }
    resp.body(Body::Text(body))
        .map_err(|e| ApiError::Internal(Box::new(e)))
}

/// Whether the caller asked for CSV (`Accept: text/csv`).
pub fn wants_csv(req: &lambda_http::Request) -> bool {
    req.headers()
        .get_all("accept")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv"))
        })
}
