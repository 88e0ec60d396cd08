//! JSON responses.

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
