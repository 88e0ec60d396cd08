//! What an organiser watches during a sale: per sector, sold, held and available tickets,
//! confirmed revenue, and how many holds expired or were given back.

use lambda_http::{Body, Request, Response, http::StatusCode};
use serde::Serialize;

use super::{ApiError, json, path_id, require_admin};
use crate::{
    domain::{Money, SectorCode, SessionId},
    store::Catalog,
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
