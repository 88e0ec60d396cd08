//! API Gateway (HTTP API, payload 2.0) glue: requests in, domain calls, JSON or problem+json out.

pub mod catalog;
pub mod desk;
pub mod door;
pub mod idempotency;
mod problem;
pub mod purchase;
mod request;
pub mod requests;
mod response;
pub mod sales;
pub mod vouchers;
pub mod waitlist;

use std::future::Future;

use base64::{Engine, engine::general_purpose::STANDARD};
use lambda_http::{
    Adapter, Body, LambdaEvent, Request, Response, Service, request::LambdaRequest, service_fn,
};
pub use problem::ApiError;
pub use request::{
    Identity, json_body, page_limit, path_id, path_param, query_param, require_admin,
    require_staff, whole_param,
};
pub use response::{created, csv, csv_text, json, wants_csv};

/// Runs a route handler and turns its error, if any, into the one problem+json response.
pub async fn respond<F, Fut>(req: Request, handler: F) -> Result<Response<Body>, lambda_http::Error>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    Ok(handler(req).await.unwrap_or_else(ApiError::into_response))
}

/// Serves a route handler on the Lambda runtime: each API Gateway event becomes a request, the
/// handler's error the one problem+json response. An event whose body is flagged base64 but is
/// not (API Gateway never sends one) is refused as an invocation error before the HTTP adapter,
/// which would panic decoding it.
pub async fn serve<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut + Sync,
    Fut: Future<Output = Result<Response<Body>, ApiError>> + Send,
{
    let mut adapter = Adapter::from(service_fn(|req| respond(req, &handler)));
    lambda_http::lambda_runtime::run(service_fn(move |event: LambdaEvent<LambdaRequest>| {
        let call = readable_body(&event.payload).then(|| adapter.call(event));
        async move {
            match call {
                Some(response) => response.await,
                None => Err(lambda_http::Error::from(
                    "the request body is flagged base64 but is not base64",
                )),
            }
        }
    }))
    .await
}

fn readable_body(event: &LambdaRequest) -> bool {
    let LambdaRequest::ApiGatewayV2(event) = event else {
        return true;
    };
    !event.is_base64_encoded
        || event
            .body
            .as_ref()
            .is_none_or(|body| STANDARD.decode(body).is_ok())
}
