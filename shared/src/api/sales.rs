//! What an organiser watches during a sale: per sector, sold, held and available tickets,
//! confirmed revenue, and how many holds expired or were given back; and the sale minute by
//! minute, with the holds about to end.

use chrono::{DateTime, TimeDelta, Utc};
use lambda_http::{Body, Request, Response, http::StatusCode};
use serde::Serialize;

use super::{ApiError, json, path_id, require_admin, whole_param};
use crate::{
    domain::{Money, SectorCode, SessionId, timeline::minute_of},
    store::{Catalog, Timeline},
};

#[derive(Serialize)]
struct SectorSales<'a> {
    sector: &'a SectorCode,
    capacity: u32,
    sold: u32,
    held: u32,
    available: u32,
    expired: u32,
    cancelled: u32,
    revenue: Option<Money>,
}

#[derive(Serialize)]
struct Sales<'a> {
    session_id: SessionId,
    on_sale: bool,
    sectors: Vec<SectorSales<'a>>,
    sold: u32,
    held: u32,
    available: u32,
    expired: u32,
    cancelled: u32,
    /// Confirmed ticket revenue per currency.
    revenue: Vec<Money>,
}

/// `GET /sessions/{id}/sales` (admin).
pub async fn get_sales(req: Request, catalog: &impl Catalog) -> Result<Response<Body>, ApiError> {
    require_admin(&req)?;
    let id: SessionId = path_id(&req, "id", "session")?;
    let stock = catalog
        .session_stock(id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    let sectors: Vec<SectorSales> = stock
        .session
        .sectors
        .iter()
        .map(|sector| {
            let counts = stock.counts.get(&sector.code).copied().unwrap_or_default();
            let available = stock.available.get(&sector.code).copied().unwrap_or(0);
            let capacity = sector.capacity();
            SectorSales {
                sector: &sector.code,
                capacity,
                sold: counts.sold,
                held: capacity
                    .saturating_sub(available)
                    .saturating_sub(counts.sold),
                available,
                expired: counts.expired,
                cancelled: counts.cancelled,
                revenue: sector.price.times(counts.sold),
            }
        })
        .collect();
    let mut revenue: Vec<Money> = Vec::new();
    for money in sectors.iter().filter_map(|s| s.revenue) {
        match revenue.iter_mut().find(|m| m.currency == money.currency) {
            Some(total) => *total = total.plus(money).unwrap_or(*total),
            None => revenue.push(money),
        }
    }
    let sum = |f: fn(&SectorSales) -> u32| sectors.iter().map(f).sum();
    let sales = Sales {
        session_id: id,
        on_sale: stock.session.sale.is_open(crate::clock::now()),
        sold: sum(|s| s.sold),
        held: sum(|s| s.held),
        available: sum(|s| s.available),
        expired: sum(|s| s.expired),
        cancelled: sum(|s| s.cancelled),
        sectors,
        revenue,
    };
    json(StatusCode::OK, &sales)
}

/// Minutes ahead the timeline looks for holds about to end.
pub const EXPIRING_AHEAD_MINUTES: i64 = 15;

#[derive(Serialize)]
struct MinuteCount {
    minute: DateTime<Utc>,
    tickets: i64,
}

#[derive(Serialize)]
struct SalesTimeline {
    session_id: SessionId,
    /// The first and last minute of the window, UTC.
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// Tickets confirmed in each minute of the window that sold any, oldest first.
    sold: Vec<MinuteCount>,
    /// Their sum.
    sold_in_window: i64,
    /// Tickets of live holds ending in each coming minute (this one included).
    expiring: Vec<MinuteCount>,
    /// Tickets of holds that ended in the window but were not yet expired by the sweep.
    lapsed: i64,
}

/// `GET /sessions/{id}/sales/timeline?minutes=60` (admin): one GetItem and one Query.
pub async fn get_timeline<S: Catalog + Timeline>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    require_admin(&req)?;
    let id: SessionId = path_id(&req, "id", "session")?;
    let minutes = whole_param(&req, "minutes", 60, 5..=1440)?;
    store
        .session(id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    let now = minute_of(crate::clock::now());
    let from = now - TimeDelta::minutes(i64::from(minutes) - 1);
    let ahead = now + TimeDelta::minutes(EXPIRING_AHEAD_MINUTES);
    let tallies = store.timeline(id, from, ahead).await?;
    let sold: Vec<MinuteCount> = tallies
        .iter()
        .filter(|(m, t)| *m <= now && t.sold != 0)
        .map(|(m, t)| MinuteCount {
            minute: *m,
            tickets: t.sold,
        })
        .collect();
    let timeline = SalesTimeline {
        session_id: id,
        from,
        to: now,
        sold_in_window: sold.iter().map(|m| m.tickets).sum(),
        sold,
        expiring: tallies
            .iter()
            .filter(|(m, t)| *m >= now && t.expiring != 0)
            .map(|(m, t)| MinuteCount {
                minute: *m,
                tickets: t.expiring,
            })
            .collect(),
        lapsed: tallies
            .iter()
            .filter(|(m, _)| *m < now)
            .map(|(_, t)| t.expiring)
            .sum(),
    };
    json(StatusCode::OK, &timeline)
}
