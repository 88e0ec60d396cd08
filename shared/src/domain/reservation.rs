//! Reservations: seats and places held by one customer for a few minutes, add-ons, and the
//! states a reservation moves through until it is paid, cancelled or expires.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{
    EventId, Invalid, Money, ProductId, ReservationId, SeatLabel, SectorCode, SectorLayout,
    Session, SessionId,
};

/// A hold is one DynamoDB transaction (at most 100 items): ten tickets keep it well inside.
pub const MAX_TICKETS_PER_RESERVATION: u32 = 10;
/// Units of one add-on product in one reservation.
pub const MAX_UNITS_PER_PRODUCT: u32 = 20;
/// Different add-on products in one reservation.
pub const MAX_PRODUCTS_PER_RESERVATION: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReservationStatus {
    /// Seats held until `expires_at`; add-ons can change; checkout can start.
    Held,
    /// A checkout is charging its amount (frozen in `payment`): add-ons, cancels and other
    /// checkouts wait until the provider answers.
    Charging,
    /// A PIX or boleto payment was issued; the provider's webhook settles it.
    PendingPayment,
    Confirmed,
    Cancelled,
    Expired,
    /// Paid after the hold lapsed and the seats could not be held again: money goes back.
    RefundRequired,
    /// The money owed back was returned: an organiser marked the refund done (`refunded_by`,
    /// `refunded_at`). Final.
    Refunded,
}

/// A numbered seat in a reservation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatTicket {
    pub sector: SectorCode,
    pub seat: SeatLabel,
    pub price: Money,
    /// The block of rows whose partition keeps the seat (`Session::seat_block`); none in holds
    /// of sessions that keep their seats in the sector's partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<u16>,
}

/// General-admission places of one sector in a reservation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceTickets {
    pub sector: SectorCode,
    pub quantity: u32,
    pub unit_price: Money,
    /// The sector's stock shards (`domain::stock`) when the places were held; 0 in holds made
    /// before the sector's places were sharded (they count on the sector's stock item).
    #[serde(default)]
    pub shards: u32,
}

/// Units of an add-on product in a reservation, at the price when added.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductLine {
    pub product_id: ProductId,
    pub name: String,
    pub quantity: u32,
    pub unit_price: Money,
}

/// How a reservation is paid and where that payment stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRecord {
    pub id: String,
    pub method: super::payment::MethodKind,
    pub amount: Money,
    /// PIX copy-and-paste code or boleto digitable line, while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub id: ReservationId,
    pub customer: String,
    pub event_id: EventId,
    pub session_id: SessionId,
    pub status: ReservationStatus,
    #[serde(default)]
    pub seats: Vec<SeatTicket>,
    #[serde(default)]
    pub places: Vec<PlaceTickets>,
    #[serde(default)]
    pub products: Vec<ProductLine>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Why a paid reservation needs a refund.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_reason: Option<String>,
    /// Who marked the refund done, when, and the provider's reference for it, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_reference: Option<String>,
    /// The promo code the customer applied, as it was then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher: Option<super::voucher::AppliedVoucher>,
    /// Held for a fan from a sector's waiting list (`domain::waitlist`), with the longer window.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub waitlist: bool,
    /// Bumped by every change, so that a change computed from a read applies only to that read.
    pub version: u32,
}

/// Why a hold cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoldError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("the sale is not open now")]
    SaleClosed,
    #[error("a customer may hold at most {limit} tickets for this session")]
    OverCustomerLimit { limit: u8 },
}

impl ReservationStatus {
    /// Whether it still holds its seats, places, count and add-ons.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            ReservationStatus::Held
                | ReservationStatus::Charging
                | ReservationStatus::PendingPayment
        )
    }
}

