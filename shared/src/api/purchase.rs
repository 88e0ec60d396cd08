//! Purchase routes: hold seats, add products, pay once, get tickets; cancel; read what you bought.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use lambda_http::{
    Body, Request, Response,
    http::{HeaderValue, StatusCode},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    ApiError, Identity, created,
    idempotency::{InFlight, idempotency_key, key_reused, once, replay, stored},
    json, json_body, page_limit, path_id, query_param,
};
use crate::{
    config::Sales,
    domain::{
        Charge, HoldError, Invalid, Invoice, PaymentMethod, PaymentProvider, Product, ProductId,
        Reservation, ReservationId, ReservationStatus, SessionId, Ticket, TicketSigner,
        payment::{
            MethodKind, NoticeStatus, PaymentNotice, attempt_id, webhook_signature_is_valid,
        },
        reservation::PaymentRecord,
    },
    store::{
        Begun, CLAIM_LEASE_SECONDS, Catalog, CheckoutAttempt, Page, Refused, Reservations,
        TakenAgain, WriteError,
    },
    telemetry::{self, Unit},
};

/// Add-ons suggested with a new hold.
const SUGGESTIONS: usize = 5;

fn customer(req: &Request) -> Result<Identity, ApiError> {
    Identity::of(req).ok_or(ApiError::Unauthorized)
}

