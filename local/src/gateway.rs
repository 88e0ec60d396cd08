//! An API Gateway HTTP API emulator: routes from the template's `HttpApi` events, payload format
//! 2.0 built as API Gateway builds it, the JWT authorizer emulated, responses mapped back.

use std::{collections::HashMap, net::SocketAddr, sync::Arc};

use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Map, Value, json};

use crate::{
    issuer::Issuer,
    lambda::{InvokeError, Invoked, Lambda},
    template::{Cors, Function, LOCAL_ACCOUNT},
};

/// API Gateway refuses request bodies over 10 MB.
pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;

/// An HTTP API refuses a request whose request line and headers together pass 10,240 bytes.
pub const MAX_REQUEST_LINE_AND_HEADERS_BYTES: usize = 10_240;

/// The request line (`GET /path?query HTTP/1.1`) and every header (`name: value`), in bytes.
fn request_line_and_headers_bytes(parts: &axum::http::request::Parts) -> usize {
    let line = parts.method.as_str().len() + 1 + parts.uri.to_string().len() + " HTTP/1.1".len();
    let headers: usize = parts
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + 2 + value.len())
        .sum();
    line + headers
}

struct Target {
    function: String,
    route_key: String,
    authorized: bool,
}

pub struct Gateway {
    routes: HashMap<String, matchit::Router<Target>>,
    cors: Option<Cors>,
    lambda: Arc<Lambda>,
    issuer: Arc<Issuer>,
}

#[derive(Debug, thiserror::Error)]
#[error("route {route}: {reason}")]
pub struct RouteError {
    route: String,
    reason: String,
}

impl Gateway {
    pub fn new(
        functions: &[Function],
        cors: Option<Cors>,
        lambda: Arc<Lambda>,
        issuer: Arc<Issuer>,
    ) -> Result<Self, RouteError> {
        let mut routes: HashMap<String, matchit::Router<Target>> = HashMap::new();
        for function in functions {
            for route in &function.routes {
                let route_key = format!("{} {}", route.method, route.path);
                // API Gateway's greedy `{proxy+}` is matchit's `{*proxy}`.
                let pattern = route
                    .path
                    .split('/')
                    .map(greedy)
                    .collect::<Vec<_>>()
                    .join("/");
                let target = Target {
                    function: function.logical_id.clone(),
                    route_key: route_key.clone(),
                    authorized: route.authorized,
                };
                routes
                    .entry(route.method.clone())
                    .or_default()
                    .insert(pattern, target)
                    .map_err(|e| RouteError {
                        route: route_key,
                        reason: e.to_string(),
                    })?;
            }
        }
        Ok(Self {
            routes,
            cors,
            lambda,
            issuer,
        })
    }
}

fn greedy(segment: &str) -> String {
    match segment.strip_prefix('{').and_then(|s| s.strip_suffix("+}")) {
        Some(name) => format!("{{*{name}}}"),
        None => segment.to_owned(),
    }
}

fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({ "message": text }).to_string(),
    )
        .into_response()
}

/// Every request the emulator serves that is not one of the stack's own `/_local` routes. With a
/// `CorsConfiguration`, preflights are answered by the gateway itself, whatever the routes, and
/// an allowed origin's responses carry the CORS headers, as API Gateway does.
pub async fn handle(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let allowed = gateway.cors.as_ref().and_then(|cors| {
        let origin = request.headers().get("origin")?.to_str().ok()?;
        Some((cors, cors.allowed_origin(origin)?))
    });
    let preflight = request.method() == axum::http::Method::OPTIONS
        && request
            .headers()
            .contains_key("access-control-request-method");
    if preflight && gateway.cors.is_some() {
        let mut response = StatusCode::NO_CONTENT.into_response();
        if let Some((cors, origin)) = allowed {
            let headers = response.headers_mut();
            let mut set = |name: &'static str, value: String| {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(name, value);
                }
            };
            set("access-control-allow-origin", origin);
            set("access-control-allow-methods", cors.allow_methods.join(","));
            set(
                "access-control-allow-headers",
                cors.allow_headers.join(",").to_ascii_lowercase(),
            );
            if let Some(age) = cors.max_age {
                set("access-control-max-age", age.to_string());
            }
            if cors.allow_credentials {
                set("access-control-allow-credentials", "true".into());
            }
        }
        return response;
    }
    let mut response = route(gateway.clone(), peer, request).await;
    if let Some((cors, origin)) = allowed {
        let headers = response.headers_mut();
        if let Ok(origin) = HeaderValue::from_str(&origin) {
            headers.insert("access-control-allow-origin", origin);
        }
        if !cors.expose_headers.is_empty()
            && let Ok(expose) = HeaderValue::from_str(&cors.expose_headers.join(","))
        {
            headers.insert("access-control-expose-headers", expose);
        }
        if cors.allow_credentials {
            headers.insert(
                "access-control-allow-credentials",
                HeaderValue::from_static("true"),
            );
        }
    }
    response
}

