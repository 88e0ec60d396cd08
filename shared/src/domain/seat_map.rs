//! A numbered sector's seat map in a few items: blocks of whole rows, each row a string with one
//! character a seat number (`F` free, `H` held, `S` sold, `.` no seat there). A 20,000-seat
//! sector is ten blocks of about 2,000 seats, about 20 KB in all.
//!
//! The seats themselves decide every hold; the map follows them (the table's stream writes each
//! seat's change into its block), so it may lag them by the stream's delay, and shows a hold that
//! lapsed as held until the sweep frees its seats.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Seat, SeatLabel, SectorLayout, seat::SeatStatus};

/// Seats of a block, about: whole rows up to this many seats.
pub const SEATS_PER_BLOCK: u32 = 2_000;

pub const FREE: char = 'F';
pub const HELD: char = 'H';
pub const SOLD: char = 'S';
pub const NO_SEAT: char = '.';

/// The character a seat's status is drawn with.
pub fn mark(status: SeatStatus) -> char {
    match status {
        SeatStatus::Free => FREE,
        SeatStatus::Held => HELD,
        SeatStatus::Sold => SOLD,
    }
}

/// A seat's new state, to draw in its sector's map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeatChange {
    pub session: super::SessionId,
    pub sector: super::SectorCode,
    pub seat: SeatLabel,
    pub mark: char,
}

/// Rows of a block for rows of `seats_per_row` seats.
pub fn rows_per_block(seats_per_row: u16) -> u16 {
    (SEATS_PER_BLOCK / u32::from(seats_per_row.max(1))).clamp(1, u32::from(u16::MAX)) as u16
}

/// Whole rows of a numbered sector, from `first_row`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapBlock {
    pub first_row: u16,
    /// One string a row, one character a seat number (from 1).
    pub rows: Vec<String>,
}

impl MapBlock {
    /// The block `seat` is drawn in, for rows of `seats_per_row`.
    pub fn first_row_of(seat: SeatLabel, seats_per_row: u16) -> u16 {
        let per = rows_per_block(seats_per_row);
        seat.row / per * per
    }

    /// Draws `seat` with `mark`; false if the block has no such seat.
    pub fn set(&mut self, seat: SeatLabel, mark: char) -> bool {
        let Some(row) = seat
            .row
            .checked_sub(self.first_row)
            .and_then(|r| self.rows.get_mut(usize::from(r)))
        else {
            return false;
        };
        let at = usize::from(seat.number.saturating_sub(1));
        let mut chars: Vec<char> = row.chars().collect();
        match chars.get_mut(at) {
            Some(c) if *c != NO_SEAT && seat.number >= 1 => {
                *c = mark;
                *row = chars.into_iter().collect();
                true
            }
            _ => false,
        }
    }

    pub fn count(&self, mark: char) -> usize {
        self.rows
            .iter()
            .map(|r| r.chars().filter(|c| *c == mark).count())
            .sum()
    }
}

/// A new sector's blocks, every seat free.
pub fn blocks(layout: &SectorLayout) -> Vec<MapBlock> {
    let SectorLayout::Numbered {
        rows,
        seats_per_row,
        gaps,
    } = layout
    else {
        return Vec::new();
    };
    let per = rows_per_block(*seats_per_row);
    (0..*rows)
        .step_by(usize::from(per))
        .map(|first_row| MapBlock {
            first_row,
            rows: (first_row..(first_row.saturating_add(per)).min(*rows))
                .map(|row| {
                    (1..=*seats_per_row)
                        .map(|n| match gaps.contains(&SeatLabel::new(row, n)) {
                            true => NO_SEAT,
                            false => FREE,
                        })
                        .collect()
                })
                .collect(),
        })
        .collect()
}

/// A sector's map drawn from its seats as they are at `now` (a lapsed hold shows free).
pub fn drawn(layout: &SectorLayout, seats: &[Seat], now: DateTime<Utc>) -> Vec<MapBlock> {
    let mut blocks = blocks(layout);
    let SectorLayout::Numbered { seats_per_row, .. } = layout else {
        return blocks;
    };
    for seat in seats {
        let first = MapBlock::first_row_of(seat.label, *seats_per_row);
        if let Some(block) = blocks.iter_mut().find(|b| b.first_row == first) {
            block.set(seat.label, mark(seat.state.status_at(now)));
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stadium_sector_is_a_few_blocks_of_whole_rows() {
        let layout = SectorLayout::numbered(200, 100, vec![]).unwrap();
        let map = blocks(&layout);
        assert_eq!(map.len(), 10);
        assert!(map.iter().all(|b| b.rows.len() == 20));
        assert_eq!(map.iter().map(|b| b.count(FREE)).sum::<usize>(), 20_000);
        let bytes: usize = map.iter().flat_map(|b| &b.rows).map(String::len).sum();
        assert_eq!(bytes, 20_000, "a byte a seat");
    }

    #[test]
    fn seats_are_drawn_in_their_block_and_gaps_stay_empty() {
        let layout = SectorLayout::numbered(3, 4, vec!["A-2".parse().unwrap()]).unwrap();
        let mut map = blocks(&layout);
        assert_eq!(map[0].rows, ["F.FF", "FFFF", "FFFF"]);
        let seat: SeatLabel = "B-4".parse().unwrap();
        assert_eq!(MapBlock::first_row_of(seat, 4), 0);
        assert!(map[0].set(seat, HELD));
        assert!(!map[0].set("A-2".parse().unwrap(), SOLD), "no seat there");
        assert!(!map[0].set("D-1".parse().unwrap(), SOLD), "no such row");
        assert_eq!(map[0].rows, ["F.FF", "FFFH", "FFFF"]);
        assert_eq!((map[0].count(FREE), map[0].count(HELD)), (10, 1));
    }

    #[test]
    fn long_rows_make_blocks_of_one_row() {
        let layout = SectorLayout::numbered(3, 200, vec![]).unwrap();
        assert_eq!(rows_per_block(200), 10);
        assert_eq!(blocks(&layout).len(), 1);
        assert_eq!(rows_per_block(u16::MAX), 1);
        let seat = SeatLabel::new(25, 1);
        assert_eq!(MapBlock::first_row_of(seat, 200), 20);
    }
}
