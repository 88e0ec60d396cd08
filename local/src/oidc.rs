//! The local issuer as an OpenID provider, the way the storefront signs in against Cognito's
//! hosted UI in AWS: authorization code with PKCE (S256) only. `/authorize` shows a small sign-in
//! page (a name, an "organiser" box), `/token` trades a code once for the ID and access tokens,
//! `/.well-known/openid-configuration` and `/jwks.json` describe it. Served under
//! `/_local/issuer` beside the API.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Form, Json, Router,
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::issuer::{AUDIENCE, Issuer};

/// Where the provider is mounted on the API's origin.
pub const PATH: &str = "/_local/issuer";
/// How long a code may wait to be traded, and how long tokens last.
const CODE_TTL: Duration = Duration::from_secs(60);
const TOKEN_TTL: Duration = Duration::from_secs(3_600);

struct Grant {
    sub: String,
    /// `admin`, `staff`: the user's groups.
    groups: Vec<&'static str>,
    client_id: String,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    issued: Instant,
}

struct Provider {
    issuer: Arc<Issuer>,
    /// The provider's own URL (`<api>/_local/issuer`).
    authority: String,
    codes: Mutex<HashMap<String, Grant>>,
}

/// The provider's routes, for an API served at `api_url`.
pub fn router(issuer: Arc<Issuer>, api_url: &str) -> Router {
    let provider = Arc::new(Provider {
        issuer,
        authority: authority(api_url),
        codes: Mutex::new(HashMap::new()),
    });
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks.json", get(jwks))
        .route("/authorize", get(sign_in_page).post(sign_in))
        .route("/token", axum::routing::post(token).options(preflight))
        .route("/logout", get(logout))
        .with_state(provider)
}

/// The provider's URL for an API served at `api_url`: what the web app's config names.
pub fn authority(api_url: &str) -> String {
    format!("{api_url}{PATH}")
}

/// Any page on loopback may call the provider from a browser, as Cognito's endpoints allow.
fn cors(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    headers.insert(
        "access-control-allow-headers",
        HeaderValue::from_static("content-type, authorization"),
    );
    headers.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("GET, POST"),
    );
    response
}

async fn preflight() -> Response {
    cors(StatusCode::NO_CONTENT.into_response())
}

