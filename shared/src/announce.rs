//! The table's stream consumer: every committed change of a reservation's status, a request's
//! rejection or a sector's sold-out mark becomes its domain event, published on the bus in the
//! stream's order. A batch that cannot be published is handed back from its first unpublished
//! change, so a change is announced at least once; each event's `id` is the same every time its
//! change is announced. Before that, each reservation's step is recorded, once, in its history
//! and its session's timeline (`store::Timeline`).

use aws_lambda_events::event::{
    dynamodb,
    streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse},
};

use chrono::{DateTime, Utc};

use crate::{
    bus::{DomainEvent, EventBus, Unpublished},
    domain::{RequestStatus, ReservationStatus, Step},
    store::{Stored, Timeline, stored},
    telemetry::{self, Unit},
};

/// The events one change announces: `before` and `after` are the item's images, `mark` the
/// change's sequence number in the stream.
pub fn announcements(
    before: Option<&Stored>,
    after: Option<&Stored>,
    mark: &str,
) -> Vec<DomainEvent> {
    match after {
        Some(Stored::Reservation(r)) => {
            let was = match before {
                Some(Stored::Reservation(b)) => Some(b.status),
                _ => None,
            };
            let event = match r.status {
                _ if was == Some(r.status) => return Vec::new(),
                // Held once, when it is written; a declined card puts it back to HELD silently.
                ReservationStatus::Held if was.is_none() => DomainEvent::reservation_held,
                ReservationStatus::Confirmed => DomainEvent::reservation_confirmed,
                ReservationStatus::Cancelled => DomainEvent::reservation_cancelled,
                ReservationStatus::Expired => DomainEvent::reservation_expired,
                ReservationStatus::RefundRequired => DomainEvent::reservation_refund_required,
                ReservationStatus::Refunded => DomainEvent::reservation_refunded,
                _ => return Vec::new(),
            };
            if r.waitlist && r.status == ReservationStatus::Held {
                return vec![event(r), DomainEvent::waitlist_offered(r)];
            }
            vec![event(r)]
        }
        Some(Stored::Request(r)) if r.status == RequestStatus::Rejected => match before {
            Some(Stored::Request(b)) if b.status == RequestStatus::Rejected => Vec::new(),
            _ => vec![DomainEvent::request_rejected(r)],
        },
        Some(Stored::Sector {
            session,
            sector,
            sold_out: true,
        }) => match before {
            Some(Stored::Sector { sold_out: true, .. }) => Vec::new(),
            _ => vec![DomainEvent::sector_sold_out(*session, sector, mark)],
        },
        _ => Vec::new(),
    }
}

/// The step a change of a reservation is in its history and timeline, if it is one.
fn step(before: Option<&Stored>, after: Option<&Stored>, at: DateTime<Utc>) -> Option<Step> {
    let Some(Stored::Reservation(after)) = after else {
        return None;
    };
    let before = match before {
        Some(Stored::Reservation(b)) => Some(b.as_ref()),
        _ => None,
    };
    Step::of(before, after, at)
}

