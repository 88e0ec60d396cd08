//! Sectors of a session: numbered seats (rows × seats per row, minus gaps) or general admission.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Invalid, Money, SeatLabel, error::text, event::MAX_NAME_CHARS};

pub const MAX_ROWS: u16 = 200;
pub const MAX_SEATS_PER_ROW: u16 = 200;
pub const MAX_GA_CAPACITY: u32 = 200_000;

/// A sector's short code, used in URLs: lower-case letters, digits and dashes, 1 to 32 long.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SectorCode(String);

impl SectorCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SectorCode {
    type Error = Invalid;
    fn try_from(code: String) -> Result<Self, Invalid> {
        let ok = (1..=32).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !code.starts_with('-');
        if ok {
            Ok(Self(code))
        } else {
            Err(Invalid::new(
                "code",
                "must be 1 to 32 lower-case letters, digits or dashes, not starting with a dash",
            ))
        }
    }
}

impl From<SectorCode> for String {
    fn from(code: SectorCode) -> String {
        code.0
    }
}

impl std::fmt::Display for SectorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SectorLayout {
    /// Seats `A-1` .. in `rows` rows of `seats_per_row`; `gaps` are places with no seat (aisles, pillars).
    Numbered {
        rows: u16,
        seats_per_row: u16,
        #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
        gaps: BTreeSet<SeatLabel>,
    },
    /// Standing or unassigned places, counted, not named.
    GeneralAdmission { capacity: u32 },
}

fn between(field: &str, value: i64, max: u16) -> Result<u16, Invalid> {
    u16::try_from(value)
        .ok()
        .filter(|v| (1..=max).contains(v))
        .ok_or_else(|| Invalid::new(field, format!("must be between 1 and {max}")))
}

impl SectorLayout {
    pub fn numbered(rows: i64, seats_per_row: i64, gaps: Vec<SeatLabel>) -> Result<Self, Invalid> {
        let rows = between("rows", rows, MAX_ROWS)?;
        let seats_per_row = between("seats_per_row", seats_per_row, MAX_SEATS_PER_ROW)?;
        let mut set = BTreeSet::new();
        for gap in gaps {
            if gap.row >= rows || gap.number > seats_per_row {
                return Err(Invalid::new("gaps", format!("{gap} is outside the sector")));
            }
            if !set.insert(gap) {
                return Err(Invalid::new("gaps", format!("{gap} is listed twice")));
            }
        }
        if set.len() == usize::from(rows) * usize::from(seats_per_row) {
            return Err(Invalid::new("gaps", "leave at least one seat"));
        }
        Ok(Self::Numbered {
            rows,
            seats_per_row,
            gaps: set,
        })
    }

    pub fn general_admission(capacity: i64) -> Result<Self, Invalid> {
        match u32::try_from(capacity) {
            Ok(capacity) if (1..=MAX_GA_CAPACITY).contains(&capacity) => {
                Ok(Self::GeneralAdmission { capacity })
            }
            _ => Err(Invalid::new(
                "capacity",
                format!("must be between 1 and {MAX_GA_CAPACITY}"),
            )),
        }
    }

    /// Places for sale: seats that exist, or the admission capacity.
    pub fn capacity(&self) -> u32 {
        match self {
            SectorLayout::Numbered {
                rows,
                seats_per_row,
                gaps,
            } => u32::from(*rows) * u32::from(*seats_per_row) - gaps.len() as u32,
            SectorLayout::GeneralAdmission { capacity } => *capacity,
        }
    }

