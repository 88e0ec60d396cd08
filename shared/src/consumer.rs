//! The flash-sale consumer: takes queued requests in order, allocates best-available seats or
//! places, holds them with the same transaction as a direct hold, and records each request
//! FULFILLED or REJECTED. Idempotent per request: the reservation shares the request's id.
//! On a fault it stops, and reports that record and every later one as failed, so that the
//! queue hands them back in the same order.

use std::collections::{BTreeSet, HashMap};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Duration, Utc};

use crate::{
    bus::{DomainEvent, EventBus},
    domain::{
        HoldError, RejectReason, RequestRecord, Reservation, SeatLabel, SectorCode, SectorLayout,
        SessionId, TicketRequest, allocation::best_available, seat::SeatStatus,
    },
    store::{Catalog, Refused, Requests, Reservations, StoreError, WriteError},
    telemetry::{self, Unit},
};

/// Times a request re-reads the seats when a direct hold took the ones it chose.
const ALLOCATION_ATTEMPTS: u32 = 5;

/// How the consumer runs.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub hold: Duration,
    /// Test-only: fail every record after the first of a batch.
    pub fail_after_first_record: bool,
}

/// A fault worth retrying: the record (and the rest of the batch) goes back to the queue.
#[derive(Debug, thiserror::Error)]
#[error("request {request} could not be handled now")]
pub struct Transient {
    request: String,
    #[source]
    source: StoreError,
}

/// Free seats per sector, read once and kept up to date while a batch is handled.
#[derive(Default)]
struct FreeSeats(HashMap<(SessionId, SectorCode), BTreeSet<SeatLabel>>);

impl FreeSeats {
    async fn of<S: Catalog>(
        &mut self,
        store: &S,
        session: SessionId,
        sector: &SectorCode,
        now: DateTime<Utc>,
    ) -> Result<&mut BTreeSet<SeatLabel>, StoreError> {
        let key = (session, sector.clone());
        if !self.0.contains_key(&key) {
            let seats = store.seats(session, sector).await?;
            let free = seats
                .into_iter()
                .filter(|s| s.state.status_at(now) == SeatStatus::Free)
                .map(|s| s.label)
                .collect();
            self.0.insert(key.clone(), free);
        }
        Ok(self.0.get_mut(&key).expect("inserted above"))
    }

    fn forget(&mut self, session: SessionId, sector: &SectorCode) {
        self.0.remove(&(session, sector.clone()));
    }
}

