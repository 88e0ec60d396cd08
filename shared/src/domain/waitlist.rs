//! The waiting list of a sold-out sector: fans join it for a number of places or seats, in
//! order. Places and seats that come back while fans wait (a hold that expired or was cancelled, a
//! refund) are kept off public sale and offered to the first in line as a hold made for them,
//! with a longer window; an offer not taken lapses like any hold, and its places pass to the next.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Invalid, PlaceTickets, Reservation, ReservationId, SeatLabel, SeatTicket, SectorCode,
    SectorLayout, Session, SessionId,
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

    /// The hold offered to the fan, for `window` from `now`: their places of a standing sector,
    /// or `seats` (kept for the line) of a numbered one.
    pub fn offer(
        &self,
        session: &Session,
        seats: &[SeatLabel],
        now: DateTime<Utc>,
        window: Duration,
    ) -> Reservation {
        let sector = session.sector(self.sector.as_str());
        let held = match sector {
            Some(s) if matches!(s.layout, SectorLayout::Numbered { .. }) => (
                seats
                    .iter()
                    .map(|seat| SeatTicket {
                        sector: s.code.clone(),
                        seat: *seat,
                        price: s.price,
                        block: session.seat_block(s, *seat),
                    })
                    .collect(),
                Vec::new(),
            ),
            _ => (
                Vec::new(),
                sector
                    .map(|s| PlaceTickets {
                        sector: s.code.clone(),
                        quantity: self.quantity,
                        unit_price: s.price,
                        shards: session.place_shards(s),
                    })
                    .into_iter()
                    .collect(),
            ),
        };
        Reservation {
            waitlist: true,
            ..Reservation::held(session, &self.customer, held, now, now + window)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ReservationStatus, reservation::tests::session};

    #[test]
    fn a_fan_waits_within_the_ticket_limit_while_the_sale_is_open() {
        let now = Utc::now();
        let session = session(now);
        let entry = WaitlistEntry::join(&session, "pista", "ana", 2, now).unwrap();
        assert_eq!((entry.quantity, entry.status), (2, EntryStatus::Waiting));
        for (sector, quantity, field) in [
            ("camarote", 1, "sector"),
            ("pista", 0, "quantity"),
            ("pista", 7, "quantity"),
        ] {
            match WaitlistEntry::join(&session, sector, "ana", quantity, now) {
                Err(JoinError::Invalid(e)) => assert_eq!(e.field, field, "{sector} {quantity}"),
                other => panic!("{sector} {quantity}: {other:?}"),
            }
        }
        let closed = now + Duration::days(9) + Duration::seconds(1);
        assert_eq!(
            WaitlistEntry::join(&session, "pista", "ana", 1, closed),
            Err(JoinError::SaleClosed)
        );
    }

    #[test]
    fn an_offer_holds_the_fans_places_for_the_offers_window() {
        let now = Utc::now();
        let session = session(now);
        let entry = WaitlistEntry::join(&session, "pista", "ana", 3, now).unwrap();
        let later = now + Duration::minutes(5);
        let offer = entry.offer(&session, &[], later, Duration::minutes(30));
        assert!(offer.waitlist);
        assert_eq!(offer.status, ReservationStatus::Held);
        assert_eq!((offer.customer.as_str(), offer.tickets()), ("ana", 3));
        assert_eq!(offer.expires_at - offer.created_at, Duration::minutes(30));
        assert_eq!(offer.total().unwrap().cents, 3 * 5_000);

        let seats = WaitlistEntry::join(&session, "plateia", "bia", 2, now).unwrap();
        let kept: Vec<SeatLabel> = vec!["B-3".parse().unwrap(), "B-4".parse().unwrap()];
        let offer = seats.offer(&session, &kept, later, Duration::minutes(30));
        let held: Vec<String> = offer.seats.iter().map(|s| s.seat.to_string()).collect();
        assert_eq!(
            (held, offer.places.len()),
            (vec!["B-3".into(), "B-4".into()], 0)
        );
        assert_eq!(offer.total().unwrap().cents, 2 * 10_000);
    }
}
