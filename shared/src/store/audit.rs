//! The conservation audit (DESIGN.md §10): reads the whole table and checks that every place,
//! count, unit of stock and real is accounted for. Each violation names the items involved.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, de::DeserializeOwned};

use super::{
    DynamoStore, StoreError,
    door::DoorItem,
    dynamo::Attributes,
    item::{LimitItem, MarkedStock, SeatItem, SeatStateName, ShardItem},
    keys,
    reservations::ReservationItem,
    vouchers::VoucherUse,
};
use crate::domain::{
    EventId, Invoice, Product, ProductId, ReservationId, ReservationStatus, SeatLabel, Sector,
    SectorCode, SectorLayout, Session, SessionId, Ticket, Voucher, VoucherCode,
    waitlist::{EntryStatus, WaitlistEntry},
};

/// One broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which invariant: `places`, `seat`, `customer count`, `stock`, `sales view`,
    /// `expiry index`, `tickets`, `invoice`, `door`, `voucher`, `waiting list`, `unreadable`.
    pub rule: &'static str,
    pub detail: String,
    /// The items involved, as `PK / SK`.
    pub items: Vec<String>,
    /// The session it concerns, if one.
    pub session: Option<SessionId>,
    /// The event it concerns (a product's), if one.
    pub event: Option<EventId>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.rule, self.detail)?;
        for item in &self.items {
            write!(f, "\n    {item}")?;
        }
        Ok(())
    }
}

/// What the audit read and found.
#[derive(Clone, Debug, Default)]
pub struct Audit {
    pub items: usize,
    pub sessions: usize,
    pub reservations: usize,
    pub violations: Vec<Violation>,
}

impl Audit {
    /// Only what concerns `session` (and the add-ons of its event), and items that cannot be
    /// read, which may belong to it.
    pub fn of_session(mut self, session: SessionId, event: Option<EventId>) -> Self {
        self.violations.retain(|v| {
            v.rule == "unreadable"
                || v.session == Some(session)
                || (v.session.is_none() && v.event == event)
        });
        self
    }
}

impl std::fmt::Display for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "audit: {} items, {} sessions, {} reservations: {} violations",
            self.items,
            self.sessions,
            self.reservations,
            self.violations.len()
        )?;
        for v in &self.violations {
            writeln!(f, "{v}")?;
        }
        Ok(())
    }
}

fn key(pk: &str, sk: &str) -> String {
    format!("{pk} / {sk}")
}

#[derive(Deserialize)]
struct ProductItem {
    #[serde(flatten)]
    product: Product,
    #[serde(default)]
    stocked: Option<u32>,
}

/// The table, read into what the invariants speak of.
#[derive(Default)]
struct Table {
    sessions: BTreeMap<SessionId, Session>,
    stock: HashMap<(SessionId, SectorCode), MarkedStock>,
    /// A general-admission sector's places on its shards: (shard, available) each.
    shards: HashMap<(SessionId, SectorCode), Vec<(u32, i64)>>,
    /// Each sector's seat items, with the partition each is in.
    seats: HashMap<(SessionId, SectorCode), Vec<(String, SeatItem)>>,
    limits: BTreeMap<(SessionId, String), i64>,
    products: BTreeMap<ProductId, ProductItem>,
    reservations: BTreeMap<ReservationId, ReservationItem>,
    tickets: HashMap<ReservationId, Vec<Ticket>>,
    invoices: HashMap<ReservationId, Invoice>,
    /// Each ticket's item at the door (let in or revoked), with its key.
    door: Vec<(String, DoorItem)>,
    vouchers: BTreeMap<(EventId, VoucherCode), Voucher>,
    /// Every waiting-list entry.
    waitlist: Vec<WaitlistEntry>,
    /// Each customer's uses of a code, with its key.
    voucher_uses: BTreeMap<(EventId, VoucherCode, String), (String, i64)>,
}