impl Reservation {
    /// Checks a hold request against the session and prices it; the store then holds it.
    pub fn plan_hold(
        session: &Session,
        customer: &str,
        seats: Vec<(String, String)>,
        places: Vec<(String, i64)>,
        now: DateTime<Utc>,
        hold: Duration,
    ) -> Result<Self, HoldError> {
        if !session.sale.is_open(now) {
            return Err(HoldError::SaleClosed);
        }
        let sector_of = |field: String, code: &str| {
            session
                .sector(code)
                .ok_or_else(|| Invalid::new(field, format!("no sector `{code}` in this session")))
        };
        let mut seen = HashSet::new();
        let mut seat_tickets = Vec::new();
        for (i, (code, label)) in seats.into_iter().enumerate() {
            let sector = sector_of(format!("seats[{i}].sector"), &code)?;
            let seat: SeatLabel = label
                .parse()
                .map_err(|e: Invalid| Invalid::new(format!("seats[{i}].seat"), e.reason))?;
            if !matches!(sector.layout, SectorLayout::Numbered { .. }) {
                return Err(Invalid::new(
                    format!("seats[{i}].sector"),
                    format!("`{code}` is general admission: ask for places"),
                )
                .into());
            }
            if !sector.layout.has_seat(seat) {
                return Err(Invalid::new(
                    format!("seats[{i}].seat"),
                    format!("{seat} is not a seat of `{code}`"),
                )
                .into());
            }
            if !seen.insert((code.clone(), seat)) {
                return Err(Invalid::new(
                    format!("seats[{i}]"),
                    format!("{code} {seat} is asked for twice"),
                )
                .into());
            }
            seat_tickets.push(SeatTicket {
                sector: sector.code.clone(),
                seat,
                price: sector.price,
                block: session.seat_block(sector, seat),
            });
        }
        let mut place_tickets: Vec<PlaceTickets> = Vec::new();
        for (i, (code, quantity)) in places.into_iter().enumerate() {
            let sector = sector_of(format!("places[{i}].sector"), &code)?;
            if !matches!(sector.layout, SectorLayout::GeneralAdmission { .. }) {
                return Err(Invalid::new(
                    format!("places[{i}].sector"),
                    format!("`{code}` is numbered: ask for seats"),
                )
                .into());
            }
            let quantity = u32::try_from(quantity)
                .ok()
                .filter(|q| (1..=MAX_TICKETS_PER_RESERVATION).contains(q))
                .ok_or_else(|| {
                    Invalid::new(
                        format!("places[{i}].quantity"),
                        format!("must be between 1 and {MAX_TICKETS_PER_RESERVATION}"),
                    )
                })?;
            if place_tickets.iter().any(|p| p.sector == sector.code) {
                return Err(Invalid::new(
                    format!("places[{i}].sector"),
                    format!("`{code}` is asked for twice"),
                )
                .into());
            }
            place_tickets.push(PlaceTickets {
                sector: sector.code.clone(),
                quantity,
                unit_price: sector.price,
                shards: session.place_shards(sector),
            });
        }
        let tickets =
            seat_tickets.len() as u32 + place_tickets.iter().map(|p| p.quantity).sum::<u32>();
        if tickets == 0 {
            return Err(Invalid::new("seats", "ask for at least one seat or place").into());
        }
        if tickets > MAX_TICKETS_PER_RESERVATION {
            return Err(Invalid::new(
                "seats",
                format!("at most {MAX_TICKETS_PER_RESERVATION} tickets in one reservation"),
            )
            .into());
        }
        if tickets > u32::from(session.max_tickets_per_customer) {
            return Err(HoldError::OverCustomerLimit {
                limit: session.max_tickets_per_customer,
            });
        }
        let reservation = Self::held(
            session,
            customer,
            (seat_tickets, place_tickets),
            now,
            now + hold,
        );
        reservation.total().ok_or_else(|| {
            Invalid::new(
                "seats",
                "the sectors asked for are priced in different currencies",
            )
        })?;
        Ok(reservation)
    }

