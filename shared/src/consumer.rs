//! The flash-sale consumer: takes queued requests in order and decides each message group's
//! share of a batch in one pass: one read of what the batch is decided against, an in-memory
//! allocation in queue order (best available, the customer limit, parties together), then the
//! holds committed concurrently, each with the same transaction as a direct hold and the
//! request's FULFILLED decision. A request whose hold is refused (a direct hold took a seat) is
//! allocated again after the others, still in order. Idempotent per request: the reservation
//! shares the request's id. On a fault it reports that record and every later one of its group
//! as failed, so that the queue hands them back in the same order.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::Mutex,
};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Duration, Utc};
use futures::future::join_all;

use crate::{
    domain::{
        HoldError, Line, RejectReason, RequestRecord, Reservation, SeatLabel, Sector, SectorCode,
        SectorLayout, Session, SessionId, TicketRequest,
        allocation::{Allocated, Ask, Pool, allocate},
        seat::SeatStatus,
    },
    store::{Catalog, Refused, Requests, Reservations, StoreError, WriteError},
    telemetry::{self, Unit},
};

/// Rounds of allocation a batch gets when direct holds keep taking the seats it chose.
const ALLOCATION_ATTEMPTS: u32 = 5;

/// How long a warm process trusts the free seats it read: seats it did not see come back
/// (an expiry, a cancel) are offered from the next read. Never a reason to refuse: a batch that
/// finds too few seats reads them again first.
const SEATS_KEPT_SECONDS: i64 = 5;

/// How the consumer runs.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub hold: Duration,
    /// Test-only: fail every record after the first of a batch.
    pub fail_after_first_record: bool,
}

/// A fault worth retrying: the record (and the rest of its group) goes back to the queue.
#[derive(Debug, thiserror::Error)]
#[error("request {request} could not be handled now")]
pub struct Transient {
    request: String,
    #[source]
    source: StoreError,
}

/// The free seats of the sectors a warm process serves, kept between batches (one message
/// group is served by one batch at a time, so a sector's entry has one user).
#[derive(Default)]
pub struct SeatCache(Mutex<HashMap<SectorKey, FreeSeats>>);

type SectorKey = (SessionId, SectorCode);

impl SeatCache {
    fn take(&self, key: &SectorKey, now: DateTime<Utc>) -> Option<FreeSeats> {
        let seats = self.0.lock().ok()?.remove(key)?;
        (now - seats.read_at < Duration::seconds(SEATS_KEPT_SECONDS)).then_some(FreeSeats {
            fresh: false,
            ..seats
        })
    }

    /// Keeps a sector's seats, and lets go of those too old to be used again.
    fn keep(&self, key: SectorKey, seats: FreeSeats) {
        if let Ok(mut kept) = self.0.lock() {
            let now = seats.read_at;
            kept.retain(|_, s| now - s.read_at < Duration::seconds(SEATS_KEPT_SECONDS));
            kept.insert(key, seats);
        }
    }
}

/// A sector's free seats as a batch sees them, and whether they were read during it.
struct FreeSeats {
    free: BTreeSet<SeatLabel>,
    read_at: DateTime<Utc>,
    fresh: bool,
}

async fn read_free<S: Catalog>(
    store: &S,
    session: &Session,
    sector: &Sector,
    now: DateTime<Utc>,
) -> Result<FreeSeats, StoreError> {
    let free = store
        .seats(session, sector)
        .await?
        .into_iter()
        .filter(|s| s.state.status_at(now) == SeatStatus::Free)
        .map(|s| s.label)
        .collect();
    Ok(FreeSeats {
        free,
        read_at: now,
        fresh: true,
    })
}