async fn discovery(State(p): State<Arc<Provider>>) -> Response {
    let a = &p.authority;
    cors(
        Json(json!({
            "issuer": p.issuer.issuer(),
            "authorization_endpoint": format!("{a}/authorize"),
            "token_endpoint": format!("{a}/token"),
            "jwks_uri": format!("{a}/jwks.json"),
            "end_session_endpoint": format!("{a}/logout"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["none"],
        }))
        .into_response(),
    )
}

async fn jwks(State(p): State<Arc<Provider>>) -> Response {
    cors(Json(p.issuer.jwks()).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AuthorizeParams {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: String,
    code_challenge: String,
    code_challenge_method: String,
    nonce: Option<String>,
}

impl AuthorizeParams {
    /// Why the request cannot be served, if it cannot.
    fn refusal(&self) -> Option<&'static str> {
        if self.response_type != "code" {
            return Some("only response_type=code is supported");
        }
        if self.client_id != AUDIENCE {
            return Some("unknown client_id");
        }
        if !is_loopback(&self.redirect_uri) {
            return Some("redirect_uri must be an http URL on this machine");
        }
        if self.code_challenge_method != "S256" || self.code_challenge.len() < 43 {
            return Some("PKCE with code_challenge_method=S256 is required");
        }
        None
    }
}

fn is_loopback(uri: &str) -> bool {
    [
        "http://127.0.0.1:",
        "http://localhost:",
        "http://127.0.0.1/",
        "http://localhost/",
    ]
    .iter()
    .any(|p| uri.starts_with(p))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

async fn sign_in_page(Query(params): Query<AuthorizeParams>) -> Response {
    if let Some(reason) = params.refusal() {
        return (StatusCode::BAD_REQUEST, reason).into_response();
    }
    let hidden: String = [
        ("response_type", params.response_type.as_str()),
        ("client_id", &params.client_id),
        ("redirect_uri", &params.redirect_uri),
        ("scope", &params.scope),
        ("state", &params.state),
        ("code_challenge", &params.code_challenge),
        ("code_challenge_method", &params.code_challenge_method),
        ("nonce", params.nonce.as_deref().unwrap_or_default()),
    ]
    .iter()
    .map(|(k, v)| format!(r#"<input type="hidden" name="{k}" value="{}">"#, escape(v)))
    .collect();
    Html(format!(
        r#"<!doctype html>
<html lang="pt-BR"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Entrar · bilheteria (local)</title>
<style>body{{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#212529}}
label{{display:block;margin:1rem 0}}input[type=text]{{display:block;width:100%;padding:.5rem;font:inherit}}
button{{padding:.5rem 1rem;font:inherit;background:#5f3dc4;color:#fff;border:0;border-radius:8px}}</style></head>
<body><main><h1>Entrar na bilheteria</h1>
<p>Emissor local: escolha um nome; nenhuma senha é pedida. / Local issuer: pick a name; no password.</p>
<form method="post">{hidden}
<label>Nome / Name <input type="text" name="username" required maxlength="64" autocomplete="username" autofocus></label>
<label><input type="checkbox" name="organiser" value="yes"> Organizador (grupo admin) / Organiser (admin group)</label>
<label><input type="checkbox" name="staff" value="yes"> Portaria (grupo staff) / Door staff (staff group)</label>
<button type="submit">Entrar / Sign in</button></form></main></body></html>"#
    ))
    .into_response()
}

#[derive(Debug, Deserialize)]
struct SignIn {
    #[serde(flatten)]
    params: AuthorizeParams,
    username: String,
    #[serde(default)]
    organiser: Option<String>,
    #[serde(default)]
    staff: Option<String>,
}

async fn sign_in(State(p): State<Arc<Provider>>, Form(form): Form<SignIn>) -> Response {
    let params = form.params;
    if let Some(reason) = params.refusal() {
        return (StatusCode::BAD_REQUEST, reason).into_response();
    }
    let sub = form.username.trim().to_owned();
    if sub.is_empty() || sub.chars().count() > 64 || sub.chars().any(char::is_control) {
        return (StatusCode::BAD_REQUEST, "a name of 1 to 64 characters").into_response();
    }
    let code = URL_SAFE_NO_PAD.encode((0..32).map(|_| fastrand::u8(..)).collect::<Vec<_>>());
    let mut codes = p.codes.lock().unwrap_or_else(|e| e.into_inner());
    codes.retain(|_, g| g.issued.elapsed() < CODE_TTL);
    codes.insert(
        code.clone(),
        Grant {
            sub,
            groups: [
                form.organiser.as_ref().map(|_| "admin"),
                form.staff.as_ref().map(|_| "staff"),
            ]
            .into_iter()
            .flatten()
            .collect(),
            client_id: params.client_id,
            redirect_uri: params.redirect_uri.clone(),
            challenge: params.code_challenge,
            nonce: params.nonce.filter(|n| !n.is_empty()),
            issued: Instant::now(),
        },
    );
    let separator = if params.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    Redirect::to(&format!(
        "{}{separator}code={code}&state={}",
        params.redirect_uri,
        url_encode(&params.state)
    ))
    .into_response()
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenRequest {
    grant_type: String,
    code: String,
    redirect_uri: String,
    client_id: String,
    code_verifier: String,
}

fn token_error(error: &str) -> Response {
    cors((StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response())
}

async fn token(State(p): State<Arc<Provider>>, Form(request): Form<TokenRequest>) -> Response {
    if request.grant_type != "authorization_code" {
        return token_error("unsupported_grant_type");
    }
    // A code is good once, whatever the outcome.
    let grant = p
        .codes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&request.code);
    let Some(grant) = grant.filter(|g| g.issued.elapsed() < CODE_TTL) else {
        return token_error("invalid_grant");
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(request.code_verifier.as_bytes()));
    if grant.client_id != request.client_id
        || grant.redirect_uri != request.redirect_uri
        || grant.challenge != challenge
    {
        return token_error("invalid_grant");
    }
    let now = chrono::Utc::now().timestamp();
    let exp = now + TOKEN_TTL.as_secs() as i64;
    let mut id = p.issuer.claims(&grant.sub, &grant.groups, now, exp);
    if let Some(nonce) = grant.nonce {
        id["nonce"] = json!(nonce);
    }
    let mut access = p.issuer.claims(&grant.sub, &grant.groups, now, exp);
    access["token_use"] = json!("access");
    access["client_id"] = json!(AUDIENCE);
    if let Some(claims) = access.as_object_mut() {
        claims.remove("aud");
    }
    let (Ok(id_token), Ok(access_token)) = (p.issuer.sign(&id), p.issuer.sign(&access)) else {
        return cors(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    };
    let mut response = Json(json!({
        "id_token": id_token,
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_TTL.as_secs(),
        "scope": "openid email profile",
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    cors(response)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LogoutParams {
    post_logout_redirect_uri: String,
    state: Option<String>,
}

/// Tokens live in the browser only: signing out is going back.
async fn logout(Query(params): Query<LogoutParams>) -> Response {
    if !is_loopback(&params.post_logout_redirect_uri) {
        return (
            StatusCode::BAD_REQUEST,
            "post_logout_redirect_uri must be on this machine",
        )
            .into_response();
    }
    let target = match params.state {
        Some(state) => format!(
            "{}{}state={}",
            params.post_logout_redirect_uri,
            if params.post_logout_redirect_uri.contains('?') {
                '&'
            } else {
                '?'
            },
            url_encode(&state)
        ),
        None => params.post_logout_redirect_uri,
    };
    Redirect::to(&target).into_response()
}
