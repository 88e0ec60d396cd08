//! Paying for a reservation: card, PIX or boleto; the provider port and the rules every
//! provider follows, including how its webhook proves it is the provider.

use std::future::Future;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{Invalid, Money, Reservation};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodKind {
    Card,
    Pix,
    Boleto,
}

/// How the customer pays. A card is its number (a provider token in production).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentMethod {
    Card { number: String },
    Pix,
    Boleto,
}

impl PaymentMethod {
    pub fn kind(&self) -> MethodKind {
        match self {
            PaymentMethod::Card { .. } => MethodKind::Card,
            PaymentMethod::Pix => MethodKind::Pix,
            PaymentMethod::Boleto => MethodKind::Boleto,
        }
    }

    /// A card number must be 12 to 19 digits with a valid Luhn check digit.
    pub fn card(number: &str) -> Result<Self, Invalid> {
        let digits: String = number
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if !(12..=19).contains(&digits.len())
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || !luhn(&digits)
        {
            return Err(Invalid::new("payment.number", "is not a valid card number"));
        }
        Ok(PaymentMethod::Card { number: digits })
    }
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// What the provider answered to a charge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Charge {
    /// Card: paid now.
    Approved { payment_id: String },
    /// Card: refused; the reservation stays held until it expires.
    Declined { payment_id: String, reason: String },
    /// PIX or boleto: paid later, announced by the webhook.
    Pending {
        payment_id: String,
        instructions: String,
        expires_at: DateTime<Utc>,
    },
}

#[derive(Debug, thiserror::Error)]
#[error("the payment provider is unavailable")]
pub struct ProviderUnavailable(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// A payment provider (the port).
pub trait PaymentProvider: Sync {
    /// Charges `amount` for `reservation` as the payment `payment_id` (an [`attempt_id`]), which
    /// the provider takes as its idempotency key: the same id is never charged twice.
    fn charge(
        &self,
        payment_id: &str,
        reservation: &Reservation,
        amount: Money,
        method: &PaymentMethod,
    ) -> impl Future<Output = Result<Charge, ProviderUnavailable>> + Send;
}

/// What the provider's webhook says about a payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentNotice {
    pub payment_id: String,
    pub reservation_id: super::ReservationId,
    pub status: NoticeStatus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    Paid,
    Failed,
}

/// How far a webhook's signed time may be from now, either way: an older notice is a replay.
pub const WEBHOOK_TOLERANCE_SECONDS: i64 = 300;

fn webhook_mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The webhook signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`
/// under the shared secret.
pub fn webhook_signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mac = webhook_mac(secret, timestamp, body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Checks a webhook signature header (in constant time) and that it was signed within
/// [`WEBHOOK_TOLERANCE_SECONDS`] of `now`. Several `v1` values may be given (a secret being
/// rotated); one must match.
pub fn webhook_signature_is_valid(
    secret: &[u8],
    body: &[u8],
    header: &str,
    now: DateTime<Utc>,
) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.trim().split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    if (now.timestamp() - timestamp).abs() > WEBHOOK_TOLERANCE_SECONDS {
        return false;
    }
    signatures.iter().any(|signature| {
        webhook_mac(secret, timestamp, body)
            .verify_slice(signature)
            .is_ok()
    })
}

/// The id of one payment attempt: the reservation's, and the attempt's idempotency key (by its
/// customer), so that a retry of the attempt asks the provider for the same payment and another
/// key never shares an id with it.
pub fn attempt_id(reservation: super::ReservationId, customer: &str, key: &str) -> String {
    let digest =
        <Sha256 as sha2::Digest>::digest(format!("{reservation}\n{customer}\n{key}").as_bytes());
    format!("pay_{}", &hex::encode(digest)[..24])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_pass_the_luhn_check() {
        assert!(PaymentMethod::card("4111 1111 1111 1111").is_ok());
        assert!(PaymentMethod::card("4000-0000-0000-0002").is_ok());
        assert!(PaymentMethod::card("4111111111111112").is_err());
        assert!(PaymentMethod::card("abcd").is_err());
        assert!(PaymentMethod::card("4242").is_err());
    }

    #[test]
    fn a_webhook_signature_verifies_only_for_its_body_secret_and_time() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let t = now.timestamp();
        let sig = webhook_signature(b"secret", t, b"{\"a\":1}");
        assert!(webhook_signature_is_valid(
            b"secret",
            b"{\"a\":1}",
            &sig,
            now
        ));
        assert!(!webhook_signature_is_valid(
            b"secret",
            b"{\"a\":2}",
            &sig,
            now
        ));
        assert!(!webhook_signature_is_valid(
            b"other",
            b"{\"a\":1}",
            &sig,
            now
        ));
        let later = now + chrono::Duration::seconds(WEBHOOK_TOLERANCE_SECONDS + 1);
        assert!(
            !webhook_signature_is_valid(b"secret", b"{\"a\":1}", &sig, later),
            "an old notice is a replay"
        );
        let moved = sig.replace(&format!("t={t}"), &format!("t={}", t + 1));
        assert!(!webhook_signature_is_valid(
            b"secret",
            b"{\"a\":1}",
            &moved,
            now
        ));
        let rotated = format!("{sig},v1={}", "00".repeat(32));
        assert!(webhook_signature_is_valid(
            b"secret",
            b"{\"a\":1}",
            &rotated,
            now
        ));
        assert!(!webhook_signature_is_valid(
            b"secret",
            b"{\"a\":1}",
            "sha256=zz",
            now
        ));
    }

    #[test]
    fn each_payment_attempt_has_its_own_id() {
        let id = "01JF000000000000000000RS01".parse().unwrap();
        let first = attempt_id(id, "ana", "k1");
        assert_eq!(first, attempt_id(id, "ana", "k1"));
        assert_ne!(first, attempt_id(id, "ana", "k2"));
        assert_ne!(first, attempt_id(id, "bia", "k1"));
    }
}