async fn route(gateway: Arc<Gateway>, peer: SocketAddr, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if request_line_and_headers_bytes(&parts) > MAX_REQUEST_LINE_AND_HEADERS_BYTES {
        return message(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "Request Header Fields Too Large",
        );
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_PAYLOAD_BYTES).await else {
        return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    let method = parts.method.as_str().to_uppercase();
    let raw_path = parts.uri.path();
    let matched = gateway
        .routes
        .get(&method)
        .and_then(|r| r.at(raw_path).ok());
    let Some(matched) = matched else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    let target = matched.value;
    let claims = if target.authorized {
        let token = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
                    .unwrap_or(v)
                    .trim()
            });
        match token.and_then(|t| gateway.issuer.verify(t)) {
            Some(claims) => Some(claims),
            None => return message(StatusCode::UNAUTHORIZED, "Unauthorized"),
        }
    } else {
        None
    };
    let params: Map<String, Value> = matched
        .params
        .iter()
        .map(|(k, v)| (k.to_owned(), Value::String(percent_decode(v))))
        .collect();
    let event = event(
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
        &target.route_key,
        params,
        claims,
        peer,
    );
    let payload = serde_json::to_vec(&event).unwrap_or_default();
    match gateway.lambda.invoke(&target.function, payload).await {
        Ok(Invoked::Response(bytes)) => response(&bytes),
        Ok(Invoked::FunctionError(_)) => {
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
        Err(InvokeError::Timeout { .. }) => {
            message(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
        }
        Err(e) => {
            eprintln!("[gateway] {} {}: {e}", method, raw_path);
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    }
}

/// Decodes `%XX` escapes; anything malformed is kept as it came.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type.map(str::to_ascii_lowercase) else {
        return true;
    };
    ct.starts_with("text/")
        || [
            "json",
            "xml",
            "javascript",
            "x-www-form-urlencoded",
            "yaml",
            "csv",
        ]
        .iter()
        .any(|t| ct.contains(t))
}

/// The payload format 2.0 event API Gateway sends for this request.
#[allow(clippy::too_many_arguments)]
pub fn event(
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &Bytes,
    route_key: &str,
    path_parameters: Map<String, Value>,
    claims: Option<Map<String, Value>>,
    peer: SocketAddr,
) -> Value {
    let mut joined: Vec<(String, Vec<String>)> = Vec::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == "cookie" {
            cookies.extend(
                value
                    .split(';')
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty()),
            );
            continue;
        }
        match joined.iter_mut().find(|(n, _)| n == name.as_str()) {
            Some((_, values)) => values.push(value),
            None => joined.push((name.as_str().to_owned(), vec![value])),
        }
    }
    let header_map: Map<String, Value> = joined
        .into_iter()
        .map(|(k, v)| (k, Value::String(v.join(","))))
        .collect();
    let raw_query = uri.query().unwrap_or("");
    let mut query: Vec<(String, Vec<String>)> = Vec::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(k), percent_decode(v));
        match query.iter_mut().find(|(n, _)| *n == k) {
            Some((_, values)) => values.push(v),
            None => query.push((k, vec![v])),
        }
    }
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now();
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let user_agent = headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": uri.path(),
        "rawQueryString": raw_query,
        "headers": header_map,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT,
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split('.').next().unwrap_or(host),
            "http": {
                "method": method.as_str(),
                "path": uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": peer.ip().to_string(),
                "userAgent": user_agent,
            },
            "requestId": ulid::Ulid::generate().to_string(),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = query
            .into_iter()
            .map(|(k, v)| (k, Value::String(v.join(","))))
            .collect::<Map<_, _>>()
            .into();
    }
    if !path_parameters.is_empty() {
        event["pathParameters"] = path_parameters.into();
    }
    if let Some(claims) = claims {
        event["requestContext"]["authorizer"] =
            json!({ "jwt": { "claims": claims, "scopes": null } });
    }
    if !body.is_empty() {
        match std::str::from_utf8(body) {
            Ok(text) if is_text(content_type) => event["body"] = Value::String(text.to_owned()),
            _ => {
                event["body"] = Value::String(STANDARD.encode(body));
                event["isBase64Encoded"] = Value::Bool(true);
            }
        }
    }
    event
}

