//! Voucher routes: organisers create, list and change an event's promo codes; a customer applies
//! one to a held reservation, or gives it back.

use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, Response, http::StatusCode};
use serde::{Deserialize, Serialize};

use super::{
    ApiError,
    catalog::given,
    created, json, json_body, path_id, path_param,
    purchase::{ReservationView, own_reservation, still_held},
    require_admin,
};
use crate::{
    domain::{
        Currency, Discount, EventId, Invalid, Money, NewVoucher, Voucher, VoucherChanges,
        VoucherCode, voucher::VoucherRefusal,
    },
    store::{Catalog, Refused, Reservations, Vouchers, WriteError},
};

/// Attempts at applying a code that an organiser changed meanwhile.
const APPLY_ROUNDS: u32 = 3;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixedBody {
    cents: i64,
    currency: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum DiscountBody {
    Percent(i64),
    Fixed(FixedBody),
}

impl DiscountBody {
    fn into_discount(self) -> Result<Discount, Invalid> {
        Ok(match self {
            DiscountBody::Percent(p) => Discount::Percent(
                u8::try_from(p)
                    .map_err(|_| Invalid::new("discount.percent", "must be between 1 and 100"))?,
            ),
            DiscountBody::Fixed(FixedBody { cents, currency }) => Discount::Fixed(Money {
                cents,
                currency: match currency {
                    Some(code) => {
                        Currency::try_from(code).map_err(|e| e.within("discount.fixed"))?
                    }
                    None => Currency::default(),
                },
            }),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateVoucherBody {
    code: String,
    discount: DiscountBody,
    #[serde(default)]
    sectors: Vec<String>,
    valid_from: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
    max_uses: i64,
    max_per_customer: Option<i64>,
}

fn code_in_path(req: &Request) -> Result<VoucherCode, ApiError> {
    path_param(req, "code")
        .and_then(|c| c.parse().ok())
        .ok_or(ApiError::NotFound("voucher"))
}

/// `POST /events/{id}/vouchers` (admin): a new code for the event's tickets.
pub async fn create_voucher<S: Catalog + Vouchers>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    require_admin(&req)?;
    let event_id: EventId = path_id(&req, "id", "event")?;
    let body: CreateVoucherBody = json_body(&req)?;
    let voucher = Voucher::create(
        event_id,
        NewVoucher {
            code: body.code,
            discount: body.discount.into_discount()?,
            sectors: body.sectors,
            valid_from: body.valid_from,
            valid_until: body.valid_until,
            max_uses: body.max_uses,
            max_per_customer: body.max_per_customer,
        },
        crate::clock::now(),
    )?;
    store
        .event(event_id)
        .await?
        .ok_or(ApiError::NotFound("event"))?;
    if !voucher.sectors.is_empty() {
        let sessions = store.sessions_of(event_id).await?;
        if let Some((i, unknown)) = voucher
            .sectors
            .iter()
            .enumerate()
            .find(|(_, code)| !sessions.iter().any(|s| s.sector(code.as_str()).is_some()))
        {
            return Err(Invalid::new(
                format!("sectors[{i}]"),
                format!("no session of this event has a sector `{unknown}`"),
            )
            .into());
        }
    }
    if !store.create_voucher(&voucher).await? {
        return Err(ApiError::conflict(
            "VOUCHER_EXISTS",
            format!("the event has a code {} already", voucher.code),
        ));
    }
    created(
        &format!("/events/{event_id}/vouchers/{}", voucher.code),
        &voucher,
    )
}

#[derive(Serialize)]
struct VoucherList {
    items: Vec<Voucher>,
}

/// `GET /events/{id}/vouchers` (admin): the event's codes with their uses.
pub async fn list_vouchers<S: Catalog + Vouchers>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    require_admin(&req)?;
    let event_id: EventId = path_id(&req, "id", "event")?;
    store
        .event(event_id)
        .await?
        .ok_or(ApiError::NotFound("event"))?;
    json(
        StatusCode::OK,
        &VoucherList {
            items: store.vouchers(event_id).await?,
        },
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeVoucherBody {
    #[serde(default, deserialize_with = "given")]
    max_uses: Option<i64>,
    #[serde(default, deserialize_with = "given")]
    max_per_customer: Option<i64>,
    /// Absent keeps the start; null removes it.
    #[serde(default, deserialize_with = "given")]
    valid_from: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "given")]
    valid_until: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "given")]
    active: Option<bool>,
}

/// `PATCH /events/{id}/vouchers/{code}` (admin): its limits, window or state; its discount and
/// sectors stay what customers were given.
pub async fn change_voucher<S: Vouchers>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    require_admin(&req)?;
    let event_id: EventId = path_id(&req, "id", "event")?;
    let code = code_in_path(&req)?;
    let body: ChangeVoucherBody = json_body(&req)?;
    let changes = VoucherChanges {
        max_uses: body.max_uses,
        max_per_customer: body.max_per_customer,
        valid_from: body.valid_from,
        valid_until: body.valid_until,
        active: body.active,
    };
    for _ in 0..APPLY_ROUNDS {
        let voucher = store
            .voucher(event_id, &code)
            .await?
            .ok_or(ApiError::NotFound("voucher"))?;
        let changed = voucher.changed(changes.clone())?;
        if store.change_voucher(&voucher, &changed).await? {
            return json(StatusCode::OK, &changed);
        }
    }
    Err(ApiError::conflict(
        "VOUCHER_CHANGED",
        "the code keeps changing; read it and try again",
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplyBody {
    code: String,
}

impl From<VoucherRefusal> for ApiError {
    fn from(refusal: VoucherRefusal) -> Self {
        let code = match refusal {
            VoucherRefusal::Inactive | VoucherRefusal::NotYet(_) | VoucherRefusal::Ended(_) => {
                "VOUCHER_NOT_VALID"
            }
            VoucherRefusal::NotApplicable => "VOUCHER_NOT_APPLICABLE",
            VoucherRefusal::UsedUp => "VOUCHER_USED_UP",
        };
        ApiError::conflict(code, refusal.to_string())
    }
}

/// `PUT /reservations/{id}/voucher`: the owner applies a code to a held reservation (replacing
/// the one it had). The use counts from now, in the same transaction; it is given back if the
/// hold expires or is cancelled.
pub async fn apply_voucher<S: Reservations + Vouchers>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    let (_, mut reservation) = own_reservation(&req, store, false).await?;
    let body: ApplyBody = json_body(&req)?;
    let code: VoucherCode = body.code.parse()?;
    for _ in 0..APPLY_ROUNDS {
        let now = crate::clock::now();
        still_held(&reservation, now)?;
        if reservation.voucher.as_ref().is_some_and(|v| v.code == code) {
            break;
        }
        let voucher = store
            .voucher(reservation.event_id, &code)
            .await?
            .ok_or_else(|| Invalid::new("code", "no such code for this event"))?;
        let applied = voucher.apply_to(&reservation, now)?;
        match store
            .apply_voucher(&reservation, &voucher, applied, now)
            .await
        {
            Ok(updated) => {
                reservation = updated;
                break;
            }
            // The code changed (or its last use went) since it was read: read it again.
            Err(WriteError::Refused(Refused::VoucherUsedUp)) => {}
            Err(WriteError::Refused(Refused::Changed)) => {
                reservation = store
                    .reservation(reservation.id)
                    .await?
                    .ok_or(ApiError::NotFound("reservation"))?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    if reservation.voucher.as_ref().is_none_or(|v| v.code != code) {
        return Err(ApiError::conflict(
            "RESERVATION_CHANGED",
            "the reservation or the code keeps changing; try again",
        ));
    }
    json(StatusCode::OK, &ReservationView::new(&reservation))
}

/// `DELETE /reservations/{id}/voucher`: the owner gives the code back; the full price applies.
pub async fn remove_voucher<S: Reservations + Vouchers>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    let (_, reservation) = own_reservation(&req, store, false).await?;
    let now = crate::clock::now();
    still_held(&reservation, now)?;
    if reservation.voucher.is_none() {
        return json(StatusCode::OK, &ReservationView::new(&reservation));
    }
    let updated = store.remove_voucher(&reservation, now).await?;
    json(StatusCode::OK, &ReservationView::new(&updated))
}