impl Table {
    fn read(&mut self, item: Attributes, violations: &mut Vec<Violation>) {
        let text = |name: &str| match item.get(name) {
            Some(aws_sdk_dynamodb::types::AttributeValue::S(s)) => s.clone(),
            _ => String::new(),
        };
        let (pk, sk) = (text(keys::PK), text(keys::SK));
        let mut unreadable = |what: &str, e: String| {
            violations.push(Violation {
                rule: "unreadable",
                detail: format!("a {what} item cannot be read: {e}"),
                items: vec![key(&pk, &sk)],
                session: None,
                event: None,
            })
        };
        fn parse<T: DeserializeOwned>(item: Attributes) -> Result<T, String> {
            serde_dynamo::from_item(item).map_err(|e| e.to_string())
        }
        match sk.as_str() {
            keys::SESSION_SK => match parse::<Session>(item) {
                Ok(s) => {
                    self.sessions.insert(s.id, s);
                }
                Err(e) => unreadable("session", e),
            },
            keys::STOCK_SK => match (
                keys::session_part(&pk, "#SECTOR#"),
                parse::<MarkedStock>(item),
            ) {
                (Some((session, _)), Ok(stock)) => {
                    self.stock
                        .insert((session, stock.stock.code.clone()), stock);
                }
                (_, Err(e)) => unreadable("sector stock", e),
                (None, _) => unreadable("sector stock", "its key names no session".into()),
            },
            keys::SHARD_SK => match (
                keys::session_part(&pk, "#SECTOR#"),
                parse::<ShardItem>(item),
            ) {
                (Some((session, _)), Ok(shard)) => {
                    self.shards
                        .entry((session, shard.code))
                        .or_default()
                        .push((shard.shard, shard.available));
                }
                (_, Err(e)) => unreadable("stock shard", e),
                (None, _) => unreadable("stock shard", "its key names no session".into()),
            },
            keys::LIMIT_SK => match (
                keys::session_part(&pk, "#CUSTOMER#"),
                parse::<LimitItem>(item),
            ) {
                (Some((session, customer)), Ok(limit)) => {
                    self.limits
                        .insert((session, customer.to_owned()), limit.tickets);
                }
                (_, Err(e)) => unreadable("customer count", e),
                (None, _) => unreadable("customer count", "its key names no session".into()),
            },
            keys::PRODUCT_SK => match parse::<ProductItem>(item) {
                Ok(p) => {
                    self.products.insert(p.product.id, p);
                }
                Err(e) => unreadable("product", e),
            },
            keys::RESERVATION_SK => match parse::<ReservationItem>(item) {
                Ok(r) => {
                    self.reservations.insert(r.reservation.id, r);
                }
                Err(e) => unreadable("reservation", e),
            },
            keys::INVOICE_SK => match parse::<Invoice>(item) {
                Ok(i) => {
                    self.invoices.insert(i.reservation_id, i);
                }
                Err(e) => unreadable("invoice", e),
            },
            sk if sk.starts_with(keys::SEAT_PREFIX) => {
                match (keys::sector_part(&pk), parse::<SeatItem>(item)) {
                    (Some(at), Ok(seat)) => self.seats.entry(at).or_default().push((pk, seat)),
                    (_, Err(e)) => unreadable("seat", e),
                    (None, _) => unreadable("seat", "its key names no session and sector".into()),
                }
            }
            keys::DOOR_SK => match parse::<super::item::Item<DoorItem>>(item) {
                Ok(door) => self.door.push((key(&pk, &sk), door.data)),
                Err(e) => unreadable("door", e),
            },
            sk if sk.starts_with(keys::WAITLIST_PREFIX) && pk.ends_with("#WAITLIST") => {
                match parse::<WaitlistEntry>(item) {
                    Ok(e) => self.waitlist.push(e),
                    Err(e) => unreadable("waiting-list entry", e),
                }
            }
            keys::VOUCHER_USE_SK => match parse::<VoucherUse>(item) {
                Ok(u) => {
                    self.voucher_uses
                        .insert((u.event_id, u.code, u.customer), (key(&pk, &sk), u.uses));
                }
                Err(e) => unreadable("voucher use", e),
            },
            sk if sk.starts_with(keys::VOUCHER_PREFIX) => match parse::<Voucher>(item) {
                Ok(v) => {
                    self.vouchers.insert((v.event_id, v.code.clone()), v);
                }
                Err(e) => unreadable("voucher", e),
            },
            sk if sk.starts_with(keys::TICKET_PREFIX) => match parse::<Ticket>(item) {
                Ok(t) => self.tickets.entry(t.reservation_id).or_default().push(t),
                Err(e) => unreadable("ticket", e),
            },
            _ => {}
        }
    }
}