/// Maps a function's payload 2.0 response to HTTP; a payload without `statusCode` is a 200 JSON body.
pub fn response(payload: &[u8]) -> Response {
    let Ok(Value::Object(out)) = serde_json::from_slice::<Value>(payload) else {
        return (
            StatusCode::OK,
            [("content-type", "application/json")],
            payload.to_vec(),
        )
            .into_response();
    };
    let Some(status) = out.get("statusCode").and_then(Value::as_u64) else {
        return (
            StatusCode::OK,
            [("content-type", "application/json")],
            payload.to_vec(),
        )
            .into_response();
    };
    let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = Response::builder().status(status);
    let mut header = |name: &str, value: &str| {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
            builder = std::mem::take(&mut builder).header(n, v);
        }
    };
    if let Some(Value::Object(headers)) = out.get("headers") {
        for (k, v) in headers {
            header(k, v.as_str().unwrap_or(&v.to_string()));
        }
    }
    if let Some(Value::Object(headers)) = out.get("multiValueHeaders") {
        for (k, values) in headers {
            for v in values.as_array().into_iter().flatten() {
                header(k, v.as_str().unwrap_or_default());
            }
        }
    }
    for cookie in out
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        header("set-cookie", cookie.as_str().unwrap_or_default());
    }
    let text = out.get("body").and_then(Value::as_str).unwrap_or("");
    let body = if out.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        STANDARD.decode(text).unwrap_or_default()
    } else {
        text.as_bytes().to_vec()
    };
    builder
        .body(Body::from(body))
        .unwrap_or_else(|_| message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_decoded_and_broken_ones_kept() {
        assert_eq!(percent_decode("A%2D12"), "A-12");
        assert_eq!(percent_decode("caf%C3%A9"), "café");
        assert_eq!(percent_decode("50%"), "50%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn the_event_is_built_as_api_gateway_builds_it() {
        let mut headers = HeaderMap::new();
        headers.insert("Content-Type", HeaderValue::from_static("application/json"));
        headers.append("X-Tag", HeaderValue::from_static("a"));
        headers.append("X-Tag", HeaderValue::from_static("b"));
        headers.insert("Cookie", HeaderValue::from_static("theme=dark; lang=pt"));
        let uri: axum::http::Uri = "/events/7?tag=x&tag=y&q=a%20b".parse().unwrap();
        let mut params = Map::new();
        params.insert("id".into(), "7".into());
        let peer: SocketAddr = "127.0.0.1:5555".parse().unwrap();
        let body = Bytes::from_static(b"{\"a\":1}");
        let event = event(
            &axum::http::Method::POST,
            &uri,
            &headers,
            &body,
            "POST /events/{id}",
            params,
            None,
            peer,
        );
        assert_eq!(event["rawQueryString"], "tag=x&tag=y&q=a%20b");
        assert_eq!(
            event["queryStringParameters"],
            json!({"tag": "x,y", "q": "a b"})
        );
        assert_eq!(event["headers"]["x-tag"], "a,b");
        assert!(event["headers"].get("cookie").is_none());
        assert_eq!(event["cookies"], json!(["theme=dark", "lang=pt"]));
        assert_eq!(event["pathParameters"], json!({"id": "7"}));
        assert_eq!(event["body"], "{\"a\":1}");
        assert_eq!(event["isBase64Encoded"], false);
        assert!(event["requestContext"].get("authorizer").is_none());
        assert_eq!(event["routeKey"], "POST /events/{id}");
    }

    #[test]
    fn a_binary_body_is_base64_encoded() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("image/png"));
        let uri: axum::http::Uri = "/x".parse().unwrap();
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let event = event(
            &axum::http::Method::PUT,
            &uri,
            &headers,
            &Bytes::from_static(&[0, 159, 146, 150]),
            "PUT /x",
            Map::new(),
            None,
            peer,
        );
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["body"], STANDARD.encode([0u8, 159, 146, 150]));
    }
}