    /// Every seat of a numbered sector, row by row; none for general admission.
    pub fn seats(&self) -> impl Iterator<Item = SeatLabel> + '_ {
        let (rows, per_row, gaps) = match self {
            SectorLayout::Numbered {
                rows,
                seats_per_row,
                gaps,
            } => (*rows, *seats_per_row, Some(gaps)),
            SectorLayout::GeneralAdmission { .. } => (0, 0, None),
        };
        (0..rows)
            .flat_map(move |row| (1..=per_row).map(move |number| SeatLabel::new(row, number)))
            .filter(move |seat| gaps.is_some_and(|g| !g.contains(seat)))
    }

    /// Whether `seat` exists in this sector.
    pub fn has_seat(&self, seat: SeatLabel) -> bool {
        match self {
            SectorLayout::Numbered {
                rows,
                seats_per_row,
                gaps,
            } => {
                seat.row < *rows
                    && seat.number >= 1
                    && seat.number <= *seats_per_row
                    && !gaps.contains(&seat)
            }
            SectorLayout::GeneralAdmission { .. } => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sector {
    pub code: SectorCode,
    pub name: String,
    pub price: Money,
    #[serde(flatten)]
    pub layout: SectorLayout,
}

impl Sector {
    pub fn create(
        code: String,
        name: &str,
        price: Money,
        layout: SectorLayout,
    ) -> Result<Self, Invalid> {
        Ok(Self {
            code: SectorCode::try_from(code)?,
            name: text("name", name, MAX_NAME_CHARS)?,
            price: Money::price(price.cents, price.currency).map_err(|e| e.within("price"))?,
            layout,
        })
    }

    pub fn capacity(&self) -> u32 {
        self.layout.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_numbered_sector_counts_its_seats_minus_gaps() {
        let layout =
            SectorLayout::numbered(3, 4, vec!["A-1".parse().unwrap(), "C-4".parse().unwrap()])
                .unwrap();
        assert_eq!(layout.capacity(), 10);
        let seats: Vec<String> = layout.seats().map(|s| s.to_string()).collect();
        assert_eq!(seats.len(), 10);
        assert_eq!(seats.first().map(String::as_str), Some("A-2"));
        assert_eq!(seats.last().map(String::as_str), Some("C-3"));
        assert!(layout.has_seat("B-4".parse().unwrap()));
        assert!(
            !layout.has_seat("A-1".parse().unwrap()),
            "a gap is not a seat"
        );
        assert!(!layout.has_seat("D-1".parse().unwrap()));
    }

    #[test]
    fn gaps_must_lie_inside_the_sector_once() {
        let err = SectorLayout::numbered(2, 2, vec!["C-1".parse().unwrap()]).unwrap_err();
        assert!(err.reason.contains("outside"));
        let twice = vec!["A-1".parse().unwrap(), "A-1".parse().unwrap()];
        assert!(
            SectorLayout::numbered(2, 2, twice)
                .unwrap_err()
                .reason
                .contains("twice")
        );
        let all = vec!["A-1".parse().unwrap()];
        assert!(
            SectorLayout::numbered(1, 1, all).is_err(),
            "a sector of gaps only"
        );
    }

    #[test]
    fn sizes_are_bounded() {
        assert_eq!(
            SectorLayout::numbered(0, 10, vec![]).unwrap_err().field,
            "rows"
        );
        assert_eq!(
            SectorLayout::numbered(-3, 10, vec![]).unwrap_err().field,
            "rows"
        );
        assert_eq!(
            SectorLayout::numbered(10, 0, vec![]).unwrap_err().field,
            "seats_per_row"
        );
        assert_eq!(
            SectorLayout::numbered(i64::from(MAX_ROWS) + 1, 1, vec![])
                .unwrap_err()
                .field,
            "rows"
        );
        assert!(SectorLayout::general_admission(0).is_err());
        assert!(SectorLayout::general_admission(-5).is_err());
        assert!(SectorLayout::general_admission(i64::from(MAX_GA_CAPACITY) + 1).is_err());
        assert_eq!(
            SectorLayout::general_admission(2_000).unwrap().capacity(),
            2_000
        );
        assert_eq!(
            SectorLayout::general_admission(2_000)
                .unwrap()
                .seats()
                .count(),
            0
        );
    }

    #[test]
    fn sector_codes_are_url_safe() {
        assert!(SectorCode::try_from("pista-vip-2".to_string()).is_ok());
        for bad in ["", "Pista", "pista vip", "-x", "á", &"x".repeat(33)] {
            assert!(
                SectorCode::try_from(bad.to_string()).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn a_sector_serializes_with_its_kind() {
        let price = Money::price(100, Default::default()).unwrap();
        let sector = Sector::create(
            "pista".into(),
            "Pista",
            price,
            SectorLayout::general_admission(10).unwrap(),
        )
        .unwrap();
        let json = serde_json::to_value(&sector).unwrap();
        assert_eq!(json["kind"], "general_admission");
        assert_eq!(json["capacity"], 10);
    }
}
