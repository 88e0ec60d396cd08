//! Domain events other systems hear about (notifications, analytics, a sales dashboard),
//! published on the EventBridge bus after the state change has committed. A publish that fails
//! is retried, then logged and counted; it never undoes or fails the sale. `docs/events.md`
//! documents each event's `detail`.

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

fn reservation_detail(r: &Reservation) -> Value {
    json!({
        "version": DETAIL_VERSION,
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
    })
}

impl DomainEvent {
    pub fn reservation_held(r: &Reservation) -> Self {
        Self {
            kind: "ReservationHeld",
            detail: reservation_detail(r),
        }
    }

    pub fn reservation_confirmed(r: &Reservation) -> Self {
        Self {
            kind: "ReservationConfirmed",
            detail: reservation_detail(r),
        }
    }

    pub fn reservation_cancelled(r: &Reservation) -> Self {
        Self {
            kind: "ReservationCancelled",
            detail: reservation_detail(r),
        }
    }

    pub fn reservation_expired(r: &Reservation) -> Self {
        Self {
            kind: "ReservationExpired",
            detail: reservation_detail(r),
        }
    }

    pub fn request_rejected(record: &RequestRecord) -> Self {
        let r = &record.request;
        let detail = json!({
            "version": DETAIL_VERSION,
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

    pub fn sector_sold_out(session: SessionId, sector: &SectorCode) -> Self {
        Self {
            kind: "SectorSoldOut",
            detail: json!({"version": DETAIL_VERSION, "session_id": session, "sector": sector}),
        }
    }
}

/// Where domain events go (the port).
pub trait EventBus: Sync {
    /// Publishes after the fact; never fails the caller.
    fn publish(&self, events: Vec<DomainEvent>) -> impl Future<Output = ()> + Send;
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
    async fn publish(&self, events: Vec<DomainEvent>) {
        for chunk in events.chunks(ENTRIES_PER_CALL) {
            let mut pending: Vec<PutEventsRequestEntry> = chunk
                .iter()
                .map(|e| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(SOURCE)
                        .detail_type(e.kind)
                        .detail(e.detail.to_string())
                        .build()
                })
                .collect();
            for attempt in 1..=PUBLISH_ATTEMPTS {
                let sent = self
                    .client
                    .put_events()
                    .set_entries(Some(pending.clone()))
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
            if !pending.is_empty() {
                let kinds: Vec<&str> = pending.iter().filter_map(|e| e.detail_type()).collect();
                tracing::error!(lost = pending.len(), ?kinds, "events not published");
                crate::telemetry::metric(
                    "EventsNotPublished",
                    pending.len() as f64,
                    crate::telemetry::Unit::Count,
                    &[],
                );
            }
        }
    }
}

/// Writes events to the log (for runs without a bus).
#[derive(Clone, Copy, Debug, Default)]
pub struct LogBus;

impl EventBus for LogBus {
    async fn publish(&self, events: Vec<DomainEvent>) {
        for e in events {
            tracing::info!(kind = e.kind, detail = %e.detail, "event");
        }
    }
}