    /// A new hold of `seats` and `places` for `customer` from `now` until `until`: nothing
    /// bought, paid or discounted yet.
    pub fn held(
        session: &Session,
        customer: &str,
        (seats, places): (Vec<SeatTicket>, Vec<PlaceTickets>),
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Self {
        Self {
            id: ReservationId::generate(),
            customer: customer.to_owned(),
            event_id: session.event_id,
            session_id: session.id,
            status: ReservationStatus::Held,
            seats,
            places,
            products: Vec::new(),
            created_at: now,
            expires_at: until,
            payment: None,
            confirmed_at: None,
            refund_reason: None,
            refunded_by: None,
            refunded_at: None,
            refund_reference: None,
            voucher: None,
            waitlist: false,
            version: 1,
        }
    }

    pub fn tickets(&self) -> u32 {
        self.seats.len() as u32 + self.places.iter().map(|p| p.quantity).sum::<u32>()
    }

    /// Everything the customer pays: tickets and add-ons less a voucher's discount; `None` if
    /// currencies are mixed.
    pub fn total(&self) -> Option<Money> {
        let mut sum: Option<Money> = None;
        for line in self.line_items() {
            let total = line.total?;
            sum = Some(match sum {
                None => total,
                Some(s) => s.plus(total)?,
            });
        }
        sum
    }

    /// The currency the tickets are priced in.
    pub fn currency(&self) -> Option<super::Currency> {
        self.seats
            .first()
            .map(|s| s.price.currency)
            .or(self.places.first().map(|p| p.unit_price.currency))
    }

    /// Priced lines as an invoice lists them.
    pub fn line_items(&self) -> Vec<LineItem> {
        let mut lines: Vec<LineItem> = self
            .seats
            .iter()
            .map(|s| LineItem::new(format!("Ticket {} {}", s.sector, s.seat), s.price, 1))
            .collect();
        lines.extend(self.places.iter().map(|p| {
            LineItem::new(
                format!("Ticket {} (general admission)", p.sector),
                p.unit_price,
                p.quantity,
            )
        }));
        lines.extend(
            self.products
                .iter()
                .map(|p| LineItem::new(p.name.clone(), p.unit_price, p.quantity)),
        );
        if let Some(voucher) = &self.voucher {
            let off = voucher.discount(self).map(|m| Money {
                cents: -m.cents,
                ..m
            });
            lines.push(LineItem {
                description: format!("Voucher {} ({})", voucher.code, voucher.discount),
                unit_price: off.unwrap_or(Money {
                    cents: 0,
                    currency: self.currency().unwrap_or_default(),
                }),
                quantity: 1,
                total: off,
            });
        }
        lines
    }

    /// Held and within its hold time: add-ons may change, checkout may start.
    pub fn is_held_at(&self, now: DateTime<Utc>) -> bool {
        self.status == ReservationStatus::Held && now <= self.expires_at
    }

    /// The add-on lines after a change, checked: quantities 1..=20 (0 removes), products known.
    pub fn with_products(
        &self,
        wanted: Vec<(ProductId, i64)>,
        catalog: &[super::Product],
    ) -> Result<Vec<ProductLine>, Invalid> {
        if wanted.len() > MAX_PRODUCTS_PER_RESERVATION {
            return Err(Invalid::new(
                "items",
                format!("at most {MAX_PRODUCTS_PER_RESERVATION} different products"),
            ));
        }
        let mut lines = Vec::new();
        let mut seen = HashSet::new();
        for (i, (id, quantity)) in wanted.into_iter().enumerate() {
            let field = |f: &str| format!("items[{i}].{f}");
            if !seen.insert(id) {
                return Err(Invalid::new(field("product_id"), "listed twice"));
            }
            let product = catalog
                .iter()
                .find(|p| p.id == id && p.event_id == self.event_id)
                .ok_or_else(|| {
                    Invalid::new(
                        field("product_id"),
                        format!("no product {id} for this event"),
                    )
                })?;
            let quantity = u32::try_from(quantity)
                .ok()
                .filter(|q| *q <= MAX_UNITS_PER_PRODUCT)
                .ok_or_else(|| {
                    Invalid::new(
                        field("quantity"),
                        format!("must be between 0 and {MAX_UNITS_PER_PRODUCT}"),
                    )
                })?;
            if self.currency().is_some_and(|c| c != product.price.currency) {
                return Err(Invalid::new(
                    field("product_id"),
                    "priced in another currency than the tickets",
                ));
            }
            if quantity > 0 {
                lines.push(ProductLine {
                    product_id: id,
                    name: product.name.clone(),
                    quantity,
                    unit_price: product.price,
                });
            }
        }
        Ok(lines)
    }
}

/// One line of a bill: what, unit price, quantity, total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    pub description: String,
    pub unit_price: Money,
    pub quantity: u32,
    /// `None` only on overflow.
    pub total: Option<Money>,
}