/// Records a batch of stream records in the history and the timeline, then announces them. An
/// image that cannot be read is logged and counted (`UnreadableChanges`) and passed over: reading
/// it again would not help. A batch whose steps cannot be recorded is handed back whole (a step
/// is recorded once however often it comes).
pub async fn announce_batch(
    event: dynamodb::Event,
    timeline: &impl Timeline,
    bus: &impl EventBus,
) -> DynamoDbEventResponse {
    let mut events = Vec::new();
    let mut steps = Vec::new();
    let mut seats = Vec::new();
    let mut first_mark = None;
    // The sequence number of the record each event comes from.
    let mut marks = Vec::new();
    let mut oldest = None;
    for record in event.records {
        let change = record.change;
        let mark = change.sequence_number.unwrap_or_default();
        first_mark = first_mark.or(Some(mark.clone()));
        let at = change.approximate_creation_date_time;
        oldest = oldest.or(Some(at));
        match (stored(change.old_image), stored(change.new_image)) {
            (Ok(before), Ok(after)) => {
                steps.extend(step(before.as_ref(), after.as_ref(), at));
                if let Some(Stored::Seat(seat)) = &after {
                    seats.push(seat.clone());
                }
                for e in announcements(before.as_ref(), after.as_ref(), &mark) {
                    events.push(e);
                    marks.push(mark.clone());
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, sequence = mark, keys = ?change.keys, "an unreadable change");
                telemetry::metric("UnreadableChanges", 1.0, Unit::Count, &[]);
            }
        }
    }
    if let Some(oldest) = oldest {
        let age = (crate::clock::now() - oldest).num_milliseconds().max(0);
        telemetry::metric("ChangeAgeMs", age as f64, Unit::Milliseconds, &[]);
    }
    let mut response = DynamoDbEventResponse::default();
    match futures::try_join!(timeline.record(&steps), timeline.draw_seats(&seats)) {
        Ok((recorded, _)) => {
            telemetry::metric("StepsRecorded", recorded as f64, Unit::Count, &[]);
        }
        Err(e) => {
            tracing::error!(error = %e, "the batch's steps or seats could not be recorded");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = first_mark;
            response.batch_item_failures.push(failure);
            return response;
        }
    }
    match bus.publish(&events).await {
        Ok(()) => {
            telemetry::metric("EventsAnnounced", events.len() as f64, Unit::Count, &[]);
        }
        Err(Unpublished { first }) => {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = marks.get(first).cloned();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::{RejectReason, RequestRecord, Reservation};

    fn reservation(status: &str) -> Stored {
        let r: Reservation = serde_json::from_value(json!({
            "id": "01JF000000000000000000RS01", "customer": "alice",
            "event_id": "01JF000000000000000000EV01", "session_id": "01JF000000000000000000SE01",
            "status": status,
            "seats": [{"sector": "plateia", "seat": "A-1", "price": {"cents": 10000, "currency": "BRL"}}],
            "created_at": "2026-12-03T20:00:00Z", "expires_at": "2026-12-03T20:10:00Z", "version": 1
        }))
        .unwrap();
        Stored::Reservation(Box::new(r))
    }

    fn request(status: RequestStatus) -> Stored {
        let mut r: RequestRecord = serde_json::from_value(json!({
            "request_id": "01JF000000000000000000RQ01", "customer": "bob",
            "session_id": "01JF000000000000000000SE01", "sector": "plateia", "quantity": 2,
            "requested_at": "2026-12-03T20:00:00Z", "status": "QUEUED"
        }))
        .unwrap();
        r.status = status;
        r.reason = (status == RequestStatus::Rejected).then_some(RejectReason::SoldOut);
        Stored::Request(Box::new(r))
    }

    fn sector(sold_out: bool) -> Stored {
        Stored::Sector {
            session: "01JF000000000000000000SE01".parse().unwrap(),
            sector: "plateia".to_string().try_into().unwrap(),
            sold_out,
        }
    }

    fn kinds(before: Option<&Stored>, after: Option<&Stored>) -> Vec<&'static str> {
        announcements(before, after, "42")
            .iter()
            .map(|e| e.kind)
            .collect()
    }

    #[test]
    fn a_reservation_is_announced_as_it_enters_each_status() {
        let held = reservation("HELD");
        assert_eq!(kinds(None, Some(&held)), ["ReservationHeld"]);
        let charging = reservation("CHARGING");
        assert!(kinds(Some(&held), Some(&charging)).is_empty());
        assert!(
            kinds(Some(&charging), Some(&held)).is_empty(),
            "a declined card puts it back to HELD: not a new hold"
        );
        for (status, kind) in [
            ("CONFIRMED", "ReservationConfirmed"),
            ("CANCELLED", "ReservationCancelled"),
            ("EXPIRED", "ReservationExpired"),
            ("REFUND_REQUIRED", "ReservationRefundRequired"),
            ("REFUNDED", "ReservationRefunded"),
        ] {
            let after = reservation(status);
            assert_eq!(kinds(Some(&held), Some(&after)), [kind]);
            assert!(
                kinds(Some(&after), Some(&after)).is_empty(),
                "{status} again (tickets written, a version bumped) is not news"
            );
        }
        assert!(
            kinds(Some(&held), None).is_empty(),
            "a removal is not announced"
        );
        let events = announcements(None, Some(&held), "42");
        assert_eq!(events[0].id(), "ReservationHeld/01JF000000000000000000RS01");
        assert_eq!(events[0].detail["tickets"], 1);
    }

    #[test]
    fn a_rejection_and_each_sold_out_marking_are_announced_once() {
        let queued = request(RequestStatus::Queued);
        let rejected = request(RequestStatus::Rejected);
        assert_eq!(kinds(Some(&queued), Some(&rejected)), ["RequestRejected"]);
        assert_eq!(
            kinds(None, Some(&rejected)),
            ["RequestRejected"],
            "a dead letter is written REJECTED at once"
        );
        assert!(kinds(Some(&rejected), Some(&rejected)).is_empty());
        assert!(kinds(None, Some(&request(RequestStatus::Fulfilled))).is_empty());

        let (open, marked) = (sector(false), sector(true));
        let events = announcements(Some(&open), Some(&marked), "42");
        assert_eq!(
            events[0].id(),
            "SectorSoldOut/01JF000000000000000000SE01/plateia/42"
        );
        assert!(
            kinds(Some(&marked), Some(&marked)).is_empty(),
            "a hold refused on a marked sector writes the mark again: not news"
        );
        assert!(kinds(Some(&marked), Some(&open)).is_empty());
        assert!(kinds(Some(&open), Some(&open)).is_empty());
        assert!(kinds(Some(&open), Some(&Stored::Other)).is_empty());
    }
}