/// Handles a batch: each message group's records in order, the groups side by side; returns the
/// records to hand back.
pub async fn process_batch<S>(
    event: SqsEvent,
    store: &S,
    settings: Settings,
    cache: &SeatCache,
) -> SqsBatchResponse
where
    S: Catalog + Requests + Reservations,
{
    let mut groups: Vec<(String, Vec<&SqsMessage>)> = Vec::new();
    for record in &event.records {
        let group = group_of(record);
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, records)) => records.push(record),
            None => groups.push((group, vec![record])),
        }
    }
    let mut response = SqsBatchResponse::default();
    let mut first = true;
    let served = join_all(groups.iter().map(|(group, records)| {
        // The fault switch: only the batch's first record is served.
        let take = match (settings.fail_after_first_record, first) {
            (false, _) => records.len(),
            (true, true) => 1,
            (true, false) => 0,
        };
        first = false;
        async move {
            let outcome = match take {
                0 => Err((0, fault_switch(records[0]))),
                _ => Box::pin(serve_group(&records[..take], store, settings, cache)).await,
            };
            let outcome = match outcome {
                Ok(()) if take < records.len() => Err((take, fault_switch(records[take]))),
                other => other,
            };
            (group, records, outcome)
        }
    }))
    .await;
    for (group, records, outcome) in served {
        if let Err((from, e)) = outcome {
            tracing::error!(error = %e, source = ?e.source, group, "stopping the message group");
            response
                .batch_item_failures
                .extend(records[from..].iter().map(|r| failure(r)));
        }
    }
    response
}

fn group_of(record: &SqsMessage) -> String {
    record
        .attributes
        .get("MessageGroupId")
        .cloned()
        .unwrap_or_default()
}

fn fault_switch(record: &SqsMessage) -> Transient {
    tracing::warn!("fault switch: failing the rest of the batch");
    Transient {
        request: record.message_id.clone().unwrap_or_default(),
        source: StoreError::Unavailable("the fault switch is on".into()),
    }
}

pub(crate) fn failure(record: &SqsMessage) -> BatchItemFailure {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = record.message_id.clone().unwrap_or_default();
    failure
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
        let group = group_of(record);
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
            response.batch_item_failures.push(failure(record));
        }
    }
    response
}

