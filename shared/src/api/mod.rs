//! API Gateway (HTTP API, payload 2.0) glue: requests in, domain calls, JSON or problem+json out.

pub mod catalog;
pub mod idempotency;
mod problem;
pub mod purchase;
mod request;
pub mod requests;
mod response;
pub mod sales;

use std::future::Future;

use lambda_http::{Body, Request, Response};
pub use problem::ApiError;
pub use request::{
    Identity, json_body, page_limit, path_id, path_param, query_param, require_admin,
};
pub use response::{created, json};

/// Runs a route handler and turns its error, if any, into the one problem+json response.
pub async fn respond<F, Fut>(req: Request, handler: F) -> Result<Response<Body>, lambda_http::Error>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    Ok(handler(req).await.unwrap_or_else(ApiError::into_response))
}
