//! A session: one date and time of an event, its sale window, its sectors and their prices.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{EventId, Invalid, Sector, SessionId};

pub const MAX_SECTORS: usize = 50;
/// Numbered seats are items of their own; a session writes at most this many when created.
pub const MAX_SEATS_PER_SESSION: u32 = 50_000;
pub const DEFAULT_MAX_TICKETS_PER_CUSTOMER: u8 = 6;
pub const MAX_TICKETS_PER_CUSTOMER: u8 = 50;
/// Requests one customer may have waiting in a session's lines at once: a script cannot fill a
/// line with one account.
pub const DEFAULT_MAX_WAITING_PER_CUSTOMER: u8 = 2;
pub const MAX_WAITING_PER_CUSTOMER: u8 = 10;

/// When tickets can be bought: from `starts_at` (inclusive) until `ends_at` (exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleWindow {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl SaleWindow {
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.starts_at <= now && now < self.ends_at
    }
}

/// How a session sells while its sale is open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleMode {
    /// Fans pick and hold seats themselves; the queue is there too.
    #[default]
    Direct,
    /// Only through the queue: requests are served in arrival order and direct holds are
    /// refused, so that nobody jumps the line.
    Queue,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession {
    pub starts_at: DateTime<Utc>,
    pub sale: SaleWindow,
    pub sale_mode: SaleMode,
    pub max_tickets_per_customer: Option<i64>,
    pub max_waiting_per_customer: Option<i64>,
    pub sectors: Vec<Sector>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub event_id: EventId,
    pub starts_at: DateTime<Utc>,
    pub sale: SaleWindow,
    #[serde(default)]
    pub sale_mode: SaleMode,
    pub max_tickets_per_customer: u8,
    #[serde(default = "default_max_waiting")]
    pub max_waiting_per_customer: u8,
    pub sectors: Vec<Sector>,
    pub created_at: DateTime<Utc>,
    /// Whether its general-admission places are spread over stock shards (every session created
    /// since there are shards); an older session keeps them on each sector's stock item.
    #[serde(default)]
    pub sharded: bool,
    /// Whether its seats are kept by block of rows (`seat_map::MapBlock`), each block a partition
    /// of its own, and a seat's item is written only once the seat is first taken (every session
    /// created since); an older session keeps all its seats, written when it was created, in its
    /// sector's partition.
    #[serde(default)]
    pub seat_blocks: bool,
}

fn default_max_waiting() -> u8 {
    DEFAULT_MAX_WAITING_PER_CUSTOMER
}

/// A bounded count: `None` is `default`, else 1 to `most`.
fn bounded(value: Option<i64>, default: u8, most: u8, field: &str) -> Result<u8, Invalid> {
    match value {
        None => Ok(default),
        Some(n) => u8::try_from(n)
            .ok()
            .filter(|n| (1..=most).contains(n))
            .ok_or_else(|| Invalid::new(field, format!("must be between 1 and {most}"))),
    }
}

