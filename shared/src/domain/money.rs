//! Money: integer minor units (cents) and an ISO 4217 currency; never floating point.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Invalid;

/// The largest price accepted for one ticket or product: R$ 1,000,000.00 in cents.
pub const MAX_PRICE_CENTS: i64 = 100_000_000;

/// An ISO 4217 alphabetic code such as `BRL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const BRL: Currency = Currency(*b"BRL");

    pub fn as_str(&self) -> &str {
        // Only ever built from three ASCII capitals.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl Default for Currency {
    fn default() -> Self {
        Self::BRL
    }
}

impl TryFrom<String> for Currency {
    type Error = Invalid;
    fn try_from(code: String) -> Result<Self, Invalid> {
        code.as_str().try_into()
    }
}

impl TryFrom<&str> for Currency {
    type Error = Invalid;
    fn try_from(code: &str) -> Result<Self, Invalid> {
        match code.as_bytes() {
            [a, b, c] if code.bytes().all(|b| b.is_ascii_uppercase()) => Ok(Self([*a, *b, *c])),
            _ => Err(Invalid::new(
                "currency",
                "must be an ISO 4217 code of three capital letters, e.g. BRL",
            )),
        }
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount in minor units of a currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub cents: i64,
    pub currency: Currency,
}

impl Money {
    /// A price: positive and at most [`MAX_PRICE_CENTS`].
    pub fn price(cents: i64, currency: Currency) -> Result<Self, Invalid> {
        if cents <= 0 {
            return Err(Invalid::new("cents", "a price must be greater than zero"));
        }
        if cents > MAX_PRICE_CENTS {
            return Err(Invalid::new(
                "cents",
                format!("a price must be at most {MAX_PRICE_CENTS} cents"),
            ));
        }
        Ok(Self { cents, currency })
    }

    /// This amount times a quantity; `None` on overflow.
    pub fn times(self, quantity: u32) -> Option<Self> {
        self.cents
            .checked_mul(i64::from(quantity))
            .map(|cents| Self { cents, ..self })
    }

    /// The sum of two amounts of the same currency; `None` when currencies differ or on overflow.
    pub fn plus(self, other: Self) -> Option<Self> {
        if self.currency != other.currency {
            return None;
        }
        self.cents
            .checked_add(other.cents)
            .map(|cents| Self { cents, ..self })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.cents < 0 { "-" } else { "" };
        let abs = self.cents.unsigned_abs();
        write!(f, "{} {sign}{}.{:02}", self.currency, abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_price_must_be_positive_and_bounded() {
        assert!(Money::price(0, Currency::BRL).is_err());
        assert!(Money::price(-1, Currency::BRL).is_err());
        assert!(Money::price(MAX_PRICE_CENTS + 1, Currency::BRL).is_err());
        assert_eq!(
            Money::price(2_800, Currency::BRL).unwrap().to_string(),
            "BRL 28.00"
        );
    }

    #[test]
    fn currency_codes_are_three_capitals() {
        assert_eq!(Currency::try_from("USD").unwrap().as_str(), "USD");
        for bad in ["usd", "US", "USDT", "R$", ""] {
            assert!(Currency::try_from(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn amounts_of_different_currencies_do_not_add() {
        let brl = Money::price(100, Currency::BRL).unwrap();
        let usd = Money::price(100, Currency::try_from("USD").unwrap()).unwrap();
        assert_eq!(brl.plus(brl).unwrap().cents, 200);
        assert!(brl.plus(usd).is_none());
        assert_eq!(brl.times(3).unwrap().cents, 300);
        assert!(
            Money {
                cents: i64::MAX,
                currency: Currency::BRL
            }
            .times(2)
            .is_none()
        );
    }

    #[test]
    fn money_serializes_as_cents_and_code() {
        let json = serde_json::to_string(&Money::price(2_800, Currency::BRL).unwrap()).unwrap();
        assert_eq!(json, r#"{"cents":2800,"currency":"BRL"}"#);
    }
}