/// Tickets of one reservation per sector.
fn per_sector(item: &ReservationItem) -> BTreeMap<SectorCode, i64> {
    let mut sectors = BTreeMap::new();
    for seat in &item.reservation.seats {
        *sectors.entry(seat.sector.clone()).or_default() += 1;
    }
    for places in &item.reservation.places {
        *sectors.entry(places.sector.clone()).or_default() += i64::from(places.quantity);
    }
    sectors
}

fn live(status: ReservationStatus) -> bool {
    status.is_live()
}

/// Tickets per (session, sector) by what the reservations holding them are.
#[derive(Default, Clone, Copy)]
struct Tally {
    live: i64,
    sold: i64,
    expired: i64,
    cancelled: i64,
    /// What vouchers took off the confirmed tickets (cents).
    discounts: i64,
}

struct Auditor<'a> {
    table: &'a Table,
    now: DateTime<Utc>,
    violations: Vec<Violation>,
}

impl Auditor<'_> {
    /// A violation within a session.
    fn violation(
        &mut self,
        rule: &'static str,
        session: Option<SessionId>,
        items: Vec<String>,
        detail: String,
    ) {
        self.violations.push(Violation {
            rule,
            detail,
            items,
            session,
            event: None,
        });
    }

    /// A violation of an event's add-on, which its sessions share.
    fn product_violation(
        &mut self,
        rule: &'static str,
        event: Option<EventId>,
        items: Vec<String>,
        detail: String,
    ) {
        self.violations.push(Violation {
            rule,
            detail,
            items,
            session: None,
            event,
        });
    }

    fn sectors(&mut self) {
        let mut tally: HashMap<(SessionId, SectorCode), Tally> = HashMap::new();
        for item in self.table.reservations.values() {
            let r = &item.reservation;
            if let (Some(v), ReservationStatus::Confirmed) = (&r.voucher, r.status) {
                for (sector, off) in v.discount_by_sector(r) {
                    tally.entry((r.session_id, sector)).or_default().discounts += off.cents;
                }
            }
            for (sector, count) in per_sector(item) {
                let t = tally.entry((r.session_id, sector)).or_default();
                match r.status {
                    s if s.is_live() => t.live += count,
                    ReservationStatus::Confirmed => t.sold += count,
                    ReservationStatus::Expired => t.expired += count,
                    ReservationStatus::Cancelled => t.cancelled += count,
                    _ => {}
                }
            }
        }
        for session in self.table.sessions.values() {
            for sector in &session.sectors {
                let at = (session.id, sector.code.clone());
                let stock_key = key(&keys::sector(session.id, &sector.code), keys::STOCK_SK);
                let Some(stock) = self.table.stock.get(&at) else {
                    self.violation(
                        "places",
                        Some(session.id),
                        vec![stock_key],
                        format!("sector {} has no stock item", sector.code),
                    );
                    continue;
                };
                let t = tally.get(&at).copied().unwrap_or_default();
                let capacity = i64::from(sector.capacity());
                let s = &stock.stock;
                // General admission: the places on sale are on the shards, each never below 0.
                // Numbered: the seat counters hold what holds took, below 0.
                let numbered = matches!(sector.layout, SectorLayout::Numbered { .. });
                let shards = self.table.shards.get(&at).cloned().unwrap_or_default();
                let mut items = vec![stock_key.clone()];
                for (shard, available) in &shards {
                    let shard_key = key(
                        &keys::stock_shard(session.id, &sector.code, *shard),
                        keys::SHARD_SK,
                    );
                    if *available < 0 && !numbered {
                        self.violation(
                            "places",
                            Some(session.id),
                            vec![shard_key.clone()],
                            format!(
                                "sector {} shard {shard} has {available} places",
                                sector.code
                            ),
                        );
                    }
                    items.push(shard_key);
                }
                let available = s.available + shards.iter().map(|(_, a)| a).sum::<i64>();
                if capacity != available + t.live + t.sold + s.returned
                    || i64::from(s.capacity) != capacity
                    || s.returned < 0
                {
                    self.violation(
                        "places",
                        Some(session.id),
                        items,
                        format!(
                            "sector {}: capacity {capacity} (stock item says {}) != available {available} + held by live reservations {} + sold {} + kept for the waiting list {}",
                            sector.code, s.capacity, t.live, t.sold, s.returned
                        ),
                    );
                }
                let waited: i64 = self
                    .table
                    .waitlist
                    .iter()
                    .filter(|e| {
                        e.session_id == session.id
                            && e.sector == sector.code
                            && e.status == EntryStatus::Waiting
                    })
                    .map(|e| i64::from(e.quantity))
                    .sum();
                if s.waiting != waited {
                    self.violation(
                        "waiting list",
                        Some(session.id),
                        vec![stock_key.clone()],
                        format!(
                            "sector {}: `waiting` counts {} places, its line's entries wait for {waited}",
                            sector.code, s.waiting
                        ),
                    );
                }
                let entered = self
                    .table
                    .door
                    .iter()
                    .filter(|(_, d)| {
                        matches!(d, DoorItem::Entered(e) if e.session == session.id && e.sector == sector.code)
                    })
                    .count() as i64;
                for (name, counted, expected) in [
                    ("sold", s.sold, t.sold),
                    ("expired", s.expired, t.expired),
                    ("cancelled", s.cancelled, t.cancelled),
                    ("entered", s.entered, entered),
                ] {
                    if i64::from(counted) != expected {
                        self.violation(
                            "sales view",
                            Some(session.id),
                            vec![stock_key.clone()],
                            format!(
                                "sector {}: `{name}` counts {counted} tickets, its reservations have {expected}",
                                sector.code
                            ),
                        );
                    }
                }
                if s.discounts != t.discounts {
                    self.violation(
                        "sales view",
                        Some(session.id),
                        vec![stock_key.clone()],
                        format!(
                            "sector {}: `discounts` counts {} cents, its confirmed reservations' vouchers took {}",
                            sector.code, s.discounts, t.discounts
                        ),
                    );
                }
                if stock.sold_out && available > 0 {
                    self.violation(
                        "places",
                        Some(session.id),
                        vec![stock_key.clone()],
                        format!(
                            "sector {} is marked sold out with {available} places available",
                            sector.code
                        ),
                    );
                }
                if numbered {
                    self.seats(session, sector);
                    let kept: BTreeSet<SeatLabel> = self
                        .table
                        .seats
                        .get(&at)
                        .map(|seats| {
                            seats
                                .iter()
                                .filter(|(_, s)| s.state == SeatStateName::Kept)
                                .map(|(_, s)| s.seat)
                                .collect()
                        })
                        .unwrap_or_default();
                    if kept != s.kept_seats || kept.len() as i64 != s.returned {
                        self.violation(
                            "waiting list",
                            Some(session.id),
                            vec![stock_key.clone()],
                            format!(
                                "sector {}: {} seats are KEPT, the stock item keeps {:?} and counts {} kept",
                                sector.code,
                                kept.len(),
                                s.kept_seats,
                                s.returned
                            ),
                        );
                    }
                }
            }
        }
    }

    fn seats(&mut self, session: &Session, sector: &Sector) {
        let code = &sector.code;
        let layout = &sector.layout;
        let pk = keys::sector(session.id, code);
        let empty = Vec::new();
        let seats = self
            .table
            .seats
            .get(&(session.id, code.clone()))
            .unwrap_or(&empty);
        let stored: BTreeSet<SeatLabel> = seats.iter().map(|(_, s)| s.seat).collect();
        // A session kept by blocks writes a seat once it is first taken: an absent one is free.
        let missing: Vec<SeatLabel> = if session.seat_blocks {
            Vec::new()
        } else {
            layout.seats().filter(|s| !stored.contains(s)).collect()
        };
        let strays: Vec<SeatLabel> = stored
            .iter()
            .copied()
            .filter(|s| !layout.has_seat(*s))
            .collect();
        if !missing.is_empty() || !strays.is_empty() || stored.len() != seats.len() {
            let first = |labels: &[SeatLabel]| {
                labels
                    .iter()
                    .take(5)
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
            };
            self.violation(
                "seat",
                Some(session.id),
                vec![pk.clone()],
                format!(
                    "sector {code}: {} seat items ({} seats) for a capacity of {}; missing {:?}, not seats of its layout {:?}",
                    seats.len(),
                    stored.len(),
                    layout.capacity(),
                    first(&missing),
                    first(&strays),
                ),
            );
        }
        for (partition, seat) in seats {
            let seat_key = key(partition, &keys::seat_sk(seat.seat));
            let kept_in =
                keys::seat_partition(session.id, code, session.seat_block(sector, seat.seat));
            if *partition != kept_in {
                self.violation(
                    "seat",
                    Some(session.id),
                    vec![seat_key.clone()],
                    format!(
                        "seat {code}/{} is kept in {partition}, its place is {kept_in}",
                        seat.seat
                    ),
                );
            }
            let holder = seat
                .reservation_id
                .and_then(|id| self.table.reservations.get(&id));
            let problem = match (seat.state, seat.reservation_id, holder) {
                (SeatStateName::Free, None, _) => None,
                (SeatStateName::Free, Some(_), _) => Some("is FREE but names a reservation".into()),
                (SeatStateName::Kept, None, _) => None,
                (SeatStateName::Kept, Some(_), _) => Some("is KEPT but names a reservation".into()),
                (_, None, _) => Some("is taken but names no reservation".into()),
                (_, Some(id), None) => {
                    Some(format!("names reservation {id}, which does not exist"))
                }
                (state, Some(_), Some(r)) => {
                    let reservation = &r.reservation;
                    let listed = reservation
                        .seats
                        .iter()
                        .any(|s| s.sector == *code && s.seat == seat.seat);
                    match state {
                        _ if !listed => Some(format!(
                            "is held or sold by reservation {} which does not list it",
                            reservation.id
                        )),
                        SeatStateName::Held if !live(reservation.status) => Some(format!(
                            "is HELD by reservation {}, which is {:?}",
                            reservation.id, reservation.status
                        )),
                        SeatStateName::Held if seat.hold_expires_at != Some(r.hold_expires_at) => {
                            Some(format!(
                                "is HELD until {:?}, its reservation {} until {}",
                                seat.hold_expires_at, reservation.id, r.hold_expires_at
                            ))
                        }
                        SeatStateName::Sold
                            if reservation.status != ReservationStatus::Confirmed =>
                        {
                            Some(format!(
                                "is SOLD to reservation {}, which is {:?}",
                                reservation.id, reservation.status
                            ))
                        }
                        _ => None,
                    }
                }
            };
            if let Some(problem) = problem {
                let mut items = vec![seat_key];
                items.extend(
                    seat.reservation_id
                        .map(|id| key(&keys::reservation(id), keys::RESERVATION_SK)),
                );
                self.violation(
                    "seat",
                    Some(session.id),
                    items,
                    format!("seat {code}/{} {problem}", seat.seat),
                );
            }
        }
    }

    /// Each reservation's seats are its own while it is live (or were taken after it lapsed),
    /// sold to it once confirmed; it is in the expiry index exactly while live; a confirmed one
    /// has its tickets and an invoice for what was paid.
    fn reservations(&mut self) {
        let table = self.table;
        for item in table.reservations.values() {
            let r = &item.reservation;
            let here = key(&keys::reservation(r.id), keys::RESERVATION_SK);
            let session = Some(r.session_id);
            let lapsed = item.hold_expires_at < self.now.timestamp();
            for seat in &r.seats {
                let stored = table
                    .seats
                    .get(&(r.session_id, seat.sector.clone()))
                    .and_then(|seats| seats.iter().map(|(_, s)| s).find(|s| s.seat == seat.seat));
                let own = stored.is_some_and(|s| s.reservation_id == Some(r.id));
                let wrong = match r.status {
                    s if s.is_live() => {
                        // A lapsed hold's seat is anyone's until the sweep.
                        !own && !lapsed
                    }
                    ReservationStatus::Confirmed => {
                        !(own && stored.is_some_and(|s| s.state == SeatStateName::Sold))
                    }
                    _ => false,
                };
                if wrong {
                    self.violation(
                        "seat",
                        session,
                        vec![
                            here.clone(),
                            key(
                                &keys::seat_partition(r.session_id, &seat.sector, seat.block),
                                &keys::seat_sk(seat.seat),
                            ),
                        ],
                        format!(
                            "reservation {} is {:?} but its seat {}/{} is {}",
                            r.id,
                            r.status,
                            seat.sector,
                            seat.seat,
                            stored.map_or("missing".to_owned(), |s| format!(
                                "{:?} by {:?}",
                                s.state, s.reservation_id
                            ))
                        ),
                    );
                }
            }
            let indexed = item.gsi2pk.is_some() || item.gsi2sk.is_some();
            let expected = keys::expiry(item.hold_expires_at, r.id);
            if live(r.status)
                && (item.gsi2pk.as_deref() != Some(&expected.0)
                    || item.gsi2sk.as_deref() != Some(&expected.1))
            {
                self.violation(
                    "expiry index",
                    session,
                    vec![here.clone()],
                    format!(
                        "reservation {} is {:?} but not in the expiry index at its hold's end",
                        r.id, r.status
                    ),
                );
            }
            if !live(r.status) && indexed {
                self.violation(
                    "expiry index",
                    session,
                    vec![here.clone()],
                    format!(
                        "reservation {} is {:?} and still in the expiry index",
                        r.id, r.status
                    ),
                );
            }
            if item.hold_expires_at != r.expires_at.timestamp() {
                self.violation(
                    "expiry index",
                    session,
                    vec![here.clone()],
                    format!(
                        "reservation {}: hold_expires_at {} is not expires_at {}",
                        r.id, item.hold_expires_at, r.expires_at
                    ),
                );
            }
            self.paid(item, &here);
        }
    }

    fn paid(&mut self, item: &ReservationItem, here: &str) {
        let r = &item.reservation;
        let session = Some(r.session_id);
        let tickets = self.table.tickets.get(&r.id).map_or(&[][..], Vec::as_slice);
        let invoice = self.table.invoices.get(&r.id);
        // The reservation's item and its tickets'.
        let with_tickets = || {
            std::iter::once(here.to_owned())
                .chain(
                    tickets
                        .iter()
                        .map(|t| key(&keys::reservation(r.id), &keys::ticket_sk(t.id))),
                )
                .collect::<Vec<_>>()
        };
        if r.status != ReservationStatus::Confirmed {
            // A sale the organiser cancelled keeps its invoice (its refund reverses it).
            let invoiced = invoice.is_some() && r.confirmed_at.is_none();
            if !tickets.is_empty() || invoiced {
                self.violation(
                    "tickets",
                    session,
                    with_tickets(),
                    format!(
                        "reservation {} is {:?} but has {} tickets{}",
                        r.id,
                        r.status,
                        tickets.len(),
                        if invoice.is_some() {
                            " and an invoice"
                        } else {
                            ""
                        }
                    ),
                );
            }
            let owed = matches!(
                r.status,
                ReservationStatus::RefundRequired | ReservationStatus::Refunded
            );
            if owed && (r.payment.is_none() || r.refund_reason.is_none()) {
                self.violation(
                    "invoice",
                    session,
                    vec![here.to_owned()],
                    format!(
                        "reservation {} needs a refund but names no payment or reason",
                        r.id
                    ),
                );
            }
            if r.status == ReservationStatus::Refunded
                && (r.refunded_by.is_none() || r.refunded_at.is_none())
            {
                self.violation(
                    "invoice",
                    session,
                    vec![here.to_owned()],
                    format!("reservation {} was refunded by no one, or at no time", r.id),
                );
            }
            return;
        }
        let mut seats: Vec<(SectorCode, Option<SeatLabel>)> =
            tickets.iter().map(|t| (t.sector.clone(), t.seat)).collect();
        let mut expected: Vec<(SectorCode, Option<SeatLabel>)> =
            r.seats
                .iter()
                .map(|s| (s.sector.clone(), Some(s.seat)))
                .chain(r.places.iter().flat_map(|p| {
                    std::iter::repeat_n((p.sector.clone(), None), p.quantity as usize)
                }))
                .collect();
        seats.sort();
        expected.sort();
        if seats != expected {
            self.violation(
                "tickets",
                session,
                with_tickets(),
                format!(
                    "confirmed reservation {} has {} tickets for {} places, or for other places",
                    r.id,
                    tickets.len(),
                    expected.len()
                ),
            );
        }
        let total = r.total();
        let paid = r.payment.as_ref().map(|p| p.amount);
        match invoice {
            None => self.violation(
                "invoice",
                session,
                vec![here.to_owned()],
                format!("confirmed reservation {} has no invoice", r.id),
            ),
            Some(invoice) if Some(invoice.total) != paid || paid != total => self.violation(
                "invoice",
                session,
                vec![
                    here.to_owned(),
                    key(&keys::reservation(r.id), keys::INVOICE_SK),
                ],
                format!(
                    "reservation {}: invoice total {:?}, paid {:?}, items add up to {:?}",
                    r.id, invoice.total, paid, total
                ),
            ),
            Some(_) => {}
        }
    }

    /// A ticket let in is a ticket of a confirmed reservation; a revoked one is no longer a
    /// ticket, and its reservation is not confirmed.
    fn door(&mut self) {
        let table = self.table;
        let holders: HashMap<_, _> = table
            .tickets
            .iter()
            .flat_map(|(r, tickets)| tickets.iter().map(move |t| (t.id, *r)))
            .collect();
        let status = |r: &ReservationId| table.reservations.get(r).map(|r| r.reservation.status);
        for (here, item) in &table.door {
            let (session, problem) = match item {
                DoorItem::Entered(e) => (
                    e.session,
                    (holders.get(&e.ticket).and_then(status) != Some(ReservationStatus::Confirmed))
                        .then(|| {
                            format!(
                                "ticket {} was let in but is no confirmed sale's ticket",
                                e.ticket
                            )
                        }),
                ),
                DoorItem::Revoked {
                    ticket,
                    session,
                    reservation,
                    ..
                } => {
                    let now = status(reservation);
                    let wrong = holders.contains_key(ticket)
                        || matches!(now, None | Some(ReservationStatus::Confirmed));
                    (
                        *session,
                        wrong.then(|| {
                            format!("ticket {ticket} is revoked, but it is still a ticket or its reservation {reservation} is {now:?}")
                        }),
                    )
                }
            };
            if let Some(detail) = problem {
                self.violation("door", Some(session), vec![here.clone()], detail);
            }
        }
    }

    fn customers(&mut self) {
        let table = self.table;
        let mut tickets: BTreeMap<(SessionId, String), (i64, Vec<String>)> = BTreeMap::new();
        for item in table.reservations.values() {
            let r = &item.reservation;
            let entry = tickets
                .entry((r.session_id, r.customer.clone()))
                .or_default();
            if live(r.status) || r.status == ReservationStatus::Confirmed {
                entry.0 += i64::from(r.tickets());
                entry
                    .1
                    .push(key(&keys::reservation(r.id), keys::RESERVATION_SK));
            }
        }
        let everyone: BTreeSet<&(SessionId, String)> =
            tickets.keys().chain(table.limits.keys()).collect();
        for at in everyone {
            let (session, customer) = at;
            let counted = table.limits.get(at).copied().unwrap_or(0);
            let (held, reservations) = tickets.get(at).cloned().unwrap_or_default();
            let limit_key = key(&keys::customer_limit(*session, customer), keys::LIMIT_SK);
            if counted != held {
                let mut items = vec![limit_key.clone()];
                items.extend(reservations.clone());
                self.violation(
                    "customer count",
                    Some(*session),
                    items,
                    format!(
                        "customer {customer} is counted {counted} tickets, their live and confirmed reservations hold {held}"
                    ),
                );
            }
            let limit = table
                .sessions
                .get(session)
                .map_or(i64::MAX, |s| i64::from(s.max_tickets_per_customer));
            if held > limit {
                let mut items = vec![limit_key];
                items.extend(reservations);
                self.violation(
                    "customer count",
                    Some(*session),
                    items,
                    format!("customer {customer} holds {held} tickets, over the limit of {limit}"),
                );
            }
        }
    }

    fn products(&mut self) {
        let table = self.table;
        let mut units: HashMap<ProductId, (i64, i64)> = HashMap::new();
        for item in table.reservations.values() {
            let r = &item.reservation;
            for line in &r.products {
                let u = units.entry(line.product_id).or_default();
                match r.status {
                    s if live(s) => u.0 += i64::from(line.quantity),
                    ReservationStatus::Confirmed => u.1 += i64::from(line.quantity),
                    _ => {}
                }
            }
        }
        for p in table.products.values() {
            let product = &p.product;
            let (held, sold) = units.get(&product.id).copied().unwrap_or_default();
            let here = vec![key(&keys::product(product.id), keys::PRODUCT_SK)];
            let event = Some(product.event_id);
            if i64::from(product.sold) != sold {
                self.product_violation(
                    "stock",
                    event,
                    here.clone(),
                    format!(
                        "product {} ({}) counts {} sold, confirmed reservations bought {sold}",
                        product.id, product.name, product.sold
                    ),
                );
            }
            match (product.stock, p.stocked) {
                (Some(stock), Some(stocked))
                    if i64::from(stocked) != i64::from(stock) + held + sold =>
                {
                    self.product_violation("stock", event,
                        here,
                        format!(
                            "product {} ({}): stocked {stocked} != in stock {stock} + in live holds {held} + sold {sold}",
                            product.id, product.name
                        ),
                    )
                }
                (Some(_), None) => self.product_violation("stock", event,
                    here,
                    format!(
                        "product {} ({}) is counted but its initial stock is not recorded",
                        product.id, product.name
                    ),
                ),
                _ => {}
            }
        }
    }
}

