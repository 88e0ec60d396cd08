//! A general-admission sector's places, spread over shards so that a big sale does not write one
//! item: each shard is its own partition key with its own count. A hold takes from one shard,
//! picked from the reservation's id, and when that one has too few, from several (read first);
//! places that come back go to a shard picked the same way. What is on sale is the sum.

/// Places a shard starts with, at least (a smaller sector is one shard). A shard takes about 500
/// holds a second (DynamoDB's 1,000 write units a second a partition, two a transactional
/// write): a sector sells out through its shards in about two seconds at most, and a page that
/// shows what is left reads one small item a thousand places.
pub const PLACES_PER_SHARD: u32 = 1_000;
/// Shards of the largest sectors: 16 take about 8,000 holds a second.
pub const MAX_SHARDS: u32 = 16;
/// Counters a numbered sector's holds are counted on. Seats guard themselves, so these hold no
/// condition: a hold subtracts its seats from one of them (picked from its id) without reading
/// it, and what is on sale is the sector's stock item plus their sum (any of them may be below
/// zero). Four take about 2,000 holds a second, more than one partition of seats takes.
pub const SEAT_COUNTERS: u32 = 4;

/// The places each shard of a general-admission sector of `capacity` starts with.
pub fn shards(capacity: u32) -> Vec<u32> {
    let n = capacity.div_ceil(PLACES_PER_SHARD).clamp(1, MAX_SHARDS);
    (0..n)
        .map(|k| capacity / n + u32::from(k < capacity % n))
        .collect()
}

/// The shard a reservation takes from (or gives back to) first: its id's random bits spread
/// reservations evenly.
pub fn first_shard(spread: u128, shards: u32) -> u32 {
    (spread % u128::from(shards.max(1))) as u32
}

/// How to take `quantity` places from shards that have `available` each: the first shard's
/// places, then the next ones' in turn. `None` when they have fewer in all.
pub fn take(available: &[i64], quantity: u32, first: u32) -> Option<Vec<(u32, u32)>> {
    let n = available.len() as u32;
    let mut left = quantity;
    let mut takes = Vec::new();
    for k in (0..n).map(|i| (first + i) % n) {
        if left == 0 {
            break;
        }
        let here = available[k as usize].clamp(0, i64::from(left)) as u32;
        if here > 0 {
            takes.push((k, here));
            left -= here;
        }
    }
    (left == 0).then_some(takes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_is_split_evenly_and_kept_whole() {
        assert_eq!(shards(5), [5]);
        assert_eq!(shards(1_000), [1_000]);
        assert_eq!(shards(4_000), [1_000; 4]);
        assert_eq!(shards(4_001), [801, 800, 800, 800, 800]);
        let stadium = shards(60_000);
        assert_eq!(stadium.len(), MAX_SHARDS as usize);
        assert_eq!(stadium.iter().sum::<u32>(), 60_000);
    }

    #[test]
    fn a_take_starts_at_its_shard_and_goes_on_to_the_next() {
        assert_eq!(take(&[3, 3, 3], 2, 1), Some(vec![(1, 2)]));
        assert_eq!(
            take(&[3, 1, 0, 2], 4, 1),
            Some(vec![(1, 1), (3, 2), (0, 1)])
        );
        assert_eq!(take(&[1, 1, -2], 3, 0), None, "fewer in all");
        assert_eq!(take(&[0, 0], 1, 0), None);
    }
}
