//! The invoice (nota fiscal) of a confirmed reservation: seller, buyer, priced items, totals.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{LineItem, Money, Reservation, ReservationId, payment::MethodKind};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    /// CNPJ or CPF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub number: String,
    pub reservation_id: ReservationId,
    pub issued_at: DateTime<Utc>,
    pub seller: Party,
    pub buyer: Party,
    pub items: Vec<LineItem>,
    pub total: Money,
    pub payment_method: MethodKind,
}

impl Invoice {
    /// The invoice for a reservation paid by `method` for `total`.
    pub fn for_reservation(
        reservation: &Reservation,
        seller: &Party,
        total: Money,
        method: MethodKind,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            number: format!("NF-{}", reservation.id),
            reservation_id: reservation.id,
            issued_at: now,
            seller: seller.clone(),
            buyer: Party {
                name: reservation.customer.clone(),
                tax_id: None,
            },
            items: reservation.line_items(),
            total,
            payment_method: method,
        }
    }
}