impl Auditor<'_> {
    /// A code's uses, and each customer's, are the reservations holding it or having paid with
    /// it: a use is taken with the hold and given back when the hold ends unpaid or the sale is
    /// cancelled. No code is used more than it may be.
    fn vouchers(&mut self) {
        let table = self.table;
        let mut holding: BTreeMap<(EventId, VoucherCode), Vec<String>> = BTreeMap::new();
        let mut per_customer: BTreeMap<(EventId, VoucherCode, String), i64> = BTreeMap::new();
        for item in table.reservations.values() {
            let r = &item.reservation;
            let Some(v) = &r.voucher else { continue };
            if !(live(r.status) || r.status == ReservationStatus::Confirmed) {
                continue;
            }
            holding
                .entry((r.event_id, v.code.clone()))
                .or_default()
                .push(key(&keys::reservation(r.id), keys::RESERVATION_SK));
            *per_customer
                .entry((r.event_id, v.code.clone(), r.customer.clone()))
                .or_default() += 1;
        }
        for ((event, code), voucher) in &table.vouchers {
            let mut items = vec![key(&keys::event(*event), &keys::voucher_sk(code))];
            let held = holding.remove(&(*event, code.clone())).unwrap_or_default();
            let counted = held.len() as i64;
            if i64::from(voucher.uses) != counted || voucher.uses > voucher.max_uses {
                let detail = format!(
                    "code {code} counts {} uses of {}, and {counted} reservations hold or paid with it",
                    voucher.uses, voucher.max_uses
                );
                items.extend(held);
                self.product_violation("voucher", Some(*event), items, detail);
            }
        }
        for ((event, code), held) in holding {
            let detail = format!("reservations hold code {code}, which the event does not have");
            self.product_violation("voucher", Some(event), held, detail);
        }
        let mut keys_of: BTreeMap<_, _> = table.voucher_uses.clone();
        for ((event, code, customer), uses) in per_customer {
            let (item, counted) = keys_of
                .remove(&(event, code.clone(), customer.clone()))
                .unwrap_or_else(|| {
                    let pk = keys::voucher_use(event, &code, &customer);
                    (key(&pk, keys::VOUCHER_USE_SK), 0)
                });
            if counted != uses {
                let detail = format!(
                    "customer {customer} counts {counted} uses of code {code}, and holds or paid with it {uses} times"
                );
                self.product_violation("voucher", Some(event), vec![item], detail);
            }
        }
        for ((event, code, customer), (item, counted)) in keys_of {
            if counted != 0 {
                let detail = format!(
                    "customer {customer} counts {counted} uses of code {code}, and no reservation holds it"
                );
                self.product_violation("voucher", Some(event), vec![item], detail);
            }
        }
    }
}

impl DynamoStore {
    /// Reads the whole table and checks every invariant of DESIGN.md §10 as of `now` (the clock
    /// the functions read: it tells which holds have lapsed).
    pub async fn audit(&self, now: DateTime<Utc>) -> Result<Audit, StoreError> {
        let mut table = Table::default();
        let mut violations = Vec::new();
        let mut count = 0;
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            count += 1;
            table.read(item?, &mut violations);
        }
        let mut auditor = Auditor {
            table: &table,
            now,
            violations,
        };
        auditor.sectors();
        auditor.reservations();
        auditor.customers();
        auditor.products();
        auditor.door();
        auditor.vouchers();
        Ok(Audit {
            items: count,
            sessions: table.sessions.len(),
            reservations: table.reservations.len(),
            violations: auditor.violations,
        })
    }
}
