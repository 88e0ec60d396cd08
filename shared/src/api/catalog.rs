//! Catalog routes: organisers create events, sessions and products; customers browse them.

use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, Response, http::StatusCode};
use serde::{Deserialize, Serialize};

use super::{
    ApiError, created, json, json_body, page_limit, path_id, path_param, query_param, require_admin,
};
use crate::{
    domain::{
        Currency, Event, EventCategory, EventChanges, EventId, Invalid, Money, NewEvent,
        NewProduct, NewSession, Product, ProductCategory, ProductId, SaleMode, SaleWindow, Sector,
        SectorLayout, Session, SessionId, seat::row_name,
    },
    store::{Catalog, SessionStock},
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceBody {
    cents: i64,
    currency: Option<String>,
}

impl PriceBody {
    fn into_money(self) -> Result<Money, Invalid> {
        let currency = match self.currency {
            Some(code) => Currency::try_from(code).map_err(|e| e.within("price"))?,
            None => Currency::default(),
        };
        Money::price(self.cents, currency).map_err(|e| e.within("price"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateEventBody {
    name: String,
    venue: String,
    category: EventCategory,
    description: Option<String>,
}

/// `POST /events` (admin).
pub async fn create_event(
    req: Request,
    catalog: &impl Catalog,
) -> Result<Response<Body>, ApiError> {
    require_admin(&req)?;
    let body: CreateEventBody = json_body(&req)?;
    let new = NewEvent {
        name: body.name,
        venue: body.venue,
        category: body.category,
        description: body.description,
    };
    let event = Event::create(new, crate::clock::now())?;
    catalog.put_event(&event).await?;
    created(&format!("/events/{}", event.id), &event)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateEventBody {
    #[serde(default, deserialize_with = "given")]
    name: Option<String>,
    #[serde(default, deserialize_with = "given")]
    venue: Option<String>,
    #[serde(default, deserialize_with = "given")]
    category: Option<EventCategory>,
    /// Absent keeps the description; null or blank removes it.
    #[serde(default, deserialize_with = "given")]
    description: Option<Option<String>>,
}

/// A field that may be left out (`None`, by default) but, when given, must be a `T`: for a
/// non-optional `T`, null is refused rather than read as absent.
pub(super) fn given<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// `PATCH /events/{id}` (admin): the fields given replace the event's.
pub async fn update_event(
    req: Request,
    catalog: &impl Catalog,
) -> Result<Response<Body>, ApiError> {
    require_admin(&req)?;
    let id: EventId = path_id(&req, "id", "event")?;
    let body: UpdateEventBody = json_body(&req)?;
    let changes = EventChanges {
        name: body.name,
        venue: body.venue,
        category: body.category,
        description: body.description,
    };
    let event = catalog
        .event(id)
        .await?
        .ok_or(ApiError::NotFound("event"))?;
    let edited = event.edited(changes)?;
    if edited != event {
        catalog.replace_event(&edited).await?;
    }
    json(StatusCode::OK, &edited)
}

#[derive(Serialize)]
struct EventPage<'a> {
    items: &'a [Event],
    next: Option<&'a str>,
}

/// `GET /events?limit=&next=`: newest first.
pub async fn list_events(req: Request, catalog: &impl Catalog) -> Result<Response<Body>, ApiError> {
    let limit = page_limit(&req)?;
    let page = catalog.events(limit, query_param(&req, "next")).await?;
    json(
        StatusCode::OK,
        &EventPage {
            items: &page.items,
            next: page.next.as_deref(),
        },
    )
}

/// A sector as customers see it: its layout and price, its size and, when known, what is left.
#[derive(Serialize)]
struct SectorView<'a> {
    #[serde(flatten)]
    sector: &'a Sector,
    /// Seats in a numbered sector (a general-admission layout states its capacity itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    capacity: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    available: Option<u32>,
}

impl<'a> SectorView<'a> {
    fn new(sector: &'a Sector, available: Option<u32>) -> Self {
        let capacity = match sector.layout {
            SectorLayout::Numbered { .. } => Some(sector.capacity()),
            SectorLayout::GeneralAdmission { .. } => None,
        };
        Self {
            sector,
            capacity,
            available,
        }
    }
}

#[derive(Serialize)]
struct SessionView<'a> {
    id: SessionId,
    event_id: EventId,
    starts_at: DateTime<Utc>,
    sale_starts_at: DateTime<Utc>,
    sale_ends_at: DateTime<Utc>,
    on_sale: bool,
    sale_mode: SaleMode,
    max_tickets_per_customer: u8,
    max_waiting_per_customer: u8,
    sectors: Vec<SectorView<'a>>,
}

impl<'a> SessionView<'a> {
    fn new(session: &'a Session, stock: Option<&'a SessionStock>, now: DateTime<Utc>) -> Self {
        let sectors = session
            .sectors
            .iter()
            .map(|sector| {
                SectorView::new(
                    sector,
                    stock.map(|s| s.available.get(&sector.code).copied().unwrap_or(0)),
                )
            })
            .collect();
        Self {
            id: session.id,
            event_id: session.event_id,
            starts_at: session.starts_at,
            sale_starts_at: session.sale.starts_at,
            sale_ends_at: session.sale.ends_at,
            on_sale: session.sale.is_open(now),
            sale_mode: session.sale_mode,
            max_tickets_per_customer: session.max_tickets_per_customer,
            max_waiting_per_customer: session.max_waiting_per_customer,
            sectors,
        }
    }
}

#[derive(Serialize)]
struct EventView<'a> {
    #[serde(flatten)]
    event: &'a Event,
    sessions: Vec<SessionView<'a>>,
}

/// `GET /events/{id}`: the event with its sessions, earliest first.
pub async fn get_event(req: Request, catalog: &impl Catalog) -> Result<Response<Body>, ApiError> {
    let id: EventId = path_id(&req, "id", "event")?;
    let event = catalog
        .event(id)
        .await?
        .ok_or(ApiError::NotFound("event"))?;
    let sessions = catalog.sessions_of(id).await?;
    let now = crate::clock::now();
    let sessions = sessions
        .iter()
        .map(|s| SessionView::new(s, None, now))
        .collect();
    json(
        StatusCode::OK,
        &EventView {
            event: &event,
            sessions,
        },
    )
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SectorKind {
    Numbered,
    GeneralAdmission,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SectorBody {
    code: String,
    name: String,
    kind: SectorKind,
    price: PriceBody,
    rows: Option<i64>,
    seats_per_row: Option<i64>,
    gaps: Option<Vec<String>>,
    capacity: Option<i64>,
}

impl SectorBody {
    fn into_sector(self) -> Result<Sector, Invalid> {
        let required = |field: &str, value: Option<i64>| {
            value.ok_or_else(|| Invalid::new(field, "is required for this kind of sector"))
        };
        let layout = match self.kind {
            SectorKind::Numbered => {
                if self.capacity.is_some() {
                    return Err(Invalid::new(
                        "capacity",
                        "a numbered sector's size is rows × seats_per_row",
                    ));
                }
                let gaps = self
                    .gaps
                    .unwrap_or_default()
                    .iter()
                    .map(|g| {
                        g.parse()
                            .map_err(|e: Invalid| Invalid::new("gaps", e.reason))
                    })
                    .collect::<Result<_, _>>()?;
                SectorLayout::numbered(
                    required("rows", self.rows)?,
                    required("seats_per_row", self.seats_per_row)?,
                    gaps,
                )?
            }
            SectorKind::GeneralAdmission => {
                if self.rows.is_some() || self.seats_per_row.is_some() || self.gaps.is_some() {
                    return Err(Invalid::new(
                        "kind",
                        "a general admission sector has a capacity, not rows",
                    ));
                }
                SectorLayout::general_admission(required("capacity", self.capacity)?)?
            }
        };
        Sector::create(self.code, &self.name, self.price.into_money()?, layout)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateSessionBody {
    starts_at: DateTime<Utc>,
    sale_starts_at: DateTime<Utc>,
    sale_ends_at: DateTime<Utc>,
    #[serde(default)]
    sale_mode: SaleMode,
    max_tickets_per_customer: Option<i64>,
    max_waiting_per_customer: Option<i64>,
    sectors: Vec<SectorBody>,
}

impl CreateSessionBody {
    fn into_new_session(self) -> Result<NewSession, Invalid> {
        let sectors = self
            .sectors
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                s.into_sector()
                    .map_err(|e| e.within(format!("sectors[{i}]")))
            })
            .collect::<Result<_, _>>()?;
        Ok(NewSession {
            starts_at: self.starts_at,
            sale: SaleWindow {
                starts_at: self.sale_starts_at,
                ends_at: self.sale_ends_at,
            },
            sale_mode: self.sale_mode,
            max_tickets_per_customer: self.max_tickets_per_customer,
            max_waiting_per_customer: self.max_waiting_per_customer,
            sectors,
        })
    }
}

/// `POST /events/{id}/sessions` (admin): the session, its sectors and every seat.
pub async fn create_session(
    req: Request,
    catalog: &impl Catalog,
) -> Result<Response<Body>, ApiError> {
    require_admin(&req)?;
    let event_id: EventId = path_id(&req, "id", "event")?;
    let body: CreateSessionBody = json_body(&req)?;
    let now = crate::clock::now();
    let session = Session::create(event_id, body.into_new_session()?, now)?;
    catalog
        .event(event_id)
        .await?
        .ok_or(ApiError::NotFound("event"))?;
    catalog.put_session(&session).await?;
    let stock = SessionStock {
        available: session
            .sectors
            .iter()
            .map(|s| (s.code.clone(), s.capacity()))
            .collect(),
        counts: Default::default(),
        session: session.clone(),
    };
    created(
        &format!("/sessions/{}", session.id),
        &SessionView::new(&session, Some(&stock), now),
    )
}

/// `GET /sessions/{id}`: sectors with the places still available.
pub async fn get_session(req: Request, catalog: &impl Catalog) -> Result<Response<Body>, ApiError> {
    let id: SessionId = path_id(&req, "id", "session")?;
    let stock = catalog
        .session_stock(id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    json(
        StatusCode::OK,
        &SessionView::new(&stock.session, Some(&stock), crate::clock::now()),
    )
}

/// One row of a seat map: a character a seat number (`F` free, `H` held, `S` sold, `.` none).
#[derive(Serialize)]
struct RowView {
    row: String,
    seats: String,
}

#[derive(Serialize)]
struct SeatMap<'a> {
    session_id: SessionId,
    #[serde(flatten)]
    sector: SectorView<'a>,
    /// The rows, front row first.
    map: Vec<RowView>,
}

/// How long a client or CDN may keep a seat map (seconds).
const SEAT_MAP_MAX_AGE: u32 = 2;

/// `GET /sessions/{id}/sectors/{sector}/seats`: every seat's status, row by row, from the
/// sector's seat map (a few items, `domain::seat_map`), kept 2 seconds by clients and CDNs.
pub async fn get_seat_map(
    req: Request,
    catalog: &impl Catalog,
) -> Result<Response<Body>, ApiError> {
    let id: SessionId = path_id(&req, "id", "session")?;
    let stock = catalog
        .session_stock(id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    let code = path_param(&req, "sector").unwrap_or_default();
    let sector = stock
        .session
        .sector(code)
        .ok_or(ApiError::NotFound("sector"))?;
    let blocks = match sector.layout {
        SectorLayout::Numbered { .. } => catalog.seat_map(&stock.session, sector).await?,
        SectorLayout::GeneralAdmission { .. } => Vec::new(),
    };
    let map = blocks
        .into_iter()
        .flat_map(|b| {
            let first = b.first_row;
            b.rows
                .into_iter()
                .enumerate()
                .map(move |(i, seats)| RowView {
                    row: row_name(first + i as u16),
                    seats,
                })
        })
        .collect();
    let available = stock.available.get(&sector.code).copied();
    let map = SeatMap {
        session_id: id,
        sector: SectorView::new(sector, available),
        map,
    };
    let mut resp = json(StatusCode::OK, &map)?;
    resp.headers_mut().insert(
        "cache-control",
        format!("public, max-age={SEAT_MAP_MAX_AGE}")
            .parse()
            .map_err(|e| ApiError::Internal(Box::new(e)))?,
    );
    Ok(resp)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateProductBody {
    name: String,
    category: ProductCategory,
    price: PriceBody,
    stock: Option<i64>,
}

/// `POST /events/{id}/products` (admin): an add-on sold with the event's tickets.
pub async fn create_product(
    req: Request,
    catalog: &impl Catalog,
) -> Result<Response<Body>, ApiError> {
    require_admin(&req)?;
    let event_id: EventId = path_id(&req, "id", "event")?;
    let body: CreateProductBody = json_body(&req)?;
    let new = NewProduct {
        name: body.name,
        category: body.category,
        price: body.price.into_money()?,
        stock: body.stock,
    };
    let product = Product::create(event_id, new, crate::clock::now())?;
    catalog
        .event(event_id)
        .await?
        .ok_or(ApiError::NotFound("event"))?;
    catalog.put_product(&product).await?;
    created(
        &format!("/events/{event_id}/products/{}", product.id),
        &product,
    )
}

/// `GET /events/{id}/products/{product}`: one add-on of the event.
pub async fn get_product(req: Request, catalog: &impl Catalog) -> Result<Response<Body>, ApiError> {
    let event_id: EventId = path_id(&req, "id", "event")?;
    let id: ProductId = path_id(&req, "product", "product")?;
    let product = catalog
        .product(id)
        .await?
        .filter(|p| p.event_id == event_id)
        .ok_or(ApiError::NotFound("product"))?;
    json(StatusCode::OK, &product)
}

#[derive(Serialize)]
struct ProductList {
    items: Vec<Product>,
}

/// `GET /events/{id}/products`.
pub async fn list_products(
    req: Request,
    catalog: &impl Catalog,
) -> Result<Response<Body>, ApiError> {
    let event_id: EventId = path_id(&req, "id", "event")?;
    catalog
        .event(event_id)
        .await?
        .ok_or(ApiError::NotFound("event"))?;
    json(
        StatusCode::OK,
        &ProductList {
            items: catalog.products(event_id).await?,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sector_states_its_capacity_once_whatever_its_layout() {
        let price = Money::price(5000, Currency::BRL).unwrap();
        for layout in [
            SectorLayout::general_admission(300).unwrap(),
            SectorLayout::numbered(10, 30, vec![]).unwrap(),
        ] {
            let sector = Sector::create("s".into(), "S", price, layout).unwrap();
            let text = serde_json::to_string(&SectorView::new(&sector, Some(7))).unwrap();
            assert_eq!(text.matches("\"capacity\":300").count(), 1, "{text}");
        }
    }
}
