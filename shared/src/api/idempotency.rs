//! Requests made safe to retry by an `Idempotency-Key`: the first one runs, its answer is kept
//! (a refusal too), a retry gets the same answer, a retry while the first runs waits for it.

use std::{future::Future, time::Duration};

use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, Response};

use super::ApiError;
use crate::{
    domain::Invalid,
    store::{Claim, Reservations, StoredResponse},
};

/// The header that makes a request safe to retry.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// How long a retry waits for the first request to finish before answering 409.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(8);

/// The `Idempotency-Key` header, if sent: 1 to 128 printable ASCII characters (inner spaces
/// allowed; tabs, control and non-ASCII characters not).
pub fn idempotency_key(req: &Request) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    let key = value.to_str().map(str::trim).unwrap_or_default();
    let printable = key.bytes().all(|b| (b' '..=b'~').contains(&b));
    if key.is_empty() || key.len() > 128 || !printable {
        return Err(ApiError::Malformed(
            "the Idempotency-Key header must be 1 to 128 printable ASCII characters".into(),
        ));
    }
    Ok(Some(key.to_owned()))
}

/// The answer to keep, refusals (4xx) included; faults are not kept, so that a retry runs again.
fn answer(result: Result<Response<Body>, ApiError>) -> Result<Response<Body>, ApiError> {
    result.or_else(|e| {
        if e.status().is_server_error() {
            Err(e)
        } else {
            Ok(e.into_response())
        }
    })
}

pub(super) fn stored(resp: &Response<Body>) -> StoredResponse {
    StoredResponse {
        status: resp.status().as_u16(),
        body: String::from_utf8_lossy(resp.body().as_ref()).into_owned(),
        location: resp
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned),
    }
}

pub(super) fn replay(stored: StoredResponse) -> Result<Response<Body>, ApiError> {
    let content_type = if stored.status >= 400 {
        "application/problem+json"
    } else {
        "application/json"
    };
    let mut resp = Response::builder()
        .status(stored.status)
        .header("content-type", content_type)
        .header("idempotent-replayed", "true");
    if let Some(location) = &stored.location {
        resp = resp.header("location", location);
    }
    resp.body(Body::Text(stored.body))
        .map_err(|e| ApiError::Internal(Box::new(e)))
}

/// A refusal reached before `key` was claimed stands, unless the same request was already
/// answered under that key: then the answer is replayed, so a retry whose first attempt went
/// through before the rules changed (the sale closed, say) still learns what happened to it.
pub async fn unless_answered<S: Reservations>(
    refusal: ApiError,
    store: &S,
    customer: &str,
    key: Option<&str>,
    hash: &str,
) -> Result<Response<Body>, ApiError> {
    let Some(key) = key.filter(|_| !refusal.status().is_server_error()) else {
        return Err(refusal);
    };
    match store.answered(customer, key, hash).await? {
        Some(response) => replay(response),
        None => Err(refusal),
    }
}

/// Runs `handle` once for (`customer`, `key`, `hash`); the same key with another `hash` is 422.
/// `handle` gets the time the key was first claimed, the same when a retry takes over a claim
/// whose request stopped, so that what it creates can be named after the key.
pub async fn once<S, F, Fut>(
    store: &S,
    customer: &str,
    key: &str,
    hash: &str,
    handle: F,
) -> Result<Response<Body>, ApiError>
where
    S: Reservations,
    F: FnOnce(DateTime<Utc>) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let mut in_flight = InFlight::new();
    let first_claimed = loop {
        match store
            .claim(customer, key, hash, crate::clock::now())
            .await?
        {
            Claim::Fresh { first_claimed } => break first_claimed,
            Claim::Mismatch => return Err(key_reused()),
            Claim::Done(response) => return replay(response),
            Claim::InFlight => in_flight.wait().await?,
        }
    };
    let result = answer(handle(first_claimed).await);
    match &result {
        Ok(response) => store.settle(customer, key, &stored(response)).await?,
        Err(_) => store.release(customer, key).await?,
    }
    result
}

/// The same key sent with another request: 422.
pub(super) fn key_reused() -> ApiError {
    Invalid::new("Idempotency-Key", "was used for a different request").into()
}

/// A retry waiting for the same request, running elsewhere, to finish: backs off up to
/// [`IN_FLIGHT_WAIT`], then gives up with 409 `REQUEST_IN_FLIGHT`.
pub(super) struct InFlight {
    started: std::time::Instant,
    wait: Duration,
}

impl InFlight {
    pub(super) fn new() -> Self {
        Self {
            started: std::time::Instant::now(),
            wait: Duration::from_millis(50),
        }
    }

    pub(super) async fn wait(&mut self) -> Result<(), ApiError> {
        if self.started.elapsed() >= IN_FLIGHT_WAIT {
            return Err(ApiError::conflict(
                "REQUEST_IN_FLIGHT",
                "the same request is still being handled",
            ));
        }
        tokio::time::sleep(self.wait).await;
        self.wait = (self.wait * 2).min(Duration::from_millis(500));
        Ok(())
    }
}
