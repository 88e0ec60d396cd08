//! A session's sale minute by minute, and each reservation's history: what one committed change
//! of a reservation adds to them. Tickets count as sold in the minute they were confirmed, and as
//! expiring in the minute their hold ends while the reservation is live.

use std::collections::BTreeMap;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::{Reservation, ReservationStatus, SessionId};

/// A minute of a session's timeline: the start of the minute, UTC.
pub type Minute = DateTime<Utc>;

/// The minute `at` falls in.
pub fn minute_of(at: DateTime<Utc>) -> Minute {
    at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(at)
}

/// What a minute of a session counts, in tickets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Confirmed in this minute.
    pub sold: i64,
    /// Held by live reservations whose hold ends in this minute.
    pub expiring: i64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.sold += other.sold;
        self.expiring += other.expiring;
    }

    pub fn is_zero(&self) -> bool {
        self.sold == 0 && self.expiring == 0
    }
}

/// One step of a reservation's life: the status it entered, at which version, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub status: ReservationStatus,
    pub version: u32,
    pub at: DateTime<Utc>,
    /// Who did it, when a person did (an organiser marking a refund done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// What one committed change of a reservation (its image `before`, if any, and `after`,
/// committed at `at`) means for the history and the timeline; `None` when neither its status
/// nor its hold's end changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub reservation: super::ReservationId,
    pub session: SessionId,
    pub entry: HistoryEntry,
    pub tallies: BTreeMap<Minute, Tally>,
}

