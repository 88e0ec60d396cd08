//! The expiry sweep: releases holds whose time is up, minute by minute of the expiry index, in
//! bounded work per run; the next run carries on. Safe when two runs overlap and against a
//! checkout in flight: each reservation is expired by one transaction conditioned on its version
//! and its hold being over, and confirmed by one conditioned on the same version and the hold
//! not being over, so exactly one of them wins.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use aws_lambda_events::cloudwatch_events::CloudWatchEvent;
use chrono::{DateTime, Utc};
use futures::{StreamExt, future::join_all, stream};
use serde::Serialize;

use crate::{
    domain::{EventId, ProductId, Reservation},
    store::{Catalog, Expiries, Reservations, StoreError, WriteError, keys::EXPIRY_SHARDS},
    telemetry::{self, Unit},
};

/// Where a first sweep starts looking back (a hold lasts at most an hour).
const FIRST_LOOKBACK_MINUTES: i64 = 120;

/// What one run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Swept {
    pub expired: u32,
    /// Found due but confirmed or expired by someone else meanwhile.
    pub passed_over: u32,
    /// Items in the expiry index that do not read as a reservation: logged and skipped.
    pub unreadable: u32,
    pub minutes: u32,
    /// False when the run stopped for its time budget; the next run carries on.
    pub finished: bool,
}

/// Another service's event, or one a person sent by hand: refused before any work.
#[derive(Debug, thiserror::Error)]
#[error(
    "not a Scheduled Event from aws.events (detail-type {detail_type:?}, source {origin:?}): nothing swept"
)]
pub struct NotScheduled {
    detail_type: Option<String>,
    origin: Option<String>,
}

/// Only the schedule's own events start a sweep.
pub fn scheduled(event: &CloudWatchEvent) -> Result<(), NotScheduled> {
    match (event.detail_type.as_deref(), event.source.as_deref()) {
        (Some("Scheduled Event"), Some("aws.events")) => Ok(()),
        _ => Err(NotScheduled {
            detail_type: event.detail_type.clone(),
            origin: event.source.clone(),
        }),
    }
}

/// Reservations a sweep expires at once.
const CONCURRENT_EXPIRIES: usize = 16;

/// Times a refused expiry is read again and retried before its minute is left for a later run.
const EXPIRY_ATTEMPTS: u32 = 3;

/// What became of one due reservation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Expired,
    /// Confirmed, cancelled or expired by someone else, or given more time: not the sweep's.
    PassedOver,
    /// Still live and lapsed but not expired (it kept changing, or the budget ran out): its
    /// minute stays for the next run.
    Left,
}

/// Expires what is due at `now`, stopping when `budget` is spent. A minute's eight shards are
/// read at once and their holds expired concurrently; the minute is passed only when every hold
/// due in it is settled, and items that cannot be read are logged, counted and skipped.
pub async fn sweep<S: Expiries + Catalog + Reservations>(
    store: &S,
    now: DateTime<Utc>,
    budget: Duration,
) -> Result<Swept, StoreError> {
    let started = Instant::now();
    let current = now.timestamp() / 60;
    let from = store.sweep_from().await?;
    let start = from
        .unwrap_or(current - FIRST_LOOKBACK_MINUTES)
        .min(current);
    let mut counted: HashMap<EventId, HashSet<ProductId>> = HashMap::new();
    let mut swept = Swept::default();
    let mut done_through = None;
    for minute in start..=current {
        if started.elapsed() >= budget {
            break;
        }
        swept.minutes += 1;
        let buckets = join_all((0..EXPIRY_SHARDS).map(|shard| store.due(minute, shard, now))).await;
        let mut due = Vec::new();
        for bucket in buckets {
            let bucket = bucket?;
            for item in &bucket.unreadable {
                tracing::error!(
                    minute,
                    item,
                    "an unreadable item in the expiry index; skipped"
                );
            }
            swept.unreadable += bucket.unreadable.len() as u32;
            due.extend(bucket.reservations);
        }
        for event in due.iter().map(|r| r.event_id).collect::<HashSet<_>>() {
            if let std::collections::hash_map::Entry::Vacant(slot) = counted.entry(event) {
                let products = store.products(event).await?;
                slot.insert(
                    products
                        .iter()
                        .filter(|p| p.stock.is_some())
                        .map(|p| p.id)
                        .collect(),
                );
            }
        }
        let counted = &counted;
        let outcomes: Vec<Result<Outcome, StoreError>> = stream::iter(due)
            .map(|reservation| async move {
                if started.elapsed() >= budget {
                    return Ok(Outcome::Left);
                }
                let stocked = counted
                    .get(&reservation.event_id)
                    .cloned()
                    .unwrap_or_default();
                expire_one(store, reservation, &stocked, now).await
            })
            .buffer_unordered(CONCURRENT_EXPIRIES)
            .collect()
            .await;
        let mut settled = true;
        for outcome in outcomes {
            match outcome? {
                Outcome::Expired => swept.expired += 1,
                Outcome::PassedOver => swept.passed_over += 1,
                Outcome::Left => settled = false,
            }
        }
        if !settled {
            break;
        }
        // The current minute can still gain due holds; earlier ones are finished.
        if minute < current {
            done_through = Some(minute + 1);
        } else {
            swept.finished = true;
        }
    }
    if let Some(to) = done_through {
        store.sweep_done(from, to).await?;
    }
    if swept.expired > 0 {
        telemetry::metric("HoldsExpired", f64::from(swept.expired), Unit::Count, &[]);
    }
    if swept.unreadable > 0 {
        telemetry::metric(
            "UnreadableItems",
            f64::from(swept.unreadable),
            Unit::Count,
            &[],
        );
    }
    tracing::info!(
        expired = swept.expired,
        passed_over = swept.passed_over,
        unreadable = swept.unreadable,
        minutes = swept.minutes,
        finished = swept.finished,
        "sweep"
    );
    Ok(swept)
}

/// Expires one due reservation, as the expiry index showed it. A refusal is checked against a
/// consistent read: the index may lag the table, and a reservation changed since it was indexed
/// (a PIX that failed, a late add-on) is still due and is expired at its new version.
pub async fn expire_one<S: Expiries + Reservations>(
    store: &S,
    mut reservation: Reservation,
    counted: &HashSet<ProductId>,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    for _ in 0..EXPIRY_ATTEMPTS {
        match store.expire(&reservation, counted, now).await {
            Ok(()) => return Ok(Outcome::Expired),
            Err(WriteError::Refused(_)) => {}
            Err(WriteError::Store(e)) => return Err(e),
        }
        match store.reservation(reservation.id).await? {
            Some(fresh)
                if fresh.status.is_live() && fresh.expires_at.timestamp() < now.timestamp() =>
            {
                reservation = fresh
            }
            _ => return Ok(Outcome::PassedOver),
        }
    }
    tracing::warn!(reservation = %reservation.id, "a due hold kept changing; left for the next run");
    Ok(Outcome::Left)
}
