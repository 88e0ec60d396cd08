//! A sector's line in a flash sale: each request takes a number as it joins, the consumer records
//! the highest number it has decided and the pace it decides at; a waiting request's place is how
//! many numbers lie between, and its wait that place at that pace.
//!
//! A request's number is the count of requests that joined the line before it, itself included:
//! the sum of [`LINE_SHARDS`] counters, read just after it added itself to one of them (picked at
//! random), so that joining a busy sector's line does not write one item only. Requests joining at
//! the same moment may count each other: a number is its request's rank within those.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Counters a sector's numbers are drawn from.
pub const LINE_SHARDS: u32 = 4;

/// The counter a request draws its number from: its id's random bits spread requests evenly.
pub fn counter_of(request: super::RequestId) -> u32 {
    super::stock::first_shard(request.spread(), LINE_SHARDS)
}

/// Seconds over which the serving pace is averaged (an exponentially weighted mean).
const PACE_SECONDS: f64 = 10.0;

/// How far a sector's line has moved.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// The highest number decided so far.
    pub served: u64,
    /// Requests decided a second, lately; 0 until measured.
    pub pace: f64,
    /// When the line last moved.
    pub at: DateTime<Utc>,
}

/// Where a waiting request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Position {
    /// 1 is next.
    pub place: u64,
    /// At the line's pace; absent until the pace is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_wait_seconds: Option<u64>,
}

impl Line {
    /// Where the request numbered `number` stands (before any is decided, `line` is `None`).
    pub fn position(line: Option<&Line>, number: u64) -> Position {
        let served = line.map_or(0, |l| l.served);
        let place = number.saturating_sub(served).max(1);
        let pace = line.map_or(0.0, |l| l.pace);
        Position {
            place,
            estimated_wait_seconds: (pace > 0.0).then(|| (place as f64 / pace).ceil() as u64),
        }
    }

    /// The line after a batch decided `count` requests, the highest numbered `served`, at `now`.
    pub fn advanced(before: Option<&Line>, served: u64, count: u32, now: DateTime<Utc>) -> Line {
        let Some(before) = before else {
            return Line {
                served,
                pace: 0.0,
                at: now,
            };
        };
        let seconds = ((now - before.at).num_milliseconds() as f64 / 1000.0).max(0.001);
        let now_pace = f64::from(count) / seconds;
        let weight = 1.0 - (-seconds / PACE_SECONDS).exp();
        let pace = if before.pace > 0.0 {
            weight * now_pace + (1.0 - weight) * before.pace
        } else {
            now_pace
        };
        Line {
            served: served.max(before.served),
            pace,
            at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn a_place_shrinks_as_the_line_moves_and_never_grows() {
        let start = Utc::now();
        let mine = 400;
        let mut line: Option<Line> = None;
        let mut places = vec![Line::position(None, mine).place];
        for (i, served) in [40, 120, 80, 300, 401].iter().enumerate() {
            let at = start + Duration::seconds(i as i64 + 1);
            line = Some(Line::advanced(line.as_ref(), *served, 10, at));
            places.push(Line::position(line.as_ref(), mine).place);
        }
        assert!(places.windows(2).all(|w| w[1] <= w[0]), "{places:?}");
        assert_eq!(places[0], mine);
        assert_eq!(
            *places.last().unwrap(),
            1,
            "decided past it: next, not zero"
        );
    }

    #[test]
    fn the_wait_is_the_place_at_the_measured_pace() {
        let start = Utc::now();
        let first = Line::advanced(None, 40, 10, start);
        assert_eq!(
            Line::position(Some(&first), 240).estimated_wait_seconds,
            None,
            "no pace from one batch"
        );
        let second = Line::advanced(Some(&first), 80, 10, start + Duration::milliseconds(500));
        assert!((second.pace - 20.0).abs() < 1e-9, "{}", second.pace);
        assert_eq!(
            Line::position(Some(&second), 280),
            Position {
                place: 200,
                estimated_wait_seconds: Some(10)
            }
        );
        let slower = Line::advanced(Some(&second), 90, 10, start + Duration::seconds(10));
        assert!(
            slower.pace < second.pace && slower.pace > 1.0,
            "{}",
            slower.pace
        );
    }

    #[test]
    fn the_first_to_join_is_first_in_line() {
        assert_eq!(Line::position(None, 1).place, 1);
        let line = Line::advanced(None, 3, 3, Utc::now());
        assert_eq!(Line::position(Some(&line), 5).place, 2);
    }
}
