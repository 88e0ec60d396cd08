//! Add-on products sold with tickets: popcorn, chocolate, a soda.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{EventId, Invalid, Money, ProductId, error::text, event::MAX_NAME_CHARS};

/// The largest stock one product can be created with.
pub const MAX_STOCK: u32 = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductCategory {
    Food,
    Drink,
    Merchandise,
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewProduct {
    pub name: String,
    pub category: ProductCategory,
    pub price: Money,
    /// `None`: not counted (always available).
    pub stock: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub event_id: EventId,
    pub name: String,
    pub category: ProductCategory,
    pub price: Money,
    /// Units left; absent when the product is not stock-counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock: Option<u32>,
    /// Units sold with confirmed reservations: suggestions put the most bought first.
    #[serde(default)]
    pub sold: u32,
    pub created_at: DateTime<Utc>,
}

impl Product {
    pub fn create(event_id: EventId, new: NewProduct, now: DateTime<Utc>) -> Result<Self, Invalid> {
        let price =
            Money::price(new.price.cents, new.price.currency).map_err(|e| e.within("price"))?;
        let stock = match new.stock {
            None => None,
            Some(n) if (0..=i64::from(MAX_STOCK)).contains(&n) => Some(n as u32),
            Some(_) => {
                return Err(Invalid::new(
                    "stock",
                    format!(
                        "must be between 0 and {MAX_STOCK}, or absent for an uncounted product"
                    ),
                ));
            }
        };
        Ok(Self {
            id: ProductId::generate(),
            event_id,
            name: text("name", &new.name, MAX_NAME_CHARS)?,
            category: new.category,
            price,
            stock,
            sold: 0,
            created_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;

    fn popcorn(stock: Option<i64>, cents: i64) -> NewProduct {
        NewProduct {
            name: "Pipoca".into(),
            category: ProductCategory::Food,
            price: Money {
                cents,
                currency: Currency::BRL,
            },
            stock,
        }
    }

    #[test]
    fn stock_is_optional_but_never_negative() {
        let event = EventId::generate();
        assert_eq!(
            Product::create(event, popcorn(None, 1), Utc::now())
                .unwrap()
                .stock,
            None
        );
        assert_eq!(
            Product::create(event, popcorn(Some(0), 1), Utc::now())
                .unwrap()
                .stock,
            Some(0)
        );
        let err = Product::create(event, popcorn(Some(-1), 1), Utc::now()).unwrap_err();
        assert_eq!(err.field, "stock");
    }

    #[test]
    fn a_product_needs_a_positive_price() {
        let err = Product::create(EventId::generate(), popcorn(None, 0), Utc::now()).unwrap_err();
        assert_eq!(err.field, "price.cents");
    }
}
