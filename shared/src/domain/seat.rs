//! Seats of a numbered sector: labels like `A-12` and the state each seat is in.

use std::{fmt, str::FromStr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Invalid, ReservationId};

/// A seat's place: row (0 is `A`, 25 is `Z`, 26 is `AA`) and number within the row (from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SeatLabel {
    pub row: u16,
    pub number: u16,
}

impl SeatLabel {
    pub fn new(row: u16, number: u16) -> Self {
        Self { row, number }
    }

    /// The row's letters: A..Z, then AA, AB, ... as on theatre tickets.
    pub fn row_name(&self) -> String {
        row_name(self.row)
    }
}

pub fn row_name(index: u16) -> String {
    let mut n = u32::from(index) + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        letters.push(char::from(b'A' + rem));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

fn row_index(name: &str) -> Option<u16> {
    if name.is_empty() || name.len() > 3 || !name.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let n = name
        .bytes()
        .try_fold(0u32, |acc, b| Some(acc * 26 + u32::from(b - b'A') + 1))?;
    u16::try_from(n - 1).ok()
}

impl fmt::Display for SeatLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.row_name(), self.number)
    }
}

impl FromStr for SeatLabel {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::new("seat", format!("`{s}` is not a seat label like A-12"));
        let (row, number) = s.split_once('-').ok_or_else(bad)?;
        let row = row_index(row).ok_or_else(bad)?;
        let canonical = number.bytes().all(|b| b.is_ascii_digit()) && !number.starts_with('0');
        let number: u16 = number.parse().ok().filter(|_| canonical).ok_or_else(bad)?;
        Ok(Self { row, number })
    }
}

impl TryFrom<String> for SeatLabel {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        s.parse()
    }
}

impl From<SeatLabel> for String {
    fn from(label: SeatLabel) -> String {
        label.to_string()
    }
}

/// Where a seat stands. A hold past its `expires_at` no longer keeps the seat from anyone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeatState {
    Free,
    Held {
        reservation: ReservationId,
        expires_at: DateTime<Utc>,
    },
    Sold {
        reservation: ReservationId,
    },
    /// Came back while fans wait for the sector: kept off sale for its waiting list.
    Kept,
}

/// What the public seat map shows: never who holds or bought a seat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatStatus {
    Free,
    Held,
    Sold,
}

impl SeatState {
    pub fn status_at(&self, now: DateTime<Utc>) -> SeatStatus {
        match self {
            SeatState::Free => SeatStatus::Free,
            SeatState::Held { expires_at, .. } if *expires_at < now => SeatStatus::Free,
            SeatState::Held { .. } | SeatState::Kept => SeatStatus::Held,
            SeatState::Sold { .. } => SeatStatus::Sold,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seat {
    pub label: SeatLabel,
    pub state: SeatState,
}

impl Seat {
    pub fn free(label: SeatLabel) -> Self {
        Self {
            label,
            state: SeatState::Free,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_lettered_like_a_theatre() {
        let names: Vec<_> = [0, 1, 25, 26, 27, 51, 52, 701, 702].map(row_name).into();
        assert_eq!(names, ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
        for i in 0..2_000 {
            assert_eq!(row_index(&row_name(i)), Some(i));
        }
    }

    #[test]
    fn labels_parse_and_print_alike() {
        let label: SeatLabel = "AB-12".parse().unwrap();
        assert_eq!(label, SeatLabel::new(27, 12));
        assert_eq!(label.to_string(), "AB-12");
        for bad in [
            "A12", "a-12", "A-0", "A-", "-3", "A-012", "A-+1", "A-1-2", "ABCD-1", "A-99999",
        ] {
            assert!(bad.parse::<SeatLabel>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn an_expired_hold_shows_as_free() {
        let now = Utc::now();
        let held = |secs| SeatState::Held {
            reservation: ReservationId::generate(),
            expires_at: now + chrono::Duration::seconds(secs),
        };
        assert_eq!(held(60).status_at(now), SeatStatus::Held);
        assert_eq!(held(-1).status_at(now), SeatStatus::Free);
        let sold = SeatState::Sold {
            reservation: ReservationId::generate(),
        };
        assert_eq!(sold.status_at(now), SeatStatus::Sold);
    }
}