/// Handles a batch in order; returns the records to hand back.
pub async fn process_batch<S, A>(
    event: SqsEvent,
    store: &S,
    announcer: &A,
    settings: Settings,
) -> SqsBatchResponse
where
    S: Catalog + Requests + Reservations,
    A: EventBus,
{
    let mut free = FreeSeats::default();
    let mut response = SqsBatchResponse::default();
    let mut failing = false;
    for (i, record) in event.records.iter().enumerate() {
        if !failing && settings.fail_after_first_record && i > 0 {
            tracing::warn!("fault switch: failing the rest of the batch");
            failing = true;
        }
        if !failing && let Err(e) = process(record, store, announcer, settings, &mut free).await {
            tracing::error!(error = %e, source = ?e.source, "stopping the batch");
            failing = true;
        }
        if failing {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

async fn process<S, A>(
    message: &SqsMessage,
    store: &S,
    announcer: &A,
    settings: Settings,
    free: &mut FreeSeats,
) -> Result<(), Transient>
where
    S: Catalog + Requests + Reservations,
    A: EventBus,
{
    let Some(request) = message
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str::<TicketRequest>(b).ok())
    else {
        // Nothing to record it under: logged, and taken off the queue.
        tracing::error!(message = ?message.message_id, "unreadable request message");
        return Ok(());
    };
    let transient = |source| Transient {
        request: request.request_id.to_string(),
        source,
    };
    let sequence = message.attributes.get("SequenceNumber").cloned();
    let now = crate::clock::now();
    let waited = (now - request.requested_at).num_milliseconds().max(0) as f64;
    telemetry::metric("QueueWaitMs", waited, Unit::Milliseconds, &[]);
    if store
        .request(request.request_id)
        .await
        .map_err(transient)?
        .is_some_and(|r| r.is_decided())
    {
        return Ok(());
    }
    let reject = |reason| RequestRecord::rejected(request.clone(), reason, sequence.clone(), now);
    // Sessions never change once created: the store keeps them for a warm process.
    let Some(session) = store.session(request.session_id).await.map_err(transient)? else {
        return declined(store, announcer, reject(RejectReason::Invalid))
            .await
            .map_err(transient);
    };
    let Some(sector) = session.sector(request.sector.as_str()).cloned() else {
        return declined(store, announcer, reject(RejectReason::Invalid))
            .await
            .map_err(transient);
    };
    if !session.sale.is_open(now) {
        return declined(store, announcer, reject(RejectReason::SaleClosed))
            .await
            .map_err(transient);
    }
    let state = store
        .sector_state(session.id, &sector.code)
        .await
        .map_err(transient)?;
    if state.is_some_and(|s| s.sold_out) {
        return declined(store, announcer, reject(RejectReason::SoldOut))
            .await
            .map_err(transient);
    }
    let sold_out = || async {
        store.mark_sold_out(session.id, &sector.code).await?;
        announcer
            .publish(vec![DomainEvent::sector_sold_out(session.id, &sector.code)])
            .await;
        Ok::<_, StoreError>(())
    };
    for _ in 0..ALLOCATION_ATTEMPTS {
        let (seats, places) = match &sector.layout {
            SectorLayout::Numbered { .. } => {
                let available = free
                    .of(store, session.id, &sector.code, now)
                    .await
                    .map_err(transient)?;
                let Some(chosen) = best_available(&sector.layout, available, request.quantity)
                else {
                    if available.is_empty() {
                        sold_out().await.map_err(transient)?;
                    }
                    return declined(store, announcer, reject(RejectReason::SoldOut))
                        .await
                        .map_err(transient);
                };
                (
                    chosen
                        .iter()
                        .map(|s| (sector.code.to_string(), s.to_string()))
                        .collect(),
                    Vec::new(),
                )
            }
            SectorLayout::GeneralAdmission { .. } => (
                Vec::new(),
                vec![(sector.code.to_string(), i64::from(request.quantity))],
            ),
        };
        let mut reservation = match Reservation::plan_hold(
            &session,
            &request.customer,
            seats,
            places,
            now,
            settings.hold,
        ) {
            Ok(r) => r,
            Err(HoldError::OverCustomerLimit { .. }) => {
                return declined(store, announcer, reject(RejectReason::LimitExceeded))
                    .await
                    .map_err(transient);
            }
            Err(HoldError::SaleClosed) => {
                return declined(store, announcer, reject(RejectReason::SaleClosed))
                    .await
                    .map_err(transient);
            }
            Err(HoldError::Invalid(_)) => {
                return declined(store, announcer, reject(RejectReason::Invalid))
                    .await
                    .map_err(transient);
            }
        };
        reservation.id = request.reservation_id();
        let fulfilled = RequestRecord::fulfilled(request.clone(), sequence.clone(), now);
        match store
            .fulfil(
                &reservation,
                session.max_tickets_per_customer,
                now,
                &fulfilled,
            )
            .await
        {
            Ok(()) => {
                announcer
                    .publish(vec![DomainEvent::reservation_held(&reservation)])
                    .await;
                telemetry::metric(
                    "HoldsCreated",
                    1.0,
                    Unit::Count,
                    &[("session", &session.id.to_string())],
                );
                if let Ok(available) = free.of(store, session.id, &sector.code, now).await {
                    reservation.seats.iter().for_each(|s| {
                        available.remove(&s.seat);
                    });
                }
                return Ok(());
            }
            Err(WriteError::Refused(Refused::Taken(_))) => free.forget(session.id, &sector.code),
            Err(WriteError::Refused(Refused::SoldOut(_))) => {
                sold_out().await.map_err(transient)?;
                return declined(store, announcer, reject(RejectReason::SoldOut))
                    .await
                    .map_err(transient);
            }
            Err(WriteError::Refused(Refused::LimitExceeded)) => {
                return declined(store, announcer, reject(RejectReason::LimitExceeded))
                    .await
                    .map_err(transient);
            }
            // Already fulfilled (a redelivery) or decided: nothing more to do.
            Err(WriteError::Refused(_)) => return Ok(()),
            Err(WriteError::Store(e)) => return Err(transient(e)),
        }
    }
    Err(transient(StoreError::Unavailable(
        "the seats kept being taken by direct holds".into(),
    )))
}

/// Records a rejection and announces it.
async fn declined<S: Requests, A: EventBus>(
    store: &S,
    bus: &A,
    record: RequestRecord,
) -> Result<(), StoreError> {
    store.reject(&record).await?;
    bus.publish(vec![DomainEvent::request_rejected(&record)])
        .await;
    let reason = serde_json::to_value(record.reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    telemetry::metric("RequestsRejected", 1.0, Unit::Count, &[("reason", &reason)]);
    Ok(())
}