impl Session {
    pub fn create(event_id: EventId, new: NewSession, now: DateTime<Utc>) -> Result<Self, Invalid> {
        if new.starts_at <= now {
            return Err(Invalid::new("starts_at", "must be in the future"));
        }
        if new.sale.starts_at >= new.sale.ends_at {
            return Err(Invalid::new("sale_ends_at", "must be after sale_starts_at"));
        }
        if new.sale.ends_at > new.starts_at {
            return Err(Invalid::new(
                "sale_ends_at",
                "must not be after the session starts",
            ));
        }
        let max_tickets_per_customer = bounded(
            new.max_tickets_per_customer,
            DEFAULT_MAX_TICKETS_PER_CUSTOMER,
            MAX_TICKETS_PER_CUSTOMER,
            "max_tickets_per_customer",
        )?;
        let max_waiting_per_customer = bounded(
            new.max_waiting_per_customer,
            DEFAULT_MAX_WAITING_PER_CUSTOMER,
            MAX_WAITING_PER_CUSTOMER,
            "max_waiting_per_customer",
        )?;
        if new.sectors.is_empty() || new.sectors.len() > MAX_SECTORS {
            return Err(Invalid::new(
                "sectors",
                format!("give between 1 and {MAX_SECTORS} sectors"),
            ));
        }
        let mut codes = HashSet::new();
        for (i, sector) in new.sectors.iter().enumerate() {
            if !codes.insert(&sector.code) {
                return Err(Invalid::new(
                    format!("sectors[{i}].code"),
                    format!("`{}` is used twice", sector.code),
                ));
            }
        }
        let seats: u32 = new
            .sectors
            .iter()
            .map(|s| s.layout.seats().count() as u32)
            .sum();
        if seats > MAX_SEATS_PER_SESSION {
            return Err(Invalid::new(
                "sectors",
                format!("{seats} numbered seats; a session has at most {MAX_SEATS_PER_SESSION}"),
            ));
        }
        Ok(Self {
            id: SessionId::generate(),
            event_id,
            starts_at: new.starts_at,
            sale: new.sale,
            sale_mode: new.sale_mode,
            max_tickets_per_customer,
            max_waiting_per_customer,
            sectors: new.sectors,
            created_at: now,
            sharded: true,
            seat_blocks: true,
        })
    }

    /// The stock shards a sector's places are on: none for seats, nor in an unsharded session.
    pub fn place_shards(&self, sector: &Sector) -> u32 {
        match sector.layout {
            super::SectorLayout::GeneralAdmission { capacity } if self.sharded => {
                super::stock::shards(capacity).len() as u32
            }
            _ => 0,
        }
    }

    /// The stock shards a sector's counts are on: its places' shards, or a numbered sector's
    /// seat counters (`stock::SEAT_COUNTERS`).
    pub fn stock_shards(&self, sector: &Sector) -> u32 {
        match sector.layout {
            super::SectorLayout::Numbered { .. } => super::stock::SEAT_COUNTERS,
            super::SectorLayout::GeneralAdmission { .. } => self.place_shards(sector),
        }
    }

    /// The block of rows whose partition keeps `seat` of a numbered sector (`None` in an older
    /// session, whose seats are all in their sector's partition).
    pub fn seat_block(&self, sector: &Sector, seat: super::SeatLabel) -> Option<u16> {
        match sector.layout {
            super::SectorLayout::Numbered { seats_per_row, .. } if self.seat_blocks => {
                Some(super::seat_map::MapBlock::first_row_of(seat, seats_per_row))
            }
            _ => None,
        }
    }

    pub fn sector(&self, code: &str) -> Option<&Sector> {
        self.sectors.iter().find(|s| s.code.as_str() == code)
    }

    /// Whether a direct hold would jump the queue now: a `queue` sale while it is open.
    pub fn refuses_direct_holds(&self, now: DateTime<Utc>) -> bool {
        self.sale_mode == SaleMode::Queue && self.sale.is_open(now)
    }

