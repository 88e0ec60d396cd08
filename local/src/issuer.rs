//! The local token issuer and API Gateway's JWT authorizer, emulated: tokens minted here
//! (`local token --sub alice --admin`) carry Cognito's ID-token claims; the gateway verifies
//! signature, issuer, audience and expiry as API Gateway does, and hands the claims on as strings.

use std::{path::Path, time::Duration};

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
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
    #[error("cannot make a signing key: {0}")]
    Generate(String),
    #[error("cannot sign a token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// An ES256 (P-256) key, as Cognito signs with an asymmetric key whose public half anyone can
/// fetch (`jwks.json`).
#[derive(Clone)]
pub struct Issuer {
    /// The private key, PKCS#8 DER.
    pkcs8: Vec<u8>,
    /// The public point's coordinates, base64url.
    x: String,
    y: String,
    kid: String,
    issuer: String,
}

impl Issuer {
    /// The issuer of the PKCS#8 key `pkcs8`; `None` if it is not a P-256 key.
    pub fn new(pkcs8: Vec<u8>, issuer: &str) -> Option<Self> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8).ok()?;
        // The uncompressed point: 0x04, then x and y, 32 bytes each.
        let point = pair.public_key().as_ref();
        if point.len() != 65 {
            return None;
        }
        let kid = URL_SAFE_NO_PAD.encode(sha2_prefix(point));
        Some(Self {
            x: URL_SAFE_NO_PAD.encode(&point[1..33]),
            y: URL_SAFE_NO_PAD.encode(&point[33..65]),
            pkcs8,
            kid,
            issuer: issuer.to_owned(),
        })
    }

    /// A fresh random key, for a stack that lives only in memory.
    pub fn generate(issuer: &str) -> Result<Self, IssuerError> {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|e| IssuerError::Generate(e.to_string()))?;
        Self::new(pkcs8.as_ref().to_vec(), issuer)
            .ok_or_else(|| IssuerError::Generate("a generated key does not read back".into()))
    }

    /// A fresh random key (see [`Issuer::generate`]).
    pub fn random(issuer: &str) -> Self {
        Self::generate(issuer).expect("the system's random source works")
    }

    /// The key kept in `path` (created on first use, or when what is there is not a P-256
    /// key), so tokens outlive a restart.
    pub fn load_or_create(path: &Path, issuer: &str) -> Result<Self, IssuerError> {
        let fail = |source| IssuerError::Key {
            path: path.display().to_string(),
            source,
        };
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(pkcs8) = STANDARD.decode(text.trim())
            && let Some(kept) = Self::new(pkcs8, issuer)
        {
            return Ok(kept);
        }
        let fresh = Self::generate(issuer)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        std::fs::write(path, STANDARD.encode(&fresh.pkcs8)).map_err(fail)?;
        Ok(fresh)
    }

    /// The public key as a JSON Web Key Set.
    pub fn jwks(&self) -> Value {
        json!({"keys": [{
            "kty": "EC", "crv": "P-256", "x": self.x, "y": self.y,
            "kid": self.kid, "use": "sig", "alg": "ES256",
        }]})
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// An ID token for `sub`, in the `admin` group when `admin`, valid for `ttl`.
    pub fn mint(&self, sub: &str, admin: bool, ttl: Duration) -> Result<String, IssuerError> {
        let groups: &[&str] = if admin { &["admin"] } else { &[] };
        self.mint_in(sub, groups, ttl)
    }

    /// A token of a user in `groups` (`admin`, `staff`).
    pub fn mint_in(
        &self,
        sub: &str,
        groups: &[&str],
        ttl: Duration,
    ) -> Result<String, IssuerError> {
        let now = chrono::Utc::now().timestamp();
        self.sign(&self.claims(sub, groups, now, now + ttl.as_secs() as i64))
    }

    /// Cognito's ID-token claims.
    pub fn claims(&self, sub: &str, groups: &[&str], iat: i64, exp: i64) -> Value {
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
        if !groups.is_empty() {
            claims["cognito:groups"] = json!(groups);
        }
        claims
    }

    pub fn sign(&self, claims: &Value) -> Result<String, IssuerError> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_ec_der(&self.pkcs8),
        )?)
    }

    /// The claims of a valid token, as API Gateway passes them to a function: every value a
    /// string, arrays as `[a b]`. `None` for a token API Gateway would refuse with 401.
    pub fn verify(&self, token: &str) -> Option<Map<String, Value>> {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 0;
        let key = DecodingKey::from_ec_components(&self.x, &self.y).ok()?;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).ok()?;
        Some(
            data.claims
                .into_iter()
                .map(|(k, v)| (k, Value::String(claim_text(&v))))
                .collect(),
        )
    }
}

/// The first 12 bytes of the key's SHA-256: its `kid`.
fn sha2_prefix(point: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, point).as_ref()[..12].to_vec()
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
            .sign(&issuer.claims("alice", &[], now - 120, now - 1))
            .unwrap();
        assert!(issuer.verify(&expired).is_none());
        let mut early = issuer.claims("alice", &[], now, now + 120);
        early["nbf"] = Value::from(now + 60);
        let early = issuer.sign(&early).unwrap();
        assert!(issuer.verify(&early).is_none(), "not valid before its nbf");
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