/// The dead-letter queue's consumer: a request the queue gave up on is decided REJECTED
/// `FAILED` (unless it was decided meanwhile), so that nobody waits on it forever.
pub async fn reject_dead_letters<S: Requests>(event: SqsEvent, store: &S) -> SqsBatchResponse {
    in_group_order(&event, async |record| {
        let Some(request) = read(record) else {
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

fn read(message: &SqsMessage) -> Option<TicketRequest> {
    message
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str::<TicketRequest>(b).ok())
}

/// One request of a group being decided.
struct Pending {
    /// Its place in the group's records.
    at: usize,
    request: TicketRequest,
    sequence: Option<String>,
}

impl Pending {
    fn rejected(&self, reason: RejectReason, now: DateTime<Utc>) -> RequestRecord {
        RequestRecord::rejected(self.request.clone(), reason, self.sequence.clone(), now)
    }
}

/// Decides a message group's records (one session's sector, in queue order). On a fault, the
/// index of the first record to hand back.
async fn serve_group<S>(
    records: &[&SqsMessage],
    store: &S,
    settings: Settings,
    cache: &SeatCache,
) -> Result<(), (usize, Transient)>
where
    S: Catalog + Requests + Reservations,
{
    let now = crate::clock::now();
    let requests: Vec<Option<TicketRequest>> = records.iter().map(|r| read(r)).collect();
    let mut pending: Vec<Pending> = Vec::new();
    for (at, (record, request)) in records.iter().zip(&requests).enumerate() {
        let Some(request) = request.clone() else {
            // Nothing to record it under: logged, and taken off the queue.
            tracing::error!(message = ?record.message_id, "unreadable request message");
            continue;
        };
        let waited = (now - request.requested_at).num_milliseconds().max(0) as f64;
        telemetry::metric("QueueWaitMs", waited, Unit::Milliseconds, &[]);
        pending.push(Pending {
            at,
            request,
            sequence: record.attributes.get("SequenceNumber").cloned(),
        });
    }
    let Some(first) = pending.first() else {
        return Ok(());
    };
    let (session_id, code) = (first.request.session_id, first.request.sector.clone());
    let names: Vec<String> = requests
        .iter()
        .map(|r| {
            r.as_ref()
                .map(|q| q.request_id.to_string())
                .unwrap_or_default()
        })
        .collect();
    let fault = |at: usize, source: StoreError| {
        let request = names.get(at).cloned().unwrap_or_default();
        (at, Transient { request, source })
    };
    // Sessions never change once created: the store keeps them for a warm process.
    let session = store
        .session(session_id)
        .await
        .map_err(|e| fault(first.at, e))?;
    let sector = session
        .as_ref()
        .and_then(|s| s.sector(code.as_str()))
        .cloned();
    let (Some(session), Some(sector)) = (session, sector) else {
        let rejected: Vec<_> = pending
            .iter()
            .map(|p| (p.at, p.rejected(RejectReason::Invalid, now)))
            .collect();
        return reject_all(store, rejected)
            .await
            .map_err(|(at, e)| fault(at, e));
    };
    let numbered = matches!(sector.layout, SectorLayout::Numbered { .. });
    let key = (session.id, sector.code.clone());
    let mut seats: Option<FreeSeats> = None;
    if numbered {
        seats = cache.take(&key, now);
    }
    let mut line: Option<Option<Line>> = None;
    let outcome = async {
        for _ in 0..ALLOCATION_ATTEMPTS {
            let ids: Vec<_> = pending.iter().map(|p| p.request.request_id).collect();
            let customers: Vec<&str> = pending
                .iter()
                .map(|p| p.request.customer.as_str())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let context = store
                .batch_context(&session, &sector, &ids, &customers)
                .await
                .map_err(|e| (pending[0].at, e))?;
            line.get_or_insert(context.line);
            pending.retain(|p| !context.decided.contains(&p.request.request_id));
            if pending.is_empty() {
                return Ok(());
            }
            // Nobody is allocated seats in a closed sale or a sector marked sold out.
            let refused_all =
                !session.sale.is_open(now) || context.state.is_some_and(|s| s.sold_out);
            if numbered && seats.is_none() && !refused_all {
                seats = Some(
                    read_free(store, &session, &sector, now)
                        .await
                        .map_err(|e| (pending[0].at, e))?,
                );
            }
            let round = Round {
                session: &session,
                layout: &sector.layout,
                context: &context,
                now,
                hold: settings.hold,
            };
            let mut plan = round.plan(&pending, seats.as_ref());
            if numbered
                && !refused_all
                && plan.iter().any(Allocated::is_short)
                && seats.as_ref().is_some_and(|s| !s.fresh)
            {
                // Too few seats in what the process kept: read them before refusing anyone.
                let fresh = read_free(store, &session, &sector, now)
                    .await
                    .map_err(|e| (pending[0].at, e))?;
                plan = round.plan(&pending, Some(&fresh));
                seats = Some(fresh);
            }
            let left = round
                .commit(store, &session, &sector, &pending, plan, seats.as_mut())
                .await?;
            pending = left;
            if pending.is_empty() {
                return Ok(());
            }
            // Seats were taken under the batch, or places came back: read again.
            seats = None;
        }
        Err((
            pending[0].at,
            StoreError::Unavailable("the seats kept being taken by direct holds".into()),
        ))
    }
    .await;
    if let Some(seats) = seats {
        cache.keep(key, seats);
    }
    // The line moved up to the highest number decided.
    let decided = match &outcome {
        Ok(()) => records.len(),
        Err((at, _)) => *at,
    };
    let numbers: Vec<u64> = requests[..decided]
        .iter()
        .filter_map(|r| r.as_ref().and_then(|r| r.number))
        .collect();
    if let (Some(served), Some(before)) = (numbers.iter().max(), line) {
        let moved = Line::advanced(
            before.as_ref(),
            *served,
            numbers.len() as u32,
            crate::clock::now(),
        );
        if let Err(e) = store.advance_line(session.id, &sector.code, &moved).await {
            tracing::warn!(error = %e, "the line's progress was not recorded");
        }
    }
    outcome.map_err(|(at, e)| fault(at, e))
}

/// One allocation round of a group's batch.
struct Round<'a> {
    session: &'a Session,
    layout: &'a SectorLayout,
    context: &'a crate::store::BatchContext,
    now: DateTime<Utc>,
    hold: Duration,
}

impl Round<'_> {
    /// Each pending request's share, in order: refused outright when the sale closed or the
    /// sector is marked sold out, else allocated from what is left.
    fn plan(&self, pending: &[Pending], seats: Option<&FreeSeats>) -> Vec<Allocated> {
        let sold_out = self.context.state.is_some_and(|s| s.sold_out);
        let mut pool = Pool {
            free: seats.map(|s| s.free.clone()).unwrap_or_default(),
            places: self.context.state.map_or(0, |s| s.available),
            held: self.context.held.clone(),
            limit: u32::from(self.session.max_tickets_per_customer),
        };
        pending
            .iter()
            .map(|p| {
                if !self.session.sale.is_open(self.now) {
                    return Allocated::Rejected(RejectReason::SaleClosed);
                }
                if sold_out {
                    return Allocated::Rejected(RejectReason::SoldOut);
                }
                let ask = Ask {
                    customer: p.request.customer.clone(),
                    quantity: p.request.quantity,
                };
                allocate(self.layout, &mut pool, std::slice::from_ref(&ask))
                    .pop()
                    .unwrap_or(Allocated::Rejected(RejectReason::Invalid))
            })
            .collect()
    }

    fn reservation(&self, p: &Pending, given: &Allocated) -> Result<Reservation, RejectReason> {
        let code = p.request.sector.to_string();
        let (seats, places) = match given {
            Allocated::Seats(seats) => (
                seats
                    .iter()
                    .map(|s| (code.clone(), s.to_string()))
                    .collect(),
                Vec::new(),
            ),
            Allocated::Places(n) => (Vec::new(), vec![(code, i64::from(*n))]),
            Allocated::Rejected(reason) => return Err(*reason),
        };
        let mut reservation = Reservation::plan_hold(
            self.session,
            &p.request.customer,
            seats,
            places,
            self.now,
            self.hold,
        )
        .map_err(|e| match e {
            HoldError::OverCustomerLimit { .. } => RejectReason::LimitExceeded,
            HoldError::SaleClosed => RejectReason::SaleClosed,
            HoldError::Invalid(_) => RejectReason::Invalid,
        })?;
        reservation.id = p.request.reservation_id();
        Ok(reservation)
    }

    /// Commits the plan: the holds side by side (a customer's second request after their
    /// first), then the refusals of the requests before the first hold to be tried again. The
    /// requests still to decide, in order.
    async fn commit<S>(
        &self,
        store: &S,
        session: &Session,
        sector: &Sector,
        pending: &[Pending],
        plan: Vec<Allocated>,
        mut seats: Option<&mut FreeSeats>,
    ) -> Result<Vec<Pending>, (usize, StoreError)>
    where
        S: Requests,
    {
        let mut refusals: Vec<Option<RejectReason>> = vec![None; pending.len()];
        let mut holds: Vec<(usize, Reservation)> = Vec::new();
        for (i, (p, given)) in pending.iter().zip(&plan).enumerate() {
            match self.reservation(p, given) {
                Ok(reservation) => holds.push((i, reservation)),
                Err(reason) => refusals[i] = Some(reason),
            }
        }
        // Waves: a customer's requests never race each other for their count.
        let mut wave_of: HashMap<&str, usize> = HashMap::new();
        let mut waves: Vec<Vec<&(usize, Reservation)>> = Vec::new();
        for hold in &holds {
            let wave = wave_of
                .entry(pending[hold.0].request.customer.as_str())
                .and_modify(|w| *w += 1)
                .or_insert(0);
            if waves.len() <= *wave {
                waves.push(Vec::new());
            }
            waves[*wave].push(hold);
        }
        let limit = session.max_tickets_per_customer;
        let mut again: BTreeSet<usize> = BTreeSet::new();
        let mut fault: Option<(usize, StoreError)> = None;
        for wave in waves {
            let written = join_all(wave.iter().map(|(i, reservation)| {
                let p = &pending[*i];
                let fulfilled =
                    RequestRecord::fulfilled(p.request.clone(), p.sequence.clone(), self.now);
                async move {
                    let written = store.fulfil(reservation, limit, self.now, &fulfilled).await;
                    (*i, reservation, written)
                }
            }))
            .await;
            for (i, reservation, written) in written {
                match written {
                    Ok(()) => {
                        telemetry::metric(
                            "HoldsCreated",
                            1.0,
                            Unit::Count,
                            &[("session", &session.id.to_string())],
                        );
                        if let Some(seats) = seats.as_deref_mut() {
                            reservation.seats.iter().for_each(|s| {
                                seats.free.remove(&s.seat);
                            });
                        }
                    }
                    // A direct hold took a chosen seat, places went, or the customer's count
                    // moved (a direct hold of theirs) meanwhile: allocated again from a fresh
                    // read, so that what it was planned to take goes to those after it.
                    Err(WriteError::Refused(
                        Refused::Taken(_) | Refused::SoldOut(_) | Refused::LimitExceeded,
                    )) => {
                        again.insert(i);
                    }
                    // Decided already (a redelivery): nothing more to do.
                    Err(WriteError::Refused(_)) => {}
                    Err(WriteError::Store(e)) => {
                        if fault.as_ref().is_none_or(|(at, _)| *at > i) {
                            fault = Some((i, e));
                        }
                    }
                }
            }
        }
        // What is decided after the first request to try again (or to hand back) waits for it.
        let cut = again
            .first()
            .copied()
            .into_iter()
            .chain(fault.as_ref().map(|(at, _)| *at))
            .min()
            .unwrap_or(pending.len());
        let mut rejected: Vec<(usize, RequestRecord)> = Vec::new();
        let mut short = false;
        for (i, reason) in refusals.iter().enumerate().take(cut) {
            if let Some(reason) = reason {
                short |= *reason == RejectReason::SoldOut;
                rejected.push((i, pending[i].rejected(*reason, self.now)));
            }
        }
        // Nothing left: the sector is marked first (only if nothing came back meanwhile, else
        // the requests are tried again) so that later batches skip it; marked already, as this
        // batch read it, it stays so.
        let sold_out_marked = match self.context.state {
            Some(state) if short && !state.sold_out => store
                .mark_sold_out(session, sector, &state)
                .await
                .map_err(|e| (pending[0].at, e))?,
            _ => true,
        };
        if !sold_out_marked {
            let first_sold_out = rejected
                .iter()
                .find(|(_, r)| r.reason == Some(RejectReason::SoldOut))
                .map_or(cut, |(i, _)| *i);
            rejected.retain(|(i, _)| *i < first_sold_out);
            again.insert(first_sold_out);
        }
        let written = reject_all(store, rejected).await;
        if let Some((at, e)) = fault {
            let unwritten = written.err().map(|(i, _)| i);
            return Err((pending[hand_back_from(&again, at, unwritten)].at, e));
        }
        written.map_err(|(i, e)| (pending[i].at, e))?;
        let cut = again.first().copied().unwrap_or(pending.len());
        Ok(pending
            .iter()
            .enumerate()
            .filter(|(i, _)| *i >= cut && (again.contains(i) || refusals[*i].is_some()))
            .map(|(_, p)| Pending {
                at: p.at,
                request: p.request.clone(),
                sequence: p.sequence.clone(),
            })
            .collect())
    }
}

/// After a fault at `fault`, the first request of a round still undecided: the first to be
/// allocated again, the one the fault hit, or a refusal that was not written. Everything from
/// there goes back to the queue; what was decided before it is not decided again.
fn hand_back_from(again: &BTreeSet<usize>, fault: usize, unwritten: Option<usize>) -> usize {
    again
        .first()
        .copied()
        .into_iter()
        .chain(unwritten)
        .fold(fault, usize::min)
}

/// Records rejections side by side; on a fault, the first one (by its key) that failed.
async fn reject_all<S: Requests>(
    store: &S,
    rejected: Vec<(usize, RequestRecord)>,
) -> Result<(), (usize, StoreError)> {
    let written = join_all(
        rejected
            .into_iter()
            .map(|(i, record)| async move { (i, declined(store, record).await) }),
    )
    .await;
    match written
        .into_iter()
        .filter_map(|(i, w)| w.err().map(|e| (i, e)))
        .min_by_key(|(i, _)| *i)
    {
        Some(fault) => Err(fault),
        None => Ok(()),
    }
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

    #[test]
    fn a_fault_hands_back_from_the_first_request_still_undecided() {
        let again = BTreeSet::from([0, 3]);
        assert_eq!(
            hand_back_from(&again, 1, None),
            0,
            "one to allocate again first"
        );
        assert_eq!(
            hand_back_from(&BTreeSet::new(), 2, Some(1)),
            1,
            "an unwritten refusal"
        );
        assert_eq!(
            hand_back_from(&BTreeSet::from([4]), 2, None),
            2,
            "the fault first"
        );
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