    pub fn capacity(&self) -> u32 {
        self.sectors.iter().map(Sector::capacity).sum()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::{Money, SectorLayout};

    fn sector(code: &str, layout: SectorLayout) -> Sector {
        Sector::create(
            code.into(),
            "Sector",
            Money::price(5_000, Default::default()).unwrap(),
            layout,
        )
        .unwrap()
    }

    fn new_session(now: DateTime<Utc>) -> NewSession {
        NewSession {
            starts_at: now + Duration::days(30),
            sale: SaleWindow {
                starts_at: now,
                ends_at: now + Duration::days(29),
            },
            sale_mode: SaleMode::Direct,
            max_tickets_per_customer: None,
            max_waiting_per_customer: None,
            sectors: vec![
                sector("plateia", SectorLayout::numbered(20, 30, vec![]).unwrap()),
                sector("pista", SectorLayout::general_admission(2_000).unwrap()),
            ],
        }
    }

    #[test]
    fn a_session_defaults_to_six_tickets_per_customer() {
        let now = Utc::now();
        let session = Session::create(EventId::generate(), new_session(now), now).unwrap();
        assert_eq!(session.max_tickets_per_customer, 6);
        assert_eq!(session.max_waiting_per_customer, 2);
        assert_eq!(session.capacity(), 2_600);
        assert!(session.sale.is_open(now));
        assert!(
            !session.sale.is_open(now + Duration::days(29)),
            "the end is exclusive"
        );
    }

    #[test]
    fn a_queue_sale_refuses_direct_holds_only_while_it_is_open() {
        let now = Utc::now();
        let new = NewSession {
            sale_mode: SaleMode::Queue,
            ..new_session(now)
        };
        let session = Session::create(EventId::generate(), new, now).unwrap();
        assert!(session.refuses_direct_holds(now));
        assert!(!session.refuses_direct_holds(session.sale.ends_at));
        let direct = Session::create(EventId::generate(), new_session(now), now).unwrap();
        assert!(!direct.refuses_direct_holds(now));
    }

    #[test]
    fn the_sale_must_close_before_the_session_starts() {
        let now = Utc::now();
        let mut new = new_session(now);
        new.sale.ends_at = new.starts_at + Duration::hours(1);
        assert_eq!(
            Session::create(EventId::generate(), new, now)
                .unwrap_err()
                .field,
            "sale_ends_at"
        );
        let mut new = new_session(now);
        new.sale.ends_at = new.sale.starts_at;
        assert_eq!(
            Session::create(EventId::generate(), new, now)
                .unwrap_err()
                .field,
            "sale_ends_at"
        );
    }

    #[test]
    fn a_session_in_the_past_is_refused() {
        let now = Utc::now();
        let mut new = new_session(now);
        new.starts_at = now - Duration::minutes(1);
        assert_eq!(
            Session::create(EventId::generate(), new, now)
                .unwrap_err()
                .field,
            "starts_at"
        );
    }

    #[test]
    fn sector_codes_are_unique_within_a_session() {
        let now = Utc::now();
        let mut new = new_session(now);
        new.sectors
            .push(sector("pista", SectorLayout::general_admission(5).unwrap()));
        assert_eq!(
            Session::create(EventId::generate(), new, now)
                .unwrap_err()
                .field,
            "sectors[2].code"
        );
    }

    #[test]
    fn limits_are_bounded() {
        let now = Utc::now();
        for bad in [0, -1, 51, 1_000] {
            let new = NewSession {
                max_tickets_per_customer: Some(bad),
                ..new_session(now)
            };
            assert!(
                Session::create(EventId::generate(), new, now).is_err(),
                "{bad} accepted"
            );
        }
        for bad in [0, 11] {
            let new = NewSession {
                max_waiting_per_customer: Some(bad),
                ..new_session(now)
            };
            assert_eq!(
                Session::create(EventId::generate(), new, now)
                    .unwrap_err()
                    .field,
                "max_waiting_per_customer"
            );
        }
        let new = NewSession {
            sectors: vec![],
            ..new_session(now)
        };
        assert_eq!(
            Session::create(EventId::generate(), new, now)
                .unwrap_err()
                .field,
            "sectors"
        );
    }

    #[test]
    fn a_stadium_session_is_capped_in_numbered_seats() {
        let now = Utc::now();
        let big = |code: &str| sector(code, SectorLayout::numbered(200, 100, vec![]).unwrap());
        let new = NewSession {
            sectors: vec![big("norte"), big("sul")],
            ..new_session(now)
        };
        assert!(
            Session::create(EventId::generate(), new, now).is_ok(),
            "40,000 seats fit"
        );
        let new = NewSession {
            sectors: vec![big("norte"), big("sul"), big("leste")],
            ..new_session(now)
        };
        assert!(
            Session::create(EventId::generate(), new, now).is_err(),
            "60,000 do not"
        );
    }
}