impl Step {
    pub fn of(
        before: Option<&Reservation>,
        after: &Reservation,
        at: DateTime<Utc>,
    ) -> Option<Step> {
        let unchanged =
            before.is_some_and(|b| b.status == after.status && b.expires_at == after.expires_at);
        if unchanged {
            return None;
        }
        let tickets = i64::from(after.tickets());
        let mut tallies: BTreeMap<Minute, Tally> = BTreeMap::new();
        let mut count =
            |minute: Minute, tally: Tally| tallies.entry(minute).or_default().add(tally);
        if let Some(b) = before.filter(|b| b.status.is_live()) {
            count(
                minute_of(b.expires_at),
                Tally {
                    sold: 0,
                    expiring: -i64::from(b.tickets()),
                },
            );
        }
        if after.status.is_live() {
            count(
                minute_of(after.expires_at),
                Tally {
                    sold: 0,
                    expiring: tickets,
                },
            );
        }
        let confirmed_now = after.status == ReservationStatus::Confirmed
            && before.is_none_or(|b| b.status != ReservationStatus::Confirmed);
        let at = match (after.status, after.confirmed_at, after.refunded_at) {
            (ReservationStatus::Confirmed, Some(confirmed), _) => confirmed,
            (ReservationStatus::Refunded, _, Some(refunded)) => refunded,
            _ => at,
        };
        if confirmed_now {
            count(
                minute_of(at),
                Tally {
                    sold: tickets,
                    expiring: 0,
                },
            );
        }
        tallies.retain(|_, t| !t.is_zero());
        let status_changed = before.is_none_or(|b| b.status != after.status);
        Some(Step {
            reservation: after.id,
            session: after.session_id,
            entry: HistoryEntry {
                status: after.status,
                version: after.version,
                at,
                by: after
                    .refunded_by
                    .clone()
                    .filter(|_| after.status == ReservationStatus::Refunded),
            },
            tallies,
        })
        .filter(|step| status_changed || !step.tallies.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reservation(status: &str, expires_at: &str, version: u32) -> Reservation {
        serde_json::from_value(json!({
            "id": "01JF000000000000000000RS01", "customer": "alice",
            "event_id": "01JF000000000000000000EV01", "session_id": "01JF000000000000000000SE01",
            "status": status,
            "seats": [{"sector": "plateia", "seat": "A-1", "price": {"cents": 10000, "currency": "BRL"}},
                      {"sector": "plateia", "seat": "A-2", "price": {"cents": 10000, "currency": "BRL"}}],
            "places": [{"sector": "pista", "quantity": 3, "unit_price": {"cents": 5000, "currency": "BRL"}}],
            "created_at": "2026-12-03T20:00:00Z", "expires_at": expires_at, "version": version,
            "confirmed_at": (status == "CONFIRMED").then_some("2026-12-03T20:07:31Z")
        }))
        .unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn tallies(step: &Step) -> Vec<(String, i64, i64)> {
        step.tallies
            .iter()
            .map(|(m, t)| (m.format("%H:%M").to_string(), t.sold, t.expiring))
            .collect()
    }

    #[test]
    fn a_hold_counts_as_expiring_in_the_minute_it_ends() {
        let held = reservation("HELD", "2026-12-03T20:10:45Z", 1);
        let step = Step::of(None, &held, at("2026-12-03T20:00:01Z")).unwrap();
        assert_eq!(tallies(&step), vec![("20:10".into(), 0, 5)]);
        assert_eq!(step.entry.status, ReservationStatus::Held);
        assert_eq!(step.entry.version, 1);
    }

    #[test]
    fn a_confirmation_moves_the_tickets_from_expiring_to_sold_in_its_minute() {
        let held = reservation("HELD", "2026-12-03T20:10:45Z", 2);
        let confirmed = reservation("CONFIRMED", "2026-12-03T20:10:45Z", 3);
        let step = Step::of(Some(&held), &confirmed, at("2026-12-03T20:07:32Z")).unwrap();
        assert_eq!(
            tallies(&step),
            vec![("20:07".into(), 5, 0), ("20:10".into(), 0, -5)]
        );
        assert_eq!(step.entry.at, at("2026-12-03T20:07:31Z"));
    }

    #[test]
    fn a_longer_payment_window_moves_the_expiring_tickets() {
        let charging = reservation("CHARGING", "2026-12-03T20:10:45Z", 2);
        let pending = reservation("PENDING_PAYMENT", "2026-12-03T20:40:00Z", 3);
        let step = Step::of(Some(&charging), &pending, at("2026-12-03T20:05:00Z")).unwrap();
        assert_eq!(
            tallies(&step),
            vec![("20:10".into(), 0, -5), ("20:40".into(), 0, 5)]
        );
    }

    #[test]
    fn an_expiry_or_cancellation_takes_the_tickets_out_of_expiring() {
        let held = reservation("HELD", "2026-12-03T20:10:45Z", 1);
        for status in ["EXPIRED", "CANCELLED", "REFUND_REQUIRED"] {
            let ended = reservation(status, "2026-12-03T20:10:45Z", 2);
            let step = Step::of(Some(&held), &ended, at("2026-12-03T20:11:02Z")).unwrap();
            assert_eq!(tallies(&step), vec![("20:10".into(), 0, -5)], "{status}");
            assert_eq!(step.entry.at, at("2026-12-03T20:11:02Z"));
        }
    }

    #[test]
    fn a_change_of_neither_status_nor_hold_end_is_no_step() {
        let held = reservation("HELD", "2026-12-03T20:10:45Z", 1);
        let with_popcorn = reservation("HELD", "2026-12-03T20:10:45Z", 2);
        assert_eq!(
            Step::of(Some(&held), &with_popcorn, at("2026-12-03T20:02:00Z")),
            None
        );
    }

    #[test]
    fn a_charge_is_history_without_tallies() {
        let held = reservation("HELD", "2026-12-03T20:10:45Z", 1);
        let charging = reservation("CHARGING", "2026-12-03T20:10:45Z", 2);
        let step = Step::of(Some(&held), &charging, at("2026-12-03T20:03:00Z")).unwrap();
        assert!(step.tallies.is_empty());
        assert_eq!(step.entry.status, ReservationStatus::Charging);
    }

    #[test]
    fn a_refund_marked_done_is_history_with_who_and_when() {
        let owed = reservation("REFUND_REQUIRED", "2026-12-03T20:10:45Z", 3);
        let mut refunded = reservation("REFUNDED", "2026-12-03T20:10:45Z", 4);
        refunded.refunded_by = Some("organiser@example.com".into());
        refunded.refunded_at = Some(at("2026-12-04T09:30:00Z"));
        let step = Step::of(Some(&owed), &refunded, at("2026-12-04T09:30:01Z")).unwrap();
        assert!(step.tallies.is_empty(), "nothing held, nothing sold");
        assert_eq!(
            step.entry,
            HistoryEntry {
                status: ReservationStatus::Refunded,
                version: 4,
                at: at("2026-12-04T09:30:00Z"),
                by: Some("organiser@example.com".into()),
            }
        );
    }

    #[test]
    fn a_late_payment_for_an_expired_hold_is_sold_once() {
        let expired = reservation("EXPIRED", "2026-12-03T20:10:45Z", 2);
        let confirmed = reservation("CONFIRMED", "2026-12-03T20:10:45Z", 3);
        let step = Step::of(Some(&expired), &confirmed, at("2026-12-03T20:12:00Z")).unwrap();
        assert_eq!(tallies(&step), vec![("20:07".into(), 5, 0)]);
    }
}