impl From<HoldError> for ApiError {
    fn from(err: HoldError) -> Self {
        match err {
            HoldError::Invalid(invalid) => ApiError::Invalid(invalid),
            HoldError::SaleClosed => {
                ApiError::conflict("SALE_CLOSED", "the sale of this session is not open now")
            }
            HoldError::OverCustomerLimit { limit } => ApiError::conflict(
                "LIMIT_EXCEEDED",
                format!("a customer may have at most {limit} tickets for this session"),
            ),
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(err: WriteError) -> Self {
        match err {
            WriteError::Store(e) => e.into(),
            WriteError::Refused(Refused::Taken(seats)) => {
                let unavailable: Vec<String> = seats
                    .iter()
                    .map(|(sector, seat)| format!("{sector}/{seat}"))
                    .collect();
                ApiError::NotAvailable {
                    code: "SEATS_TAKEN",
                    detail: format!("these seats are taken: {}", unavailable.join(", ")),
                    unavailable,
                }
            }
            WriteError::Refused(Refused::SoldOut(sectors)) => {
                let unavailable: Vec<String> = sectors.iter().map(ToString::to_string).collect();
                ApiError::NotAvailable {
                    code: "SOLD_OUT",
                    detail: format!("not enough places left in {}", unavailable.join(", ")),
                    unavailable,
                }
            }
            WriteError::Refused(Refused::LimitExceeded) => ApiError::conflict(
                "LIMIT_EXCEEDED",
                "this would pass your ticket limit for the session",
            ),
            WriteError::Refused(Refused::OutOfStock(product)) => ApiError::NotAvailable {
                code: "OUT_OF_STOCK",
                detail: format!("product {product} does not have that many left"),
                unavailable: vec![product.to_string()],
            },
            WriteError::Refused(Refused::Changed) => ApiError::conflict(
                "RESERVATION_CHANGED",
                "the reservation changed meanwhile; read it and try again",
            ),
            WriteError::Refused(Refused::CheckedIn(ticket)) => ApiError::conflict(
                "ALREADY_CHECKED_IN",
                format!("ticket {ticket} was already let in at the door: it cannot be revoked"),
            ),
            WriteError::Refused(Refused::VoucherUsedUp) => ApiError::conflict(
                "VOUCHER_USED_UP",
                "this code has been used as many times as it may be",
            ),
            WriteError::Refused(Refused::VoucherLimit) => ApiError::conflict(
                "VOUCHER_LIMIT",
                "you have used this code as many times as you may",
            ),
        }
    }
}

/// A reservation as its owner sees it.
#[derive(Serialize)]
pub struct ReservationView<'a> {
    #[serde(flatten)]
    reservation: &'a Reservation,
    total: Option<crate::domain::Money>,
    tickets_count: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    tickets: Option<&'a [Ticket]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suggested_products: Option<Vec<&'a Product>>,
}

impl<'a> ReservationView<'a> {
    pub(super) fn new(reservation: &'a Reservation) -> Self {
        Self {
            reservation,
            total: reservation.total(),
            tickets_count: reservation.tickets(),
            tickets: None,
            suggested_products: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeatBody {
    sector: String,
    seat: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlacesBody {
    sector: String,
    quantity: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldBody {
    #[serde(default)]
    seats: Vec<SeatBody>,
    #[serde(default)]
    places: Vec<PlacesBody>,
}

/// Products of the event that can still be bought, most bought first.
fn suggestions(products: &[Product]) -> Vec<&Product> {
    let mut available: Vec<&Product> = products.iter().filter(|p| p.stock != Some(0)).collect();
    available.sort_by(|a, b| b.sold.cmp(&a.sold).then(a.created_at.cmp(&b.created_at)));
    available.truncate(SUGGESTIONS);
    available
}

/// `POST /sessions/{id}/holds`: holds seats and places in one transaction. With an
/// `Idempotency-Key`, a retry gets the first answer, and a retry of an attempt that stopped
/// after the hold was written finds that hold rather than a conflict.
pub async fn hold_seats<S: Catalog + Reservations>(
    req: Request,
    store: &S,
    sales: &Sales,
) -> Result<Response<Body>, ApiError> {
    let me = customer(&req)?;
    let session_id: SessionId = path_id(&req, "id", "session")?;
    let body: HoldBody = json_body(&req)?;
    let key = idempotency_key(&req)?;
    let seats: Vec<(String, String)> = body.seats.into_iter().map(|s| (s.sector, s.seat)).collect();
    let places: Vec<(String, i64)> = body
        .places
        .into_iter()
        .map(|p| (p.sector, p.quantity))
        .collect();
    let hold = |id: Option<ReservationId>| {
        let (me, seats, places) = (&me, seats.clone(), places.clone());
        async move {
            let session = store
                .session(session_id)
                .await?
                .ok_or(ApiError::NotFound("session"))?;
            let now = crate::clock::now();
            if session.refuses_direct_holds(now) {
                return Err(ApiError::conflict(
                    "USE_QUEUE",
                    "this sale is served in arrival order: ask for tickets with POST /sessions/{id}/requests",
                ));
            }
            let mut reservation =
                Reservation::plan_hold(&session, &me.sub, seats, places, now, sales.hold)?;
            if let Some(id) = id {
                reservation.id = id;
            }
            match store
                .hold(&reservation, session.max_tickets_per_customer, now)
                .await
            {
                Ok(()) => {
                    let session_dim = reservation.session_id.to_string();
                    telemetry::metric(
                        "HoldsCreated",
                        1.0,
                        Unit::Count,
                        &[("session", &session_dim)],
                    );
                }
                // Written by an earlier attempt of this request: that is the hold.
                Err(WriteError::Refused(Refused::Changed)) if id.is_some() => {
                    reservation = store
                        .reservation(reservation.id)
                        .await?
                        .filter(|r| r.customer == me.sub)
                        .ok_or_else(|| {
                            ApiError::conflict(
                                "RESERVATION_CHANGED",
                                "the reservation changed meanwhile; read it and try again",
                            )
                        })?;
                }
                Err(e) => return Err(e.into()),
            }
            // The seats are held: a failed read of the suggestions leaves them out, never
            // fails the hold.
            let products = store
                .suggestable_products(session.event_id)
                .await
                .inspect_err(|e| tracing::warn!(error = %e, "no add-on suggestions for this hold"))
                .unwrap_or_default();
            let mut view = ReservationView::new(&reservation);
            view.suggested_products = Some(suggestions(&products));
            created(&format!("/reservations/{}", reservation.id), &view)
        }
    };
    match key {
        None => hold(None).await,
        Some(key) => {
            let hash = hex::encode(Sha256::digest(
                format!("{session_id}\n{seats:?}\n{places:?}").as_bytes(),
            ));
            once(store, &me.sub, &key, &hash, |first_claimed| {
                hold(Some(ReservationId::for_key(&me.sub, &key, first_claimed)))
            })
            .await
        }
    }
}

/// The caller's reservation: 404 for anyone else's (an admin may read any).
pub(super) async fn own_reservation<S: Reservations>(
    req: &Request,
    store: &S,
    admin_may: bool,
) -> Result<(Identity, Reservation), ApiError> {
    let me = customer(req)?;
    let id: ReservationId = path_id(req, "id", "reservation")?;
    let reservation = store
        .reservation(id)
        .await?
        .ok_or(ApiError::NotFound("reservation"))?;
    if reservation.customer != me.sub && !(admin_may && me.is_admin()) {
        return Err(ApiError::NotFound("reservation"));
    }
    Ok((me, reservation))
}

pub(super) fn still_held(reservation: &Reservation, now: DateTime<Utc>) -> Result<(), ApiError> {
    match reservation.status {
        ReservationStatus::Held if reservation.is_held_at(now) => Ok(()),
        ReservationStatus::Held | ReservationStatus::Expired => Err(ApiError::conflict(
            "HOLD_EXPIRED",
            "the hold on these seats has expired",
        )),
        other => Err(ApiError::conflict(
            "WRONG_STATE",
            format!("the reservation is {}", status_word(other)),
        )),
    }
}

fn status_word(status: ReservationStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductItemBody {
    product_id: String,
    quantity: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductsBody {
    items: Vec<ProductItemBody>,
}

pub(super) fn counted(products: &[Product]) -> HashSet<ProductId> {
    products
        .iter()
        .filter(|p| p.stock.is_some())
        .map(|p| p.id)
        .collect()
}

/// `PUT /reservations/{id}/products`: the add-ons of a held reservation (quantity 0 removes).
pub async fn set_products<S: Catalog + Reservations>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    let (_, reservation) = own_reservation(&req, store, false).await?;
    let body: ProductsBody = json_body(&req)?;
    let now = crate::clock::now();
    still_held(&reservation, now)?;
    let wanted = body
        .items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let id = item.product_id.parse::<ProductId>().map_err(|_| {
                Invalid::new(format!("items[{i}].product_id"), "is not a product id")
            })?;
            Ok((id, item.quantity))
        })
        .collect::<Result<Vec<_>, Invalid>>()?;
    let products = store.products(reservation.event_id).await?;
    let lines = reservation.with_products(wanted, &products)?;
    let updated = store
        .set_products(&reservation, lines, &counted(&products), now)
        .await?;
    json(StatusCode::OK, &ReservationView::new(&updated))
}

/// `DELETE /reservations/{id}`: the owner gives a held reservation back; everything returns at once.
pub async fn cancel_reservation<S: Catalog + Reservations>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    let (_, reservation) = own_reservation(&req, store, false).await?;
    still_held(&reservation, crate::clock::now())?;
    let products = store.products(reservation.event_id).await?;
    let cancelled = store
        .cancel(&reservation, &counted(&products))
        .await
        .map_err(|e| match e {
            WriteError::Refused(_) => {
                ApiError::conflict("HOLD_EXPIRED", "the hold expired or changed meanwhile")
            }
            other => other.into(),
        })?;
    json(StatusCode::OK, &ReservationView::new(&cancelled))
}

/// `GET /reservations/{id}`: the owner's (or, for an admin, any) reservation, with its tickets.
pub async fn get_reservation<S: Reservations>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    let (_, reservation) = own_reservation(&req, store, true).await?;
    let tickets = match reservation.status {
        ReservationStatus::Confirmed => store.tickets(reservation.id).await?,
        _ => Vec::new(),
    };
    let mut view = ReservationView::new(&reservation);
    view.tickets = Some(&tickets);
    json(StatusCode::OK, &view)
}

/// `GET /reservations/{id}/invoice`.
pub async fn get_invoice<S: Reservations>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    let (_, reservation) = own_reservation(&req, store, true).await?;
    let invoice = store
        .invoice(reservation.id)
        .await?
        .ok_or(ApiError::NotFound("invoice"))?;
    json(StatusCode::OK, &invoice)
}

#[derive(Serialize)]
struct ListView<'a, T> {
    items: &'a [T],
    next: Option<&'a str>,
}

pub(super) fn page<T: Serialize>(page: &Page<T>) -> Result<Response<Body>, ApiError> {
    json(
        StatusCode::OK,
        &ListView {
            items: &page.items,
            next: page.next.as_deref(),
        },
    )
}

/// `GET /me/reservations`: newest first.
pub async fn list_my_reservations<S: Reservations>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    let me = customer(&req)?;
    page(
        &store
            .reservations_of(&me.sub, page_limit(&req)?, query_param(&req, "next"))
            .await?,
    )
}

