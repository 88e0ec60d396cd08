//! The organiser's reservation desk: a customer's reservations, a reservation's history, a
//! confirmed sale cancelled (its tickets revoked), and the refunds owed, marked done by whoever
//! returned the money.

use lambda_http::{Body, Request, Response, http::StatusCode};
use serde::{Deserialize, Serialize};

use super::{
    ApiError, json, json_body, page_limit, path_id, path_param, purchase::page, query_param,
    require_admin,
};
use crate::{
    domain::{HistoryEntry, Reservation, ReservationId, ReservationStatus},
    store::{Catalog, Door, Refused, Reservations, Timeline, WriteError},
};

/// The longest provider reference a refund keeps.
pub const MAX_REFERENCE: usize = 200;

/// `GET /customers/{id}/reservations` (admin): a customer's reservations (by the token subject),
/// newest first, in pages.
pub async fn customer_reservations<S: Reservations>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    require_admin(&req)?;
    let customer = path_param(&req, "id")
        .filter(|c| (1..=128).contains(&c.chars().count()))
        .ok_or_else(|| ApiError::Malformed("a customer id is 1 to 128 characters".into()))?;
    page(
        &store
            .reservations_of(customer, page_limit(&req)?, query_param(&req, "next"))
            .await?,
    )
}

#[derive(Serialize)]
struct HistoryView<'a> {
    reservation: &'a Reservation,
    /// Each status it entered, oldest first (written as the changes are announced, so the
    /// latest may follow its change by a moment).
    history: &'a [HistoryEntry],
}

/// `GET /reservations/{id}/history` (admin): the reservation and every status it went through.
pub async fn reservation_history<S: Reservations + Timeline>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    require_admin(&req)?;
    let id: ReservationId = path_id(&req, "id", "reservation")?;
    let (reservation, history) = futures::try_join!(store.reservation(id), store.history(id))?;
    let reservation = reservation.ok_or(ApiError::NotFound("reservation"))?;
    json(
        StatusCode::OK,
        &HistoryView {
            reservation: &reservation,
            history: &history,
        },
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundBody {
    /// The payment provider's reference of the refund.
    #[serde(default)]
    reference: Option<String>,
}

/// `POST /reservations/{id}/refund` (admin): the money a REFUND_REQUIRED reservation was owed
/// went back. It becomes REFUNDED, naming who said so and when; anything else is 409.
pub async fn mark_refunded<S: Reservations>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    let me = require_admin(&req)?;
    let id: ReservationId = path_id(&req, "id", "reservation")?;
    let body: RefundBody = json_body(&req)?;
    let reference = body.reference.map(|r| r.trim().to_owned());
    if let Some(r) = &reference
        && (r.is_empty() || r.chars().count() > MAX_REFERENCE)
    {
        return Err(ApiError::Invalid(crate::domain::Invalid::new(
            "reference",
            format!("a refund reference has 1 to {MAX_REFERENCE} characters"),
        )));
    }
    let reservation = store
        .reservation(id)
        .await?
        .ok_or(ApiError::NotFound("reservation"))?;
    let not_owed = |status: ReservationStatus| {
        let (code, detail) = match status {
            ReservationStatus::Refunded => (
                "ALREADY_REFUNDED",
                "this reservation's refund was already marked done".to_owned(),
            ),
            other => (
                "WRONG_STATE",
                format!(
                    "only a reservation that needs a refund can be refunded; this one is {}",
                    serde_json::to_value(other)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                ),
            ),
        };
        ApiError::conflict(code, detail)
    };
    if reservation.status != ReservationStatus::RefundRequired {
        return Err(not_owed(reservation.status));
    }
    let now = crate::clock::now();
    match store
        .refunded(&reservation, me.name(), now, reference.as_deref())
        .await
    {
        Ok(refunded) => json(StatusCode::OK, &refunded),
        // Another organiser marked it meanwhile: say what it is now.
        Err(WriteError::Refused(Refused::Changed)) => {
            let now = store
                .reservation(id)
                .await?
                .ok_or(ApiError::NotFound("reservation"))?;
            Err(not_owed(now.status))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelSaleBody {
    /// Why the organiser cancels the sale (what the customer is told with the refund).
    reason: String,
}

/// The longest reason a cancelled sale keeps.
pub const MAX_REASON: usize = 200;

/// `POST /reservations/{id}/cancellation` (admin): the organiser cancels a confirmed sale. In one
/// transaction the reservation becomes REFUND_REQUIRED, everything it bought goes back on sale
/// and its tickets are revoked at the door; a ticket already let in makes it 409
/// `ALREADY_CHECKED_IN`, a reservation that is not CONFIRMED 409 `WRONG_STATE`.
pub async fn cancel_sale<S: Reservations + Door + Catalog>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    require_admin(&req)?;
    let id: ReservationId = path_id(&req, "id", "reservation")?;
    let body: CancelSaleBody = json_body(&req)?;
    let reason = crate::domain::error::text("reason", &body.reason, MAX_REASON)?;
    let reservation = store
        .reservation(id)
        .await?
        .ok_or(ApiError::NotFound("reservation"))?;
    if reservation.status != ReservationStatus::Confirmed {
        return Err(ApiError::conflict(
            "WRONG_STATE",
            "only a confirmed sale can be cancelled by the organiser; a hold is cancelled by its customer or expires",
        ));
    }
    let (tickets, products) =
        futures::try_join!(store.tickets(id), store.products(reservation.event_id))?;
    let cancelled = store
        .cancel_sale(
            &reservation,
            &tickets,
            &reason,
            &super::purchase::counted(&products),
            crate::clock::now(),
        )
        .await?;
    json(StatusCode::OK, &cancelled)
}
