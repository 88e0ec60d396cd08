//! Best available seats for a queued request.
//!
//! "Best" is: the front row first (row A is nearest the stage), and within a row the block of
//! adjacent seats whose middle is nearest the row's middle. A request is seated together in the
//! best row that has a long enough block; when no row has one, it gets the best single seats
//! (front rows first, nearest the middle first).

use std::collections::BTreeSet;

use super::{SeatLabel, SectorLayout};

/// `quantity` free seats of a numbered sector, best first; `None` if fewer are free.
pub fn best_available(
    layout: &SectorLayout,
    free: &BTreeSet<SeatLabel>,
    quantity: u32,
) -> Option<Vec<SeatLabel>> {
    let SectorLayout::Numbered {
        rows,
        seats_per_row,
        ..
    } = layout
    else {
        return None;
    };
    let quantity = quantity as usize;
    if quantity == 0 || free.len() < quantity {
        return None;
    }
    // Twice the distance from the middle, to stay in integers.
    let middle = u32::from(*seats_per_row) + 1;
    let off_centre = |first: u16, count: usize| {
        ((2 * u32::from(first) + count as u32 - 1) as i64 - middle as i64).unsigned_abs()
    };
    for row in 0..*rows {
        let numbers: Vec<u16> = free
            .range(SeatLabel::new(row, 0)..SeatLabel::new(row + 1, 0))
            .map(|s| s.number)
            .collect();
        let mut best: Option<(u64, u16)> = None;
        let mut run_start = 0;
        for i in 0..numbers.len() {
            if i > 0 && numbers[i] != numbers[i - 1] + 1 {
                run_start = i;
            }
            if i + 1 >= run_start + quantity {
                let first = numbers[i + 1 - quantity];
                let score = off_centre(first, quantity);
                if best.is_none_or(|(s, _)| score < s) {
                    best = Some((score, first));
                }
            }
        }
        if let Some((_, first)) = best {
            return Some(
                (0..quantity as u16)
                    .map(|k| SeatLabel::new(row, first + k))
                    .collect(),
            );
        }
    }
    let mut scattered: Vec<&SeatLabel> = free.iter().collect();
    scattered.sort_by_key(|s| (s.row, off_centre(s.number, 1)));
    Some(scattered.into_iter().take(quantity).copied().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(list: &[SeatLabel]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    fn all(layout: &SectorLayout) -> BTreeSet<SeatLabel> {
        layout.seats().collect()
    }

    #[test]
    fn an_empty_sector_seats_a_party_together_in_the_middle_of_the_front_row() {
        let layout = SectorLayout::numbered(5, 10, vec![]).unwrap();
        assert_eq!(
            labels(&best_available(&layout, &all(&layout), 2).unwrap()),
            ["A-5", "A-6"]
        );
        assert_eq!(
            labels(&best_available(&layout, &all(&layout), 3).unwrap()),
            ["A-4", "A-5", "A-6"]
        );
    }

    #[test]
    fn a_party_goes_to_the_next_row_rather_than_apart() {
        let layout = SectorLayout::numbered(3, 6, vec![]).unwrap();
        let mut free = all(&layout);
        for n in [2, 4, 6] {
            free.remove(&SeatLabel::new(0, n));
        }
        assert_eq!(
            labels(&best_available(&layout, &free, 2).unwrap()),
            ["B-3", "B-4"]
        );
        assert_eq!(
            labels(&best_available(&layout, &free, 1).unwrap()),
            ["A-3"],
            "one person takes the best single seat"
        );
    }

    #[test]
    fn gaps_break_a_block() {
        let layout = SectorLayout::numbered(2, 5, vec!["A-3".parse().unwrap()]).unwrap();
        assert_eq!(
            labels(&best_available(&layout, &all(&layout), 3).unwrap()),
            ["B-2", "B-3", "B-4"]
        );
    }

    #[test]
    fn with_no_block_left_the_best_single_seats_are_given() {
        let layout = SectorLayout::numbered(2, 4, vec![]).unwrap();
        let free: BTreeSet<SeatLabel> = ["A-1", "A-3", "B-2", "B-4"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(
            labels(&best_available(&layout, &free, 3).unwrap()),
            ["A-3", "A-1", "B-2"]
        );
        assert!(
            best_available(&layout, &free, 5).is_none(),
            "not enough seats"
        );
    }

    #[test]
    fn general_admission_has_no_seats_to_choose() {
        let layout = SectorLayout::general_admission(10).unwrap();
        assert!(best_available(&layout, &BTreeSet::new(), 1).is_none());
    }
}
