//! The flash-sale consumer: takes queued requests in order, allocates best-available seats or
//! places, holds them with the same transaction as a direct hold, and records each request
//! FULFILLED or REJECTED. Idempotent per request: the reservation shares the request's id.
//! On a fault it stops, and reports that record and every later one as failed, so that the
//! queue hands them back in the same order.

use std::collections::{BTreeSet, HashMap, HashSet};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Duration, Utc};

use crate::{
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
pub async fn process_batch<S>(event: SqsEvent, store: &S, settings: Settings) -> SqsBatchResponse
where
    S: Catalog + Requests + Reservations,
{
    let mut free = FreeSeats::default();
    let mut handled = 0;
    in_group_order(&event, async |record| {
        handled += 1;
        if settings.fail_after_first_record && handled > 1 {
            tracing::warn!("fault switch: failing the rest of the batch");
            return Err(Transient {
                request: record.message_id.clone().unwrap_or_default(),
                source: StoreError::Unavailable("the fault switch is on".into()),
            });
        }
        // Boxed: the record's future is deep, and the batch's would otherwise nest it whole.
        Box::pin(process(record, store, settings, &mut free)).await
    })
    .await
}

/// Handles a FIFO batch in order. A record that fails, and every later record of its message
/// group, go back to the queue (to come back in the same order); other groups go on.
async fn in_group_order(
    event: &SqsEvent,
    mut handle: impl AsyncFnMut(&SqsMessage) -> Result<(), Transient>,
) -> SqsBatchResponse {
    let mut failed_groups = HashSet::new();
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let group = record
            .attributes
            .get("MessageGroupId")
            .cloned()
            .unwrap_or_default();
        let failed = failed_groups.contains(&group)
            || match handle(record).await {
                Ok(()) => false,
                Err(e) => {
                    tracing::error!(error = %e, source = ?e.source, group, "stopping the message group");
                    true
                }
            };
        if failed {
            failed_groups.insert(group);
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// The dead-letter queue's consumer: a request the queue gave up on is decided REJECTED
/// `FAILED` (unless it was decided meanwhile), so that nobody waits on it forever.
pub async fn reject_dead_letters<S: Requests>(event: SqsEvent, store: &S) -> SqsBatchResponse {
    in_group_order(&event, async |record| {
        let Some(request) = record
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<TicketRequest>(b).ok())
        else {
            tracing::error!(message = ?record.message_id, "unreadable dead letter");
            return Ok(());
        };
        tracing::warn!(request = %request.request_id, "a request the queue gave up on");
        let id = request.request_id.to_string();
        let rejected =
            RequestRecord::rejected(request, RejectReason::Failed, None, crate::clock::now());
        declined(store, rejected).await.map_err(|source| Transient {
            request: id,
            source,
        })
    })
    .await
}

async fn process<S>(
    message: &SqsMessage,
    store: &S,
    settings: Settings,
    free: &mut FreeSeats,
) -> Result<(), Transient>
where
    S: Catalog + Requests + Reservations,
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
        return declined(store, reject(RejectReason::Invalid))
            .await
            .map_err(transient);
    };
    let Some(sector) = session.sector(request.sector.as_str()).cloned() else {
        return declined(store, reject(RejectReason::Invalid))
            .await
            .map_err(transient);
    };
    if !session.sale.is_open(now) {
        return declined(store, reject(RejectReason::SaleClosed))
            .await
            .map_err(transient);
    }
    let state = store
        .sector_state(session.id, &sector.code)
        .await
        .map_err(transient)?;
    if state.is_some_and(|s| s.sold_out) {
        return declined(store, reject(RejectReason::SoldOut))
            .await
            .map_err(transient);
    }
    // Whether nothing is left: then the sector is marked (only if nothing came back meanwhile)
    // and announced.
    let sold_out = || store.mark_sold_out(session.id, &sector.code);
    for _ in 0..ALLOCATION_ATTEMPTS {
        let (seats, places) = match &sector.layout {
            SectorLayout::Numbered { .. } => {
                let available = free
                    .of(store, session.id, &sector.code, now)
                    .await
                    .map_err(transient)?;
                let Some(chosen) = best_available(&sector.layout, available, request.quantity)
                else {
                    if !available.is_empty() {
                        return declined(store, reject(RejectReason::NotEnoughLeft))
                            .await
                            .map_err(transient);
                    }
                    if sold_out().await.map_err(transient)? {
                        return declined(store, reject(RejectReason::SoldOut))
                            .await
                            .map_err(transient);
                    }
                    // Seats came back since they were read: read them again.
                    free.forget(session.id, &sector.code);
                    continue;
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
                return declined(store, reject(RejectReason::LimitExceeded))
                    .await
                    .map_err(transient);
            }
            Err(HoldError::SaleClosed) => {
                return declined(store, reject(RejectReason::SaleClosed))
                    .await
                    .map_err(transient);
            }
            Err(HoldError::Invalid(_)) => {
                return declined(store, reject(RejectReason::Invalid))
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
                let left = store
                    .sector_state(session.id, &sector.code)
                    .await
                    .map_err(transient)?
                    .map_or(0, |s| s.available);
                let reason = if left >= i64::from(request.quantity) {
                    // Places came back since the hold was refused: try again.
                    continue;
                } else if left > 0 {
                    RejectReason::NotEnoughLeft
                } else if sold_out().await.map_err(transient)? {
                    RejectReason::SoldOut
                } else {
                    continue;
                };
                return declined(store, reject(reason)).await.map_err(transient);
            }
            Err(WriteError::Refused(Refused::LimitExceeded)) => {
                return declined(store, reject(RejectReason::LimitExceeded))
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

/// Records a rejection, unless the request was decided already.
async fn declined<S: Requests>(store: &S, record: RequestRecord) -> Result<(), StoreError> {
    if !store.reject(&record).await? {
        return Ok(());
    }
    let reason = serde_json::to_value(record.reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    telemetry::metric("RequestsRejected", 1.0, Unit::Count, &[("reason", &reason)]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, group: &str) -> SqsMessage {
        let mut message = SqsMessage::default();
        message.message_id = Some(id.into());
        message
            .attributes
            .insert("MessageGroupId".into(), group.into());
        message
    }

    #[tokio::test]
    async fn a_failed_record_holds_back_the_rest_of_its_group_only() {
        let mut event = SqsEvent::default();
        event.records = ["a1", "b1", "a2", "c1", "b2", "a3"]
            .iter()
            .map(|id| record(id, &id[..1]))
            .collect();
        let mut handled = Vec::new();
        let response = in_group_order(&event, async |r| {
            let id = r.message_id.clone().unwrap_or_default();
            handled.push(id.clone());
            match id.as_str() {
                "a2" => Err(Transient {
                    request: id,
                    source: StoreError::Unavailable("down".into()),
                }),
                _ => Ok(()),
            }
        })
        .await;
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["a2", "a3"]);
        assert_eq!(handled, ["a1", "b1", "a2", "c1", "b2"]);
    }
}
