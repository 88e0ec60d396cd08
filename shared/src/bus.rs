//! Domain events other systems hear about (notifications, analytics, a sales dashboard). They are
//! derived from the table's stream by `announce`, never published by the request that made the
//! change: a change that committed is announced at least once, whatever happens to that request.
//! Each detail carries an `id` that the same change always has, for consumers to dedupe on.
//! `docs/events.md` documents each event's `detail`.

use std::future::Future;

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde_json::{Value, json};

use crate::domain::{RequestRecord, Reservation, SectorCode, SessionId};

/// The `source` of every event.
pub const SOURCE: &str = "bilheteria";
/// Version of the `detail` shapes documented in docs/events.md.
pub const DETAIL_VERSION: u32 = 1;
/// PutEvents takes at most ten entries.
const ENTRIES_PER_CALL: usize = 10;
/// Rounds of re-sending the entries PutEvents reports as failed.
const PUBLISH_ATTEMPTS: u32 = 3;

#[derive(Clone, Debug, PartialEq)]
pub struct DomainEvent {
    /// The EventBridge `detail-type`, e.g. `ReservationHeld`.
    pub kind: &'static str,
    pub detail: Value,
}

fn reservation_detail(kind: &str, r: &Reservation) -> Value {
    let mut detail = json!({
        "version": DETAIL_VERSION,
        "id": format!("{kind}/{}", r.id),
        "reservation_id": r.id,
        "customer": r.customer,
        "event_id": r.event_id,
        "session_id": r.session_id,
        "status": r.status,
        "seats": r.seats.iter().map(|s| json!({"sector": s.sector, "seat": s.seat})).collect::<Vec<_>>(),
        "places": r.places.iter().map(|p| json!({"sector": p.sector, "quantity": p.quantity})).collect::<Vec<_>>(),
        "tickets": r.tickets(),
        "total": r.total(),
        "expires_at": r.expires_at,
    });
    if let Some(reason) = &r.refund_reason {
        detail["refund_reason"] = json!(reason);
    }
    if let Some(at) = &r.refunded_at {
        detail["refunded_at"] = json!(at);
        detail["refunded_by"] = json!(r.refunded_by);
        detail["refund_reference"] = json!(r.refund_reference);
    }
    detail
}

impl DomainEvent {
    fn of_reservation(kind: &'static str, r: &Reservation) -> Self {
        Self {
            kind,
            detail: reservation_detail(kind, r),
        }
    }

    pub fn reservation_held(r: &Reservation) -> Self {
        Self::of_reservation("ReservationHeld", r)
    }

    pub fn reservation_confirmed(r: &Reservation) -> Self {
        Self::of_reservation("ReservationConfirmed", r)
    }

    pub fn reservation_cancelled(r: &Reservation) -> Self {
        Self::of_reservation("ReservationCancelled", r)
    }

    pub fn reservation_expired(r: &Reservation) -> Self {
        Self::of_reservation("ReservationExpired", r)
    }

    pub fn reservation_refund_required(r: &Reservation) -> Self {
        Self::of_reservation("ReservationRefundRequired", r)
    }

    pub fn reservation_refunded(r: &Reservation) -> Self {
        Self::of_reservation("ReservationRefunded", r)
    }

    /// Places that came back were held for the first fan in a sector's waiting list: their
    /// reservation, held until `expires_at`.
    pub fn waitlist_offered(r: &Reservation) -> Self {
        Self::of_reservation("WaitlistOffered", r)
    }

    pub fn request_rejected(record: &RequestRecord) -> Self {
        let r = &record.request;
        let detail = json!({
            "version": DETAIL_VERSION,
            "id": format!("RequestRejected/{}", r.request_id),
            "request_id": r.request_id,
            "customer": r.customer,
            "session_id": r.session_id,
            "sector": r.sector,
            "quantity": r.quantity,
            "reason": record.reason,
        });
        Self {
            kind: "RequestRejected",
            detail,
        }
    }

    /// A sector may be marked sold out again after places came back: `mark` (the change's
    /// position in the table's stream) tells one marking from another.
    pub fn sector_sold_out(session: SessionId, sector: &SectorCode, mark: &str) -> Self {
        Self {
            kind: "SectorSoldOut",
            detail: json!({
                "version": DETAIL_VERSION,
                "id": format!("SectorSoldOut/{session}/{sector}/{mark}"),
                "session_id": session,
                "sector": sector,
            }),
        }
    }

    /// The id that the same change always carries.
    pub fn id(&self) -> &str {
        self.detail["id"].as_str().unwrap_or_default()
    }
}

/// Events a publish could not deliver: from `first` (their index in what was given) on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("events from #{first} on were not published")]
pub struct Unpublished {
    pub first: usize,
}

/// Where domain events go (the port).
pub trait EventBus: Sync {
    /// Publishes `events` in order; on failure, says from which one on they may not have gone.
    fn publish(
        &self,
        events: &[DomainEvent],
    ) -> impl Future<Output = Result<(), Unpublished>> + Send;
}

/// The EventBridge custom bus (`EVENT_BUS_NAME`).
#[derive(Clone, Debug)]
pub struct EventBridgeBus {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBridgeBus {
    pub fn new(sdk: &aws_config::SdkConfig, bus: &str) -> Self {
        Self {
            client: aws_sdk_eventbridge::Client::new(sdk),
            bus: bus.to_owned(),
        }
    }
}

impl EventBus for EventBridgeBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), Unpublished> {
        for (n, chunk) in events.chunks(ENTRIES_PER_CALL).enumerate() {
            // Each entry with its index in `events`.
            let mut pending: Vec<(usize, PutEventsRequestEntry)> = chunk
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let entry = PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(SOURCE)
                        .detail_type(e.kind)
                        .detail(e.detail.to_string())
                        .build();
                    (n * ENTRIES_PER_CALL + i, entry)
                })
                .collect();
            for attempt in 1..=PUBLISH_ATTEMPTS {
                let sent = self
                    .client
                    .put_events()
                    .set_entries(Some(pending.iter().map(|(_, e)| e.clone()).collect()))
                    .send()
                    .await;
                pending = match sent {
                    Ok(out) if out.failed_entry_count() == 0 => Vec::new(),
                    // Results line up with the entries: keep those that carry an error.
                    Ok(out) => pending
                        .into_iter()
                        .zip(out.entries())
                        .filter(|(_, r)| r.error_code().is_some())
                        .map(|(e, _)| e)
                        .collect(),
                    Err(e) => {
                        tracing::warn!(attempt, error = %aws_sdk_eventbridge::error::DisplayErrorContext(&e), "publishing events failed");
                        pending
                    }
                };
                if pending.is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
            if let Some((first, _)) = pending.first() {
                let kinds: Vec<&str> = pending
                    .iter()
                    .filter_map(|(_, e)| e.detail_type())
                    .collect();
                tracing::error!(failed = pending.len(), ?kinds, "events not published");
                crate::telemetry::metric(
                    "EventsNotPublished",
                    pending.len() as f64,
                    crate::telemetry::Unit::Count,
                    &[],
                );
                return Err(Unpublished { first: *first });
            }
        }
        Ok(())
    }
}