impl LineItem {
    fn new(description: String, unit_price: Money, quantity: u32) -> Self {
        Self {
            description,
            unit_price,
            quantity,
            total: unit_price.times(quantity),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::{
        Currency, NewSession, Product, ProductCategory, SaleWindow, Sector, SectorLayout,
    };

    /// A session on sale now: a numbered `plateia` (5 × 10, A-1 a gap) and a standing `pista` (100).
    pub(crate) fn session(now: DateTime<Utc>) -> Session {
        let price = |c| Money::price(c, Currency::BRL).unwrap();
        let new = NewSession {
            sale_mode: Default::default(),
            max_waiting_per_customer: None,
            starts_at: now + Duration::days(10),
            sale: SaleWindow {
                starts_at: now - Duration::hours(1),
                ends_at: now + Duration::days(9),
            },
            max_tickets_per_customer: None,
            sectors: vec![
                Sector::create(
                    "plateia".into(),
                    "Plateia",
                    price(10_000),
                    SectorLayout::numbered(5, 10, vec!["A-1".parse().unwrap()]).unwrap(),
                )
                .unwrap(),
                Sector::create(
                    "pista".into(),
                    "Pista",
                    price(5_000),
                    SectorLayout::general_admission(100).unwrap(),
                )
                .unwrap(),
            ],
        };
        Session::create(EventId::generate(), new, now).unwrap()
    }

    fn seats(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn a_hold_is_priced_and_expires_after_the_hold_time() {
        let now = Utc::now();
        let r = Reservation::plan_hold(
            &session(now),
            "alice",
            seats(&[("plateia", "A-2"), ("plateia", "B-7")]),
            vec![("pista".into(), 3)],
            now,
            Duration::minutes(10),
        )
        .unwrap();
        assert_eq!(r.tickets(), 5);
        assert_eq!(r.total().unwrap().cents, 2 * 10_000 + 3 * 5_000);
        assert_eq!(r.expires_at, now + Duration::minutes(10));
        assert_eq!(r.status, ReservationStatus::Held);
        assert!(r.is_held_at(now) && !r.is_held_at(now + Duration::minutes(11)));
    }

    #[test]
    fn unknown_duplicate_and_misplaced_seats_are_refused() {
        let now = Utc::now();
        let s = session(now);
        let plan = |st: Vec<(String, String)>, pl: Vec<(String, i64)>| {
            Reservation::plan_hold(&s, "alice", st, pl, now, Duration::minutes(10))
        };
        let invalid = |r: Result<Reservation, HoldError>| match r {
            Err(HoldError::Invalid(i)) => i.field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            invalid(plan(seats(&[("plateia", "A-1")]), vec![])),
            "seats[0].seat",
            "a gap"
        );
        assert_eq!(
            invalid(plan(seats(&[("plateia", "Z-1")]), vec![])),
            "seats[0].seat"
        );
        assert_eq!(
            invalid(plan(seats(&[("plateia", "A12")]), vec![])),
            "seats[0].seat"
        );
        assert_eq!(
            invalid(plan(seats(&[("camarote", "A-2")]), vec![])),
            "seats[0].sector"
        );
        assert_eq!(
            invalid(plan(seats(&[("pista", "A-2")]), vec![])),
            "seats[0].sector"
        );
        assert_eq!(
            invalid(plan(
                seats(&[("plateia", "A-2"), ("plateia", "A-2")]),
                vec![]
            )),
            "seats[1]"
        );
        assert_eq!(
            invalid(plan(vec![], vec![("pista".into(), 0)])),
            "places[0].quantity"
        );
        assert_eq!(
            invalid(plan(vec![], vec![("pista".into(), -2)])),
            "places[0].quantity"
        );
        assert_eq!(
            invalid(plan(vec![], vec![("plateia".into(), 2)])),
            "places[0].sector"
        );
        assert_eq!(invalid(plan(vec![], vec![])), "seats");
    }

    #[test]
    fn ten_tickets_at_most_and_the_customer_limit_holds() {
        let now = Utc::now();
        let mut s = session(now);
        s.max_tickets_per_customer = 50;
        let eleven: Vec<(String, String)> = (2..=10)
            .map(|n| ("plateia".to_string(), format!("A-{n}")))
            .chain([
                ("plateia".to_string(), "B-1".to_string()),
                ("plateia".to_string(), "B-2".to_string()),
            ])
            .collect();
        assert!(matches!(
            Reservation::plan_hold(&s, "a", eleven, vec![], now, Duration::minutes(1)),
            Err(HoldError::Invalid(_))
        ));
        s.max_tickets_per_customer = 6;
        let r = Reservation::plan_hold(
            &s,
            "a",
            vec![],
            vec![("pista".into(), 7)],
            now,
            Duration::minutes(1),
        );
        assert_eq!(r.unwrap_err(), HoldError::OverCustomerLimit { limit: 6 });
    }

    #[test]
    fn no_hold_outside_the_sale_window() {
        let now = Utc::now();
        let s = session(now);
        let later = s.sale.ends_at;
        let r = Reservation::plan_hold(
            &s,
            "a",
            vec![],
            vec![("pista".into(), 1)],
            later,
            Duration::minutes(1),
        );
        assert_eq!(r.unwrap_err(), HoldError::SaleClosed);
    }

    #[test]
    fn add_ons_are_checked_against_the_events_products() {
        let now = Utc::now();
        let s = session(now);
        let r = Reservation::plan_hold(
            &s,
            "a",
            vec![],
            vec![("pista".into(), 1)],
            now,
            Duration::minutes(1),
        )
        .unwrap();
        let popcorn = Product {
            id: ProductId::generate(),
            event_id: s.event_id,
            name: "Pipoca".into(),
            category: ProductCategory::Food,
            price: Money::price(2_800, Currency::BRL).unwrap(),
            stock: Some(10),
            sold: 0,
            created_at: now,
        };
        let lines = r
            .with_products(vec![(popcorn.id, 2)], std::slice::from_ref(&popcorn))
            .unwrap();
        assert_eq!(lines[0].quantity, 2);
        assert!(
            r.with_products(vec![(popcorn.id, 0)], std::slice::from_ref(&popcorn))
                .unwrap()
                .is_empty(),
            "zero removes"
        );
        assert_eq!(
            r.with_products(vec![(popcorn.id, -1)], std::slice::from_ref(&popcorn))
                .unwrap_err()
                .field,
            "items[0].quantity"
        );
        assert_eq!(
            r.with_products(vec![(popcorn.id, 21)], std::slice::from_ref(&popcorn))
                .unwrap_err()
                .field,
            "items[0].quantity"
        );
        assert_eq!(
            r.with_products(
                vec![(ProductId::generate(), 1)],
                std::slice::from_ref(&popcorn)
            )
            .unwrap_err()
            .field,
            "items[0].product_id"
        );
        assert_eq!(
            r.with_products(
                vec![(popcorn.id, 1), (popcorn.id, 1)],
                std::slice::from_ref(&popcorn)
            )
            .unwrap_err()
            .field,
            "items[1].product_id"
        );
        let other_event = Product {
            event_id: EventId::generate(),
            ..popcorn.clone()
        };
        assert!(
            r.with_products(vec![(other_event.id, 1)], &[other_event])
                .is_err(),
            "another event's product"
        );
    }
}
