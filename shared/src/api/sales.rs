//! What an organiser watches during a sale: per sector, sold, held and available tickets,
//! confirmed revenue, how many holds expired or were given back and how many tickets were let
//! in at the door; and the sale minute by minute, with the holds about to end.

use chrono::{DateTime, TimeDelta, Utc};
use lambda_http::{Body, Request, Response, http::StatusCode};
use serde::Serialize;

use super::{
    ApiError, csv, csv_text, json, path_id, query_param, require_admin, wants_csv, whole_param,
};
use crate::{
    domain::{Money, SectorCode, SessionId, timeline::minute_of},
    store::{Catalog, Reservations, Timeline},
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
    /// Let in at the door.
    checked_in: u32,
    /// Standing places its waiting list waits for, and places that came back kept for it.
    waiting: u32,
    kept_for_waitlist: u32,
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
    checked_in: u32,
    /// Confirmed ticket revenue per currency.
    revenue: Vec<Money>,
}

/// A counter as a count: never below zero.
fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// `GET /sessions/{id}/sales` (admin): JSON, or with `Accept: text/csv` one row a sector.
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
                    .saturating_sub(counts.sold)
                    .saturating_sub(count(counts.returned)),
                available,
                expired: counts.expired,
                cancelled: counts.cancelled,
                checked_in: counts.entered,
                waiting: count(counts.waiting),
                kept_for_waitlist: count(counts.returned),
                // Net of what vouchers took off.
                revenue: sector.price.times(counts.sold).map(|gross| Money {
                    cents: gross.cents - counts.discounts,
                    ..gross
                }),
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
        checked_in: sum(|s| s.checked_in),
        sectors,
        revenue,
    };
    if wants_csv(&req) {
        return csv(sales_csv(&sales)?, None);
    }
    json(StatusCode::OK, &sales)
}

fn sales_csv(sales: &Sales) -> Result<String, ApiError> {
    let header = [
        "sector",
        "capacity",
        "sold",
        "held",
        "available",
        "expired",
        "cancelled",
        "checked_in",
        "revenue_cents",
        "currency",
    ]
    .map(String::from);
    let rows = sales.sectors.iter().map(|s| {
        let (revenue, currency) = match s.revenue {
            Some(m) => (m.cents.to_string(), m.currency.to_string()),
            None => (String::new(), String::new()),
        };
        [
            s.sector.to_string(),
            s.capacity.to_string(),
            s.sold.to_string(),
            s.held.to_string(),
            s.available.to_string(),
            s.expired.to_string(),
            s.cancelled.to_string(),
            s.checked_in.to_string(),
            revenue,
            currency,
        ]
    });
    csv_text(std::iter::once(header).chain(rows))
}

/// Tickets an attendee export page lists when `limit` is not given, and the most it lists.
pub const ATTENDEES_PAGE: u32 = 1000;
pub const MAX_ATTENDEES_PAGE: u32 = 5000;

/// The attendee export's header row.
pub const ATTENDEE_COLUMNS: [&str; 7] = [
    "ticket",
    "reservation",
    "sector",
    "seat",
    "customer",
    "issued_at",
    "checked_in_at",
];

/// `GET /sessions/{id}/attendees?limit=&next=` (admin): a page of the session's tickets as CSV,
/// sector by sector; the first page starts with the header row, and `Link: rel="next"` names the
/// next page. Each page is one invocation reading at most `limit` tickets, so a session of any
/// size exports in pages of bounded time and memory.
pub async fn export_attendees<S: Catalog + Reservations>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    require_admin(&req)?;
    let id: SessionId = path_id(&req, "id", "session")?;
    let limit = whole_param(&req, "limit", ATTENDEES_PAGE, 1..=MAX_ATTENDEES_PAGE)?;
    let after = query_param(&req, "next");
    let session = store
        .session(id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    let sectors: Vec<SectorCode> = session.sectors.iter().map(|s| s.code.clone()).collect();
    let page = store.session_tickets(id, &sectors, limit, after).await?;
    let header = after.is_none().then(|| ATTENDEE_COLUMNS.map(String::from));
    let rows = page.items.iter().map(|t| {
        [
            t.id.to_string(),
            t.reservation_id.to_string(),
            t.sector.to_string(),
            t.seat.map(|s| s.to_string()).unwrap_or_default(),
            t.customer.clone(),
            t.issued_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            // Scanned at the door: the door records it on the ticket.
            String::new(),
        ]
    });
    let body = csv_text(header.into_iter().chain(rows))?;
    let next = page
        .next
        .map(|cursor| format!("/sessions/{id}/attendees?limit={limit}&next={cursor}"));
    csv(body, next.as_deref())
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
