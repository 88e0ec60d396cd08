//! Best available seats for a queued request.
//!
//! "Best" is: the front row first (row A is nearest the stage), and within a row the block of
//! adjacent seats whose middle is nearest the row's middle. A request is seated together in the
//! best row that has a long enough block; when no row has one, it gets the best single seats
//! (front rows first, nearest the middle first).
//!
//! A batch of queued requests is allocated in one pass, in queue order, against what the sector
//! has left and what each customer already holds ([`allocate`]): the outcome is the one serving
//! them one at a time would give.

use std::collections::{BTreeSet, HashMap};

use super::{RejectReason, SeatLabel, SectorLayout};

/// A queued request as the allocation sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ask {
    pub customer: String,
    pub quantity: u32,
}

/// What a sector has left and what its customers hold, as one batch starts.
#[derive(Clone, Debug, Default)]
pub struct Pool {
    /// Numbered sectors: the free seats.
    pub free: BTreeSet<SeatLabel>,
    /// General admission: the places on sale.
    pub places: i64,
    /// Tickets each customer already holds or bought in the session (every sector).
    pub held: HashMap<String, u32>,
    /// The session's per-customer limit.
    pub limit: u32,
}

/// One request's share of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Allocated {
    Seats(Vec<SeatLabel>),
    Places(u32),
    Rejected(RejectReason),
}

impl Allocated {
    /// Refused for want of seats or places (not for the customer's limit).
    pub fn is_short(&self) -> bool {
        matches!(
            self,
            Allocated::Rejected(RejectReason::NotEnoughLeft | RejectReason::SoldOut)
        )
    }
}

/// Allocates `asks` in order, taking what each is given out of `pool`. A request over its
/// customer's limit takes nothing; one for more than is left takes nothing and is
/// `NOT_ENOUGH_LEFT` (a later, smaller one may still be served), or `SOLD_OUT` when nothing is.
pub fn allocate(layout: &SectorLayout, pool: &mut Pool, asks: &[Ask]) -> Vec<Allocated> {
    asks.iter()
        .map(|ask| {
            let had = pool.held.get(&ask.customer).copied().unwrap_or(0);
            if had + ask.quantity > pool.limit {
                return Allocated::Rejected(RejectReason::LimitExceeded);
            }
            let given = match layout {
                SectorLayout::Numbered { .. } => {
                    match best_available(layout, &pool.free, ask.quantity) {
                        Some(seats) => {
                            seats.iter().for_each(|s| {
                                pool.free.remove(s);
                            });
                            Allocated::Seats(seats)
                        }
                        None if pool.free.is_empty() => Allocated::Rejected(RejectReason::SoldOut),
                        None => Allocated::Rejected(RejectReason::NotEnoughLeft),
                    }
                }
                SectorLayout::GeneralAdmission { .. } => {
                    if pool.places >= i64::from(ask.quantity) {
                        pool.places -= i64::from(ask.quantity);
                        Allocated::Places(ask.quantity)
                    } else if pool.places > 0 {
                        Allocated::Rejected(RejectReason::NotEnoughLeft)
                    } else {
                        Allocated::Rejected(RejectReason::SoldOut)
                    }
                }
            };
            if !matches!(given, Allocated::Rejected(_)) {
                pool.held.insert(ask.customer.clone(), had + ask.quantity);
            }
            given
        })
        .collect()
}

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

    fn ask(customer: &str, quantity: u32) -> Ask {
        Ask {
            customer: customer.into(),
            quantity,
        }
    }

    #[test]
    fn a_batch_is_allocated_in_order_within_each_customers_limit() {
        let layout = SectorLayout::numbered(1, 6, vec![]).unwrap();
        let mut pool = Pool {
            free: all(&layout),
            held: HashMap::from([("bia".to_owned(), 3)]),
            limit: 4,
            ..Pool::default()
        };
        let given = allocate(
            &layout,
            &mut pool,
            &[
                ask("ana", 2),
                ask("bia", 2),
                ask("ana", 3),
                ask("caio", 4),
                ask("dora", 3),
                ask("ana", 2),
                ask("eva", 1),
            ],
        );
        let labels_of = |a: &Allocated| match a {
            Allocated::Seats(s) => labels(s).join(" "),
            other => format!("{other:?}"),
        };
        assert_eq!(
            given.iter().map(labels_of).collect::<Vec<_>>(),
            [
                "A-3 A-4",
                "Rejected(LimitExceeded)",
                "Rejected(LimitExceeded)",
                "A-2 A-5 A-1 A-6",
                "Rejected(SoldOut)",
                "Rejected(SoldOut)",
                "Rejected(SoldOut)",
            ]
        );
        assert_eq!(pool.held["ana"], 2, "a refused request takes nothing");
        assert_eq!(pool.held["caio"], 4);
        assert!(given[4].is_short() && !given[1].is_short());
    }

    #[test]
    fn general_admission_serves_a_smaller_request_after_a_larger_one_is_refused() {
        let layout = SectorLayout::general_admission(5).unwrap();
        let mut pool = Pool {
            places: 5,
            limit: 6,
            ..Pool::default()
        };
        let given = allocate(
            &layout,
            &mut pool,
            &[ask("ana", 4), ask("bia", 3), ask("caio", 1), ask("dora", 1)],
        );
        assert_eq!(
            given,
            [
                Allocated::Places(4),
                Allocated::Rejected(RejectReason::NotEnoughLeft),
                Allocated::Places(1),
                Allocated::Rejected(RejectReason::SoldOut),
            ]
        );
        assert_eq!(pool.places, 0);
    }

    #[test]
    fn general_admission_has_no_seats_to_choose() {
        let layout = SectorLayout::general_admission(10).unwrap();
        assert!(best_available(&layout, &BTreeSet::new(), 1).is_none());
    }
}
