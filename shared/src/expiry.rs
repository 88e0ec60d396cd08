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
use serde::Serialize;

use crate::{
    bus::{DomainEvent, EventBus},
    domain::{EventId, ProductId, Reservation, ReservationStatus},
    store::{Catalog, Expiries, StoreError, WriteError, keys::EXPIRY_SHARDS},
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

/// Expires what is due at `now`, stopping when `budget` is spent.
pub async fn sweep<S: Expiries + Catalog>(
    store: &S,
    bus: &impl EventBus,
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
    'minutes: for minute in start..=current {
        swept.minutes += 1;
        for shard in 0..EXPIRY_SHARDS {
            for reservation in store.due(minute, shard, now).await? {
                if started.elapsed() >= budget {
                    break 'minutes;
                }
                let stocked = match counted.entry(reservation.event_id) {
                    std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        let products = store.products(reservation.event_id).await?;
                        slot.insert(
                            products
                                .iter()
                                .filter(|p| p.stock.is_some())
                                .map(|p| p.id)
                                .collect(),
                        )
                    }
                };
                match store.expire(&reservation, stocked, now).await {
                    Ok(()) => {
                        swept.expired += 1;
                        let expired = Reservation {
                            status: ReservationStatus::Expired,
                            ..reservation
                        };
                        bus.publish(vec![DomainEvent::reservation_expired(&expired)])
                            .await;
                    }
                    Err(WriteError::Refused(_)) => swept.passed_over += 1,
                    Err(WriteError::Store(e)) => return Err(e),
                }
            }
        }
        // The current minute can still gain due holds; earlier ones are finished.
        if minute < current {
            done_through = Some(minute + 1);
        }
        if minute == current {
            swept.finished = true;
        }
    }
    if let Some(to) = done_through {
        store.sweep_done(from, to).await?;
    }
    if swept.expired > 0 {
        telemetry::metric("HoldsExpired", f64::from(swept.expired), Unit::Count, &[]);
    }
    tracing::info!(
        expired = swept.expired,
        passed_over = swept.passed_over,
        minutes = swept.minutes,
        finished = swept.finished,
        "sweep"
    );
    Ok(swept)
}
