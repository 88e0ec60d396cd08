//! Key design of the single table; `docs/data-model.md` draws it.
//!
//! Seats are partitioned by session and sector, so a big sale spreads its writes over one
//! partition key per sector instead of one per session.

use crate::domain::{EventId, ProductId, SeatLabel, SectorCode, SessionId};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";

/// The GSI1 partition listing every event.
pub const EVENTS: &str = "EVENTS";

pub fn event(id: EventId) -> String {
    format!("EVENT#{id}")
}

pub const EVENT_SK: &str = "EVENT";

pub fn event_list_sk(id: EventId) -> String {
    format!("EVENT#{id}")
}

pub fn product_sk(id: ProductId) -> String {
    format!("PRODUCT#{id}")
}

pub const PRODUCT_PREFIX: &str = "PRODUCT#";

pub fn session(id: SessionId) -> String {
    format!("SESSION#{id}")
}

pub const SESSION_SK: &str = "SESSION";

/// GSI1 partition of an event's sessions; its sort key orders them by start time.
pub fn sessions_of(event: EventId) -> String {
    format!("EVENT#{event}#SESSIONS")
}

pub fn sector_sk(code: &SectorCode) -> String {
    format!("SECTOR#{code}")
}

pub const SECTOR_PREFIX: &str = "SECTOR#";

pub fn seats(session: SessionId, sector: &SectorCode) -> String {
    format!("SESSION#{session}#SECTOR#{sector}")
}

/// Zero-padded so that a query returns seats row by row, in seat order.
pub fn seat_sk(seat: SeatLabel) -> String {
    format!("SEAT#{:03}#{:03}", seat.row, seat.number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_keys_sort_in_seat_order() {
        let labels = ["A-2", "A-10", "B-1", "Z-3", "AA-1"].map(|l| l.parse::<SeatLabel>().unwrap());
        let keys: Vec<String> = labels.iter().map(|l| seat_sk(*l)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }
}
