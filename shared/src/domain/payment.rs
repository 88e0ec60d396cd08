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
    /// Charges `amount` for `reservation`. The same reservation and attempt give the same payment id.
    fn charge(
        &self,
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

/// The webhook signature: `sha256=` and the hex HMAC-SHA256 of the raw body under the shared secret.
pub fn webhook_signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a webhook signature in constant time.
pub fn webhook_signature_is_valid(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Some(hex_sig) = signature.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(bytes) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&bytes).is_ok()
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
    fn a_webhook_signature_verifies_only_for_its_body_and_secret() {
        let sig = webhook_signature(b"secret", b"{\"a\":1}");
        assert!(webhook_signature_is_valid(b"secret", b"{\"a\":1}", &sig));
        assert!(!webhook_signature_is_valid(b"secret", b"{\"a\":2}", &sig));
        assert!(!webhook_signature_is_valid(b"other", b"{\"a\":1}", &sig));
        assert!(!webhook_signature_is_valid(
            b"secret",
            b"{\"a\":1}",
            "sha256=zz"
        ));
        assert!(!webhook_signature_is_valid(
            b"secret",
            b"{\"a\":1}",
            sig.trim_start_matches("sha256=")
        ));
    }
}
