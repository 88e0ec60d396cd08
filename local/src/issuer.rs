//! The local token issuer and API Gateway's JWT authorizer, emulated: tokens minted here
//! (`local token --sub alice --admin`) carry Cognito's ID-token claims; the gateway verifies
//! signature, issuer, audience and expiry as API Gateway does, and hands the claims on as strings.

use std::{path::Path, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value, json};

/// The local issuer's name (`iss`), the same whatever port the stack listens on.
pub const ISSUER: &str = "http://bilheteria.local/issuer";

/// The audience (Cognito's app client id) local tokens are minted for.
pub const AUDIENCE: &str = "bilheteria-local";

#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    #[error("cannot read or write the issuer key {path}: {source}")]
    Key {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot sign a token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

#[derive(Clone)]
pub struct Issuer {
    secret: Vec<u8>,
    issuer: String,
}

impl Issuer {
    pub fn new(secret: Vec<u8>, issuer: &str) -> Self {
        Self {
            secret,
            issuer: issuer.to_owned(),
        }
    }

    /// A fresh random key, for a stack that lives only in memory.
    pub fn random(issuer: &str) -> Self {
        Self::new((0..32).map(|_| fastrand::u8(..)).collect(), issuer)
    }

    /// The key kept in `path` (created on first use), so tokens outlive a restart.
    pub fn load_or_create(path: &Path, issuer: &str) -> Result<Self, IssuerError> {
        let fail = |source| IssuerError::Key {
            path: path.display().to_string(),
            source,
        };
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(secret) = STANDARD.decode(text.trim())
        {
            return Ok(Self::new(secret, issuer));
        }
        let fresh = Self::random(issuer);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        std::fs::write(path, STANDARD.encode(&fresh.secret)).map_err(fail)?;
        Ok(fresh)
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// An ID token for `sub`, in the `admin` group when `admin`, valid for `ttl`.
    pub fn mint(&self, sub: &str, admin: bool, ttl: Duration) -> Result<String, IssuerError> {
        let now = chrono::Utc::now().timestamp();
        self.sign(&self.claims(sub, admin, now, now + ttl.as_secs() as i64))
    }

    /// Cognito's ID-token claims.
    pub fn claims(&self, sub: &str, admin: bool, iat: i64, exp: i64) -> Value {
        let mut claims = json!({
            "sub": sub,
            "iss": self.issuer,
            "aud": AUDIENCE,
            "token_use": "id",
            "cognito:username": sub,
            "email": format!("{sub}@bilheteria.local"),
            "email_verified": true,
            "auth_time": iat,
            "iat": iat,
            "exp": exp,
        });
        if admin {
            claims["cognito:groups"] = json!(["admin"]);
        }
        claims
    }

    pub fn sign(&self, claims: &Value) -> Result<String, IssuerError> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(&self.secret),
        )?)
    }

    /// The claims of a valid token, as API Gateway passes them to a function: every value a
    /// string, arrays as `[a b]`. `None` for a token API Gateway would refuse with 401.
    pub fn verify(&self, token: &str) -> Option<Map<String, Value>> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Map<String, Value>>(
            token,
            &DecodingKey::from_secret(&self.secret),
            &validation,
        )
        .ok()?;
        Some(
            data.claims
                .into_iter()
                .map(|(k, v)| (k, Value::String(claim_text(&v))))
                .collect(),
        )
    }
}

fn claim_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(claim_text).collect::<Vec<_>>().join(" ")
        ),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_token_verifies_with_claims_as_api_gateway_passes_them() {
        let issuer = Issuer::random("http://127.0.0.1:3000/issuer");
        let token = issuer.mint("alice", true, Duration::from_secs(60)).unwrap();
        let claims = issuer.verify(&token).unwrap();
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["cognito:groups"], "[admin]");
        assert_eq!(claims["email_verified"], "true");
        assert!(claims["exp"].as_str().unwrap().parse::<i64>().is_ok());
    }

    #[test]
    fn expired_foreign_or_tampered_tokens_are_refused() {
        let issuer = Issuer::random("http://local");
        let now = chrono::Utc::now().timestamp();
        let expired = issuer
            .sign(&issuer.claims("alice", false, now - 120, now - 1))
            .unwrap();
        assert!(issuer.verify(&expired).is_none());
        let other = Issuer::random("http://local")
            .mint("alice", true, Duration::from_secs(60))
            .unwrap();
        assert!(issuer.verify(&other).is_none(), "signed with another key");
        let elsewhere = Issuer {
            issuer: "http://elsewhere".into(),
            ..issuer.clone()
        };
        assert!(
            issuer
                .verify(
                    &elsewhere
                        .mint("alice", false, Duration::from_secs(60))
                        .unwrap()
                )
                .is_none()
        );
        assert!(issuer.verify("not.a.token").is_none());
    }

    #[test]
    fn the_key_survives_a_restart() {
        let dir = std::env::temp_dir().join(format!("issuer-{}", ulid::Ulid::generate()));
        let path = dir.join("issuer.key");
        let first = Issuer::load_or_create(&path, "http://local").unwrap();
        let token = first.mint("bob", false, Duration::from_secs(60)).unwrap();
        let again = Issuer::load_or_create(&path, "http://local").unwrap();
        assert!(again.verify(&token).is_some());
        let _ = std::fs::remove_dir_all(dir);
    }
}
