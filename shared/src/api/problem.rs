//! The one mapping from errors to `application/problem+json` (RFC 9457) responses.

use lambda_http::{Body, Response, http::StatusCode};
use serde::Serialize;

use crate::{
    domain::{Invalid, payment::ProviderUnavailable},
    store::StoreError,
};

/// Seconds a client is asked to wait when the store is throttling or unreachable.
const RETRY_AFTER_SECONDS: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request cannot be read: bad JSON, wrong types, a missing or unparsable parameter.
    #[error("{0}")]
    Malformed(String),
    #[error("this route needs a signed-in user")]
    Unauthorized,
    #[error("this route is for administrators")]
    Forbidden,
    #[error("this route is for door staff")]
    StaffOnly,
    /// Unknown, or not the caller's to see.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// Some of what was asked for is gone: `unavailable` names it (seats, sectors, a product).
    #[error("{detail}")]
    NotAvailable {
        code: &'static str,
        detail: String,
        unavailable: Vec<String>,
    },
    /// A ticket's second scan: `first` let its holder in.
    #[error("this ticket was checked in at {} at gate {}", .first.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), .first.gate)]
    AlreadyCheckedIn {
        first: Box<crate::domain::Entry>,
        conflict: bool,
    },
    #[error("the payment was declined: {reason}")]
    PaymentDeclined { reason: String },
    #[error("the body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the body must be application/json")]
    UnsupportedMediaType,
    /// Well-formed but against a rule.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The store, the queue or the payment provider is busy or unreachable: retry shortly.
    #[error("the service is busy; retry shortly")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("something went wrong on our side")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::BadCursor => {
                ApiError::Malformed("`next` is not a cursor this list gave".into())
            }
            StoreError::Unavailable(_) => ApiError::Unavailable(Box::new(err)),
            StoreError::ConditionFailed => ApiError::Conflict {
                code: "CONFLICT",
                detail: "the resource changed or already exists; read it again".into(),
            },
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

impl From<ProviderUnavailable> for ApiError {
    fn from(err: ProviderUnavailable) -> Self {
        ApiError::Unavailable(Box::new(err))
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unavailable: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    /// A second scan's first entry: when, at which gate.
    #[serde(skip_serializing_if = "Option::is_none")]
    entry: Option<&'a crate::domain::Entry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conflict: Option<bool>,
}

impl ApiError {
    /// A 409 with a machine code.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            detail: detail.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::StaffOnly => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. }
            | ApiError::NotAvailable { .. }
            | ApiError::AlreadyCheckedIn { .. } => StatusCode::CONFLICT,
            ApiError::PaymentDeclined { .. } => StatusCode::PAYMENT_REQUIRED,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine-readable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Malformed(_) => "MALFORMED_REQUEST",
            ApiError::Unauthorized => "UNAUTHORIZED",
            ApiError::Forbidden | ApiError::StaffOnly => "FORBIDDEN",
            ApiError::AlreadyCheckedIn { .. } => "ALREADY_CHECKED_IN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Conflict { code, .. } | ApiError::NotAvailable { code, .. } => code,
            ApiError::PaymentDeclined { .. } => "PAYMENT_DECLINED",
            ApiError::TooLarge { .. } => "PAYLOAD_TOO_LARGE",
            ApiError::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::Invalid(_) => "INVALID_INPUT",
            ApiError::Unavailable(_) => "UNAVAILABLE",
            ApiError::Internal(_) => "INTERNAL",
        }
    }

    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %chain(&self), code = self.code(), "request failed");
        } else {
            tracing::info!(error = %self, code = self.code(), "request refused");
        }
        let code = self.code();
        let problem = Problem {
            kind: format!("/problems/{}", code.to_ascii_lowercase().replace('_', "-")),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.to_string(),
            code,
            field: match &self {
                ApiError::Invalid(invalid) => Some(invalid.field.as_str()),
                _ => None,
            },
            unavailable: match &self {
                ApiError::NotAvailable { unavailable, .. } => Some(unavailable.as_slice()),
                _ => None,
            },
            reason: match &self {
                ApiError::PaymentDeclined { reason } => Some(reason.as_str()),
                _ => None,
            },
            entry: match &self {
                ApiError::AlreadyCheckedIn { first, .. } => Some(first),
                _ => None,
            },
            conflict: match &self {
                ApiError::AlreadyCheckedIn { conflict, .. } => Some(*conflict),
                _ => None,
            },
        };
        let body = serde_json::to_string(&problem).unwrap_or_default();
        let mut builder = Response::builder()
            .status(status)
            .header("content-type", "application/problem+json");
        if status == StatusCode::SERVICE_UNAVAILABLE {
            builder = builder.header("retry-after", RETRY_AFTER_SECONDS.to_string());
        }
        builder.body(Body::Text(body)).unwrap_or_else(|_| {
            let mut fallback = Response::new(Body::Empty);
            *fallback.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            fallback
        })
    }
}

/// An error and its sources, for the log (never for the client).
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(resp: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(resp.body().as_ref()).unwrap()
    }

    #[test]
    fn a_rule_violation_is_a_422_naming_the_field() {
        let resp = ApiError::from(Invalid::new("sectors[0].rows", "must be between 1 and 200"))
            .into_response();
        assert_eq!(resp.status(), 422);
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        let json = body(&resp);
        assert_eq!(json["code"], "INVALID_INPUT");
        assert_eq!(json["field"], "sectors[0].rows");
        assert_eq!(json["type"], "/problems/invalid-input");
        assert_eq!(json["status"], 422);
    }

    #[test]
    fn an_unavailable_store_asks_to_retry_later() {
        let resp = ApiError::from(StoreError::Unavailable("throttled".into())).into_response();
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers()["retry-after"], "1");
    }

    #[test]
    fn an_internal_error_does_not_leak_its_cause() {
        let resp =
            ApiError::Internal("table bilheteria-prod: secret detail".into()).into_response();
        assert_eq!(resp.status(), 500);
        assert!(!String::from_utf8_lossy(resp.body().as_ref()).contains("secret"));
    }
}
