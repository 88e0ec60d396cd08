//! The waiting list of a sold-out general-admission sector: fans join it for a number of places,
//! in order. Places that come back while fans wait (a hold that expired or was cancelled, a
//! refund) are kept off public sale and offered to the first in line as a hold made for them,
//! with a longer window; an offer not taken lapses like any hold, and its places pass to the next.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Invalid, PlaceTickets, Reservation, ReservationId, ReservationStatus, SectorCode, SectorLayout,
    Session, SessionId,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntryStatus {
    /// In line.
    Waiting,
    /// Places were held for the fan: `offer` is the reservation.
    Offered,
    /// The fan left the line (or could not be offered: past their ticket limit).
    Left,
}

/// A fan's place in a sector's waiting list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistEntry {
    pub session_id: SessionId,
    pub sector: SectorCode,
    pub customer: String,
    pub quantity: u32,
    /// Its order in the line: when it joined, then a random tie-break (a ULID).
    pub joined: ReservationId,
    pub joined_at: DateTime<Utc>,
    pub status: EntryStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<ReservationId>,
}

/// Why a fan cannot join a sector's line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("the sale of this session is not open now")]
    SaleClosed,
}

impl WaitlistEntry {
    /// A fan asks to wait for `quantity` places of `sector`: a general-admission sector of the
    /// session, within the session's ticket limit, while its sale is open.
    pub fn join(
        session: &Session,
        sector: &str,
        customer: &str,
        quantity: i64,
        now: DateTime<Utc>,
    ) -> Result<Self, JoinError> {
        if !session.sale.is_open(now) {
            return Err(JoinError::SaleClosed);
        }
        let found = session.sector(sector).ok_or_else(|| {
            Invalid::new("sector", format!("no sector `{sector}` in this session"))
        })?;
        if !matches!(found.layout, SectorLayout::GeneralAdmission { .. }) {
            return Err(Invalid::new(
                "sector",
                format!("`{sector}` is numbered: its seats are picked on the map, not waited for"),
            )
            .into());
        }
        let limit = u32::from(session.max_tickets_per_customer);
        let quantity = u32::try_from(quantity)
            .ok()
            .filter(|q| (1..=limit).contains(q))
            .ok_or_else(|| Invalid::new("quantity", format!("must be between 1 and {limit}")))?;
        Ok(Self {
            session_id: session.id,
            sector: found.code.clone(),
            customer: customer.to_owned(),
            quantity,
            joined: ReservationId::generate(),
            joined_at: now,
            status: EntryStatus::Waiting,
            offer: None,
        })
    }

    /// The hold offered to the fan: their places of the sector, held for `window` from `now`.
    pub fn offer(&self, session: &Session, now: DateTime<Utc>, window: Duration) -> Reservation {
        let sector = session.sector(self.sector.as_str());
        Reservation {
            id: ReservationId::generate(),
            customer: self.customer.clone(),
            event_id: session.event_id,
            session_id: session.id,
            status: ReservationStatus::Held,
            seats: Vec::new(),
            places: sector
                .map(|s| PlaceTickets {
                    sector: s.code.clone(),
                    quantity: self.quantity,
                    unit_price: s.price,
                    shards: session.place_shards(s),
                })
                .into_iter()
                .collect(),
            products: Vec::new(),
            created_at: now,
            expires_at: now + window,
            payment: None,
            confirmed_at: None,
            refund_reason: None,
            refunded_by: None,
            refunded_at: None,
            refund_reference: None,
            voucher: None,
            waitlist: true,
            version: 1,
        }
    }
}