/// `GET /me/tickets`: newest first.
pub async fn list_my_tickets<S: Reservations>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    let me = customer(&req)?;
    page(
        &store
            .tickets_of(&me.sub, page_limit(&req)?, query_param(&req, "next"))
            .await?,
    )
}

#[derive(Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
enum PaymentBody {
    Card { number: String },
    // Braces so that an unknown field beside `method` is refused, as for a card.
    Pix {},
    Boleto {},
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckoutBody {
    payment: PaymentBody,
}

/// `POST /reservations/{id}/checkout` with `Idempotency-Key`: pays once, whatever the retries.
pub async fn checkout<S: Catalog + Reservations, P: PaymentProvider>(
    req: Request,
    store: &S,
    provider: &P,
    sales: &Sales,
    signer: &TicketSigner,
) -> Result<Response<Body>, ApiError> {
    let me = customer(&req)?;
    let key = idempotency_key(&req)?.ok_or_else(|| {
        ApiError::Malformed(
            "send an Idempotency-Key header (1 to 128 printable ASCII characters)".into(),
        )
    })?;
    let id: ReservationId = path_id(&req, "id", "reservation")?;
    let body: CheckoutBody = json_body(&req)?;
    let method = match body.payment {
        PaymentBody::Card { number } => PaymentMethod::card(&number)?,
        PaymentBody::Pix {} => PaymentMethod::Pix,
        PaymentBody::Boleto {} => PaymentMethod::Boleto,
    };
    // 128 bits of the digest tell requests under one key apart.
    let hash = hex::encode(&Sha256::digest(format!("{id}\n{method:?}").as_bytes())[..16]);
    let payment_id = attempt_id(id, &me.sub, &key);
    let attempt = CheckoutAttempt {
        key,
        hash,
        claimed_at: 0,
        retry: false,
        refusal: None,
    };
    let mut in_flight = InFlight::new();
    loop {
        let now = crate::clock::now();
        let attempt = CheckoutAttempt {
            claimed_at: now.timestamp(),
            ..attempt.clone()
        };
        let (reservation, kept) = match store.begin_charge(id, &me.sub, &attempt, now).await? {
            Begun::Charging(charging) => {
                let payment = (payment_id, method);
                return pay(charging, attempt, payment, store, provider, sales, signer).await;
            }
            Begun::Refused(Some(found)) if found.0.customer == me.sub => found,
            Begun::Refused(_) => return Err(ApiError::NotFound("reservation")),
        };
        // The reservation keeps this key's attempt: its answer again, unless it may run again.
        if let Some(kept) = kept.filter(|k| k.key == attempt.key) {
            if kept.hash != attempt.hash {
                return Err(key_reused());
            }
            if let Some(refusal) = kept.refusal {
                return replay(refusal);
            }
            if reservation.status == ReservationStatus::Charging {
                // Charging elsewhere under this key: wait for it by reading, not by writing
                // where its confirmation writes, until it ends or its lease runs out.
                let stale = crate::clock::now().timestamp() - CLAIM_LEASE_SECONDS;
                loop {
                    in_flight.wait().await?;
                    match store.checkout_of(id).await? {
                        Some((r, Some(k)))
                            if r.status == ReservationStatus::Charging
                                && k.key == attempt.key
                                && k.claimed_at >= stale => {}
                        _ => break,
                    }
                }
                continue;
            }
            let ours = |p: &PaymentRecord| p.id == payment_id;
            if !kept.retry && reservation.payment.as_ref().is_some_and(ours) {
                return answered_again(store, &reservation).await;
            }
            if !kept.retry {
                // It ended after its answer without a payment to show for it (the PIX failed,
                // or the sweep came first): it does not run again under this key.
                still_held(&reservation, now)?;
                return Err(ApiError::conflict(
                    "RESERVATION_CHANGED",
                    "this key's payment ended without being paid; pay under a new Idempotency-Key",
                ));
            }
        }
        match reservation.status {
            ReservationStatus::Charging | ReservationStatus::PendingPayment => {
                return Err(payment_in_progress());
            }
            _ => still_held(&reservation, now)?,
        }
        // Held and within its hold, yet it could not begin: it changed meanwhile; again.
        in_flight.wait().await?;
    }
}

/// What a checkout answered, told again from its reservation as it is now: 200 with the
/// tickets once confirmed, 202 otherwise (a card's answer lists the tickets, none if it is owed
/// a refund).
async fn answered_again<S: Reservations>(
    store: &S,
    reservation: &Reservation,
) -> Result<Response<Body>, ApiError> {
    let confirmed = reservation.status == ReservationStatus::Confirmed;
    let card = reservation
        .payment
        .as_ref()
        .is_some_and(|p| p.method == MethodKind::Card);
    let tickets = match (confirmed, card) {
        (true, _) => Some(store.tickets(reservation.id).await?),
        (false, true) => Some(Vec::new()),
        (false, false) => None,
    };
    let mut view = ReservationView::new(reservation);
    view.tickets = tickets.as_deref();
    let status = if confirmed {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let mut response = json(status, &view)?;
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(response)
}

/// Charges a reservation that began charging under `attempt`, as the payment its key names;
/// the amount is its total, frozen while it charges. A retry of an attempt that stopped while
/// charging asks the provider again for the same payment, which it never charges twice.
async fn pay<S: Catalog + Reservations, P: PaymentProvider>(
    charging: Reservation,
    attempt: CheckoutAttempt,
    (payment_id, method): (String, PaymentMethod),
    store: &S,
    provider: &P,
    sales: &Sales,
    signer: &TicketSigner,
) -> Result<Response<Body>, ApiError> {
    let amount = charging
        .total()
        .ok_or_else(|| Invalid::new("reservation", "its prices cannot be added up"))?;
    let payment = PaymentRecord {
        id: payment_id,
        method: method.kind(),
        amount,
        instructions: None,
    };
    // A voucher can make an order free: nothing is charged.
    let charged = if amount.cents == 0 {
        Ok(Charge::Approved {
            payment_id: payment.id.clone(),
        })
    } else {
        provider
            .charge(&payment.id, &charging, payment.amount, &method)
            .await
    };
    let charge = match charged {
        Ok(charge) => charge,
        // Unanswered, nothing was decided: 503, the hold stays, and a retry asks again.
        Err(unavailable) => {
            let retry = CheckoutAttempt {
                retry: true,
                ..attempt
            };
            undo_charge(store, &charging, &retry).await?;
            return Err(unavailable.into());
        }
    };
    match charge {
        Charge::Declined { reason, .. } => {
            let refusal = stored(
                &ApiError::PaymentDeclined {
                    reason: reason.clone(),
                }
                .into_response(),
            );
            let answered = CheckoutAttempt {
                refusal: Some(refusal),
                ..attempt
            };
            undo_charge(store, &charging, &answered).await?;
            Err(ApiError::PaymentDeclined { reason })
        }
        Charge::Pending { instructions, .. } => {
            let payment = PaymentRecord {
                instructions: Some(instructions),
                ..payment
            };
            let pending = store
                .await_payment(&charging, payment)
                .await
                .map_err(|e| match e {
                    WriteError::Refused(_) => {
                        ApiError::conflict("HOLD_EXPIRED", "the hold expired or changed meanwhile")
                    }
                    other => other.into(),
                })?;
            json(StatusCode::ACCEPTED, &ReservationView::new(&pending))
        }
        Charge::Approved { .. } => {
            let (settled, mut tickets) =
                settle_paid(store, sales, signer, charging, payment).await?;
            // In the order the store lists them, as a replay tells them.
            tickets.sort_by_key(|t| t.id);
            let mut view = ReservationView::new(&settled);
            view.tickets = Some(&tickets);
            let status = if settled.status == ReservationStatus::Confirmed {
                StatusCode::OK
            } else {
                StatusCode::ACCEPTED
            };
            json(status, &view)
        }
    }
}

fn payment_in_progress() -> ApiError {
    ApiError::conflict(
        "PAYMENT_IN_PROGRESS",
        "another payment of this reservation is being taken",
    )
}

/// Nothing was charged: the reservation is held again, keeping what a retry of `attempt` gets,
/// unless it moved on meanwhile (the sweep).
async fn undo_charge<S: Reservations>(
    store: &S,
    charging: &Reservation,
    attempt: &CheckoutAttempt,
) -> Result<(), ApiError> {
    match store.charge_undone(charging, attempt).await {
        Ok(_) | Err(WriteError::Refused(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A paid reservation: confirmed with its tickets and invoice. Paid after its hold lapsed, it
/// takes its seats, places, count and add-ons again if they are still to be had; otherwise, as
/// when it was cancelled while the payment was being taken, it becomes REFUND_REQUIRED and
/// gives back whatever it still held.
pub async fn settle_paid<S: Catalog + Reservations>(
    store: &S,
    sales: &Sales,
    signer: &TicketSigner,
    mut reservation: Reservation,
    payment: PaymentRecord,
) -> Result<(Reservation, Vec<Ticket>), ApiError> {
    for _ in 0..3 {
        match reservation.status {
            ReservationStatus::Confirmed => {
                let tickets = store.tickets(reservation.id).await?;
                return Ok((reservation, tickets));
            }
            ReservationStatus::RefundRequired | ReservationStatus::Refunded => {
                return Ok((reservation, Vec::new()));
            }
            // Cancelled while this payment was being taken: the money is owed back.
            ReservationStatus::Cancelled
                if reservation
                    .payment
                    .as_ref()
                    .is_none_or(|p| p.id != payment.id) =>
            {
                let reason = "paid while the reservation was being cancelled";
                if let Some(refund) = refund(store, &reservation, &payment, reason).await? {
                    return Ok((refund, Vec::new()));
                }
                reservation = reread(store, reservation.id).await?;
                continue;
            }
            ReservationStatus::Cancelled => return Ok((reservation, Vec::new())),
            _ => {}
        }
        if reservation.total() != Some(payment.amount) {
            let reason = "the amount paid is not the reservation's total";
            if let Some(refund) = refund(store, &reservation, &payment, reason).await? {
                return Ok((refund, Vec::new()));
            }
            reservation = reread(store, reservation.id).await?;
            continue;
        }
        let taken_again = match reservation.status {
            ReservationStatus::Expired => TakenAgain {
                limit: store
                    .session(reservation.session_id)
                    .await?
                    .ok_or(ApiError::NotFound("session"))?
                    .max_tickets_per_customer,
                counted: counted(&store.products(reservation.event_id).await?),
            },
            _ => TakenAgain::default(),
        };
        let now = crate::clock::now();
        let tickets = signer.issue(&reservation, now);
        let invoice = Invoice::for_reservation(
            &reservation,
            &sales.seller,
            payment.amount,
            payment.method,
            now,
        );
        match store
            .confirm(
                &reservation,
                payment.clone(),
                &tickets,
                &invoice,
                &taken_again,
                now,
            )
            .await
        {
            Ok(confirmed) => {
                let session = confirmed.session_id.to_string();
                telemetry::metric(
                    "ReservationsConfirmed",
                    1.0,
                    Unit::Count,
                    &[("session", &session)],
                );
                telemetry::metric(
                    "TicketsSold",
                    f64::from(confirmed.tickets()),
                    Unit::Count,
                    &[("session", &session)],
                );
                return Ok((confirmed, tickets));
            }
            // Something changed it meanwhile (the sweep, a replay): read again and settle that.
            Err(WriteError::Refused(Refused::Changed)) => {}
            Err(WriteError::Refused(gone)) => {
                if let Some(refund) = refund(store, &reservation, &payment, late(&gone)).await? {
                    return Ok((refund, Vec::new()));
                }
            }
            Err(e) => return Err(e.into()),
        }
        reservation = reread(store, reservation.id).await?;
    }
    Err(ApiError::conflict(
        "RESERVATION_CHANGED",
        "the reservation keeps changing; retry",
    ))
}

/// Why a payment that came after its hold lapsed cannot be confirmed.
fn late(gone: &Refused) -> &'static str {
    match gone {
        Refused::Taken(_) => "paid after the hold expired, and the seats were sold to someone else",
        Refused::SoldOut(_) => {
            "paid after the hold expired, and the places were sold to someone else"
        }
        Refused::LimitExceeded => {
            "paid after the hold expired, and the customer has since reached the ticket limit"
        }
        Refused::OutOfStock(_) => "paid after the hold expired, and an add-on sold out meanwhile",
        Refused::VoucherUsedUp => {
            "paid after the hold expired, and the voucher's last uses were taken meanwhile"
        }
        Refused::VoucherLimit => {
            "paid after the hold expired, and the customer has since used the voucher as often as allowed"
        }
        Refused::Changed | Refused::CheckedIn(_) => {
            "the reservation changed while it was being paid"
        }
    }
}

/// Records that `payment` is owed back, giving back what the reservation still holds; `None`
/// if the reservation changed meanwhile.
async fn refund<S: Catalog + Reservations>(
    store: &S,
    reservation: &Reservation,
    payment: &PaymentRecord,
    reason: &str,
) -> Result<Option<Reservation>, ApiError> {
    let products = store.products(reservation.event_id).await?;
    match store
        .refund_required(reservation, payment.clone(), reason, &counted(&products))
        .await
    {
        Ok(refund) => Ok(Some(refund)),
        Err(WriteError::Refused(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn reread<S: Reservations>(store: &S, id: ReservationId) -> Result<Reservation, ApiError> {
    store
        .reservation(id)
        .await?
        .ok_or(ApiError::NotFound("reservation"))
}

/// `POST /payments/webhook`: the provider says a PIX or boleto payment was paid or failed,
/// signed with one of `webhook_secrets` (the current one, or the previous while it rotates).
pub async fn payment_webhook<S: Catalog + Reservations>(
    req: Request,
    store: &S,
    sales: &Sales,
    signer: &TicketSigner,
    webhook_secrets: &[Vec<u8>],
) -> Result<Response<Body>, ApiError> {
    let signature = req
        .headers()
        .get("x-bilheteria-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let now = crate::clock::now();
    if !webhook_secrets
        .iter()
        .any(|secret| webhook_signature_is_valid(secret, req.body().as_ref(), signature, now))
    {
        return Err(ApiError::Unauthorized);
    }
    let notice: PaymentNotice = json_body(&req)?;
    let notice_status = match notice.status {
        NoticeStatus::Paid => "paid",
        NoticeStatus::Failed => "failed",
    };
    let reservation = store
        .reservation(notice.reservation_id)
        .await?
        .ok_or(ApiError::NotFound("reservation"))?;
    // A replay of a notice already handled (within the signing tolerance) changes nothing.
    if store
        .notice_handled(&notice.payment_id, notice_status)
        .await?
    {
        return json(
            StatusCode::OK,
            &serde_json::json!({ "reservation_id": reservation.id, "status": reservation.status }),
        );
    }
    // The payment is still being recorded: the provider retries the notice later.
    if reservation.status == ReservationStatus::Charging {
        return Err(payment_in_progress());
    }
    let Some(payment) = reservation
        .payment
        .clone()
        .filter(|p| p.id == notice.payment_id)
    else {
        return Err(ApiError::conflict(
            "UNKNOWN_PAYMENT",
            "this payment is not the reservation's",
        ));
    };
    let settled = match (notice.status, reservation.status) {
        (NoticeStatus::Paid, ReservationStatus::PendingPayment | ReservationStatus::Expired) => {
            settle_paid(store, sales, signer, reservation, payment)
                .await?
                .0
        }
        (NoticeStatus::Failed, ReservationStatus::PendingPayment) => {
            match store.payment_failed(&reservation).await {
                Ok(held) => held,
                Err(WriteError::Refused(_)) => store
                    .reservation(reservation.id)
                    .await?
                    .unwrap_or(reservation),
                Err(e) => return Err(e.into()),
            }
        }
        // News about a reservation that has moved on: acknowledged, nothing changes.
        _ => reservation,
    };
    store
        .notice_done(&notice.payment_id, notice_status, crate::clock::now())
        .await?;
    json(
        StatusCode::OK,
        &serde_json::json!({ "reservation_id": settled.id, "status": settled.status }),
    )
}
