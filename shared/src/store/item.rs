//! Item shapes: a domain value plus the keys that place it in the table (serde_dynamo maps both).

use serde::{Deserialize, Serialize};

use crate::domain::{ReservationId, Seat, SeatLabel, SeatState, SectorCode};

/// Any stored item: keys, then the entity's own attributes.
#[derive(Debug, Serialize, Deserialize)]
pub struct Item<T> {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    #[serde(flatten)]
    pub data: T,
}

impl<T> Item<T> {
    pub fn new(pk: String, sk: impl Into<String>, data: T) -> Self {
        Self {
            pk,
            sk: sk.into(),
            gsi1pk: None,
            gsi1sk: None,
            data,
        }
    }

    pub fn listed(mut self, gsi1pk: String, gsi1sk: String) -> Self {
        self.gsi1pk = Some(gsi1pk);
        self.gsi1sk = Some(gsi1sk);
        self
    }
}

/// A sector's stock item with the queue's sold-out mark.
#[derive(Deserialize)]
pub struct MarkedStock {
    #[serde(flatten)]
    pub stock: SectorStock,
    #[serde(default)]
    pub sold_out: bool,
}

/// A sector's places: its capacity and how many are still on sale.
#[derive(Debug, Serialize, Deserialize)]
pub struct SectorStock {
    pub code: SectorCode,
    pub capacity: u32,
    /// Numbered sectors: seats on sale, less what holds took on the seat counters
    /// ([`ShardItem`], `domain::stock::SEAT_COUNTERS`); places that come back are added here.
    /// General admission counts its places on its shards ([`ShardItem`]) and keeps 0 here
    /// (unsharded sessions: all of them).
    #[serde(default)]
    pub available: i64,
    /// Tickets sold, and tickets whose hold expired or was cancelled (sales figures).
    #[serde(default)]
    pub sold: u32,
    #[serde(default)]
    pub expired: u32,
    #[serde(default)]
    pub cancelled: u32,
    /// Tickets let in at the door (`store::Door`).
    #[serde(default)]
    pub entered: u32,
    /// What vouchers took off the tickets sold, in cents of the sector's currency.
    #[serde(default)]
    pub discounts: i64,
    /// Places its waiting list waits for, and places that came back and are kept for that line,
    /// off sale (`store::Waitlist`).
    #[serde(default)]
    pub waiting: i64,
    #[serde(default)]
    pub returned: i64,
    /// Numbered: the seats of `returned`, by label (a string set, absent when empty).
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub kept_seats: std::collections::BTreeSet<SeatLabel>,
}

/// A block of a numbered sector's seat map, with the version its writes are conditioned on.
#[derive(Debug, Serialize, Deserialize)]
pub struct MapItem {
    #[serde(flatten)]
    pub block: crate::domain::seat_map::MapBlock,
    #[serde(default)]
    pub version: u64,
}

/// A sector's stock shard: places on sale in it (general admission), or what holds took of a
/// numbered sector's seats (below 0).
#[derive(Debug, Serialize, Deserialize)]
pub struct ShardItem {
    pub code: SectorCode,
    pub shard: u32,
    pub available: i64,
}

/// A customer's count of tickets in a session (live holds and confirmed), which the hold's
/// transaction keeps within the session's limit.
#[derive(Debug, Deserialize)]
pub struct LimitItem {
    #[serde(default)]
    pub tickets: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SeatStateName {
    Free,
    Held,
    Sold,
    /// Kept off sale for the sector's waiting list (`store::Waitlist`).
    Kept,
}

impl From<SeatStateName> for crate::domain::seat::SeatStatus {
    fn from(state: SeatStateName) -> Self {
        match state {
            SeatStateName::Free => Self::Free,
            SeatStateName::Held | SeatStateName::Kept => Self::Held,
            SeatStateName::Sold => Self::Sold,
        }
    }
}

/// One seat: `FREE`, `HELD` (by a reservation until `hold_expires_at`, epoch seconds) or `SOLD`.
#[derive(Debug, Serialize, Deserialize)]
pub struct SeatItem {
    pub seat: SeatLabel,
    pub state: SeatStateName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<ReservationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_expires_at: Option<i64>,
}

impl SeatItem {
    pub fn free(seat: SeatLabel) -> Self {
        Self {
            seat,
            state: SeatStateName::Free,
            reservation_id: None,
            hold_expires_at: None,
        }
    }

    pub fn into_seat(self) -> Seat {
        let state = match (self.state, self.reservation_id) {
            (SeatStateName::Held, Some(reservation)) => SeatState::Held {
                reservation,
                expires_at: chrono::DateTime::from_timestamp(self.hold_expires_at.unwrap_or(0), 0)
                    .unwrap_or_default(),
            },
            (SeatStateName::Sold, Some(reservation)) => SeatState::Sold { reservation },
            (SeatStateName::Kept, _) => SeatState::Kept,
            _ => SeatState::Free,
        };
        Seat {
            label: self.seat,
            state,
        }
    }
}
