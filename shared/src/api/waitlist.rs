//! Waiting-list routes: a fan joins a sold-out sector's line, sees where they stand and any
//! offer made to them, or leaves; and the consumer that offers places that come back.

use std::collections::BTreeSet;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::{Body, Request, Response, http::StatusCode};
use serde::{Deserialize, Serialize};

use super::{ApiError, Identity, created, json, json_body, path_id, path_param};
use crate::{
    config::Sales,
    domain::{EntryStatus, SectorCode, SessionId, WaitlistEntry, waitlist::JoinError},
    store::{Catalog, StoreError, Waitlist},
};

impl From<JoinError> for ApiError {
    fn from(err: JoinError) -> Self {
        match err {
            JoinError::Invalid(invalid) => ApiError::Invalid(invalid),
            JoinError::SaleClosed => {
                ApiError::conflict("SALE_CLOSED", "the sale of this session is not open now")
            }
        }
    }
}

/// An entry as its fan sees it: with their place in line while waiting.
#[derive(Serialize)]
struct EntryView<'a> {
    #[serde(flatten)]
    entry: &'a WaitlistEntry,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<u64>,
}

async fn view<'a, S: Waitlist>(
    store: &S,
    entry: &'a WaitlistEntry,
) -> Result<EntryView<'a>, ApiError> {
    let position = match entry.status {
        EntryStatus::Waiting => Some(store.position(entry).await?),
        _ => None,
    };
    Ok(EntryView { entry, position })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinBody {
    sector: String,
    quantity: i64,
}

/// `POST /sessions/{id}/waitlist`: the caller waits for `quantity` places of a sold-out
/// general-admission sector.
pub async fn join_waitlist<S: Catalog + Waitlist>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    let me = Identity::of(&req).ok_or(ApiError::Unauthorized)?;
    let id: SessionId = path_id(&req, "id", "session")?;
    let body: JoinBody = json_body(&req)?;
    let stock = store
        .session_stock(id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    let entry = WaitlistEntry::join(
        &stock.session,
        &body.sector,
        &me.sub,
        body.quantity,
        crate::clock::now(),
    )?;
    let available = stock.available.get(&entry.sector).copied().unwrap_or(0);
    if available >= entry.quantity {
        return Err(ApiError::conflict(
            "NOT_SOLD_OUT",
            format!(
                "{available} places of {} are on sale: hold them",
                entry.sector
            ),
        ));
    }
    if !store.join(&entry).await? {
        return Err(ApiError::conflict(
            "ALREADY_WAITING",
            format!("you are in the line of {} already", entry.sector),
        ));
    }
    created(
        &format!("/sessions/{id}/waitlist"),
        &view(store, &entry).await?,
    )
}

#[derive(Serialize)]
struct EntryList<'a> {
    items: Vec<EntryView<'a>>,
}

/// `GET /sessions/{id}/waitlist`: the caller's entries in the session's lines, each with its
/// place in line while waiting and the reservation offered to them once offered.
pub async fn my_waitlist<S: Catalog + Waitlist>(
    req: Request,
    store: &S,
) -> Result<Response<Body>, ApiError> {
    let me = Identity::of(&req).ok_or(ApiError::Unauthorized)?;
    let id: SessionId = path_id(&req, "id", "session")?;
    let session = store
        .session(id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    let mut entries = Vec::new();
    for sector in &session.sectors {
        if let Some(entry) = store.entry(id, &sector.code, &me.sub).await? {
            entries.push(entry);
        }
    }
    let mut items = Vec::new();
    for entry in &entries {
        items.push(view(store, entry).await?);
    }
    json(StatusCode::OK, &EntryList { items })
}

/// `DELETE /sessions/{id}/waitlist/{sector}`: the caller leaves a line; places kept for it go
/// to the next fan, or back on sale when nobody waits.
pub async fn leave_waitlist<S: Catalog + Waitlist>(
    req: Request,
    store: &S,
    sales: &Sales,
) -> Result<Response<Body>, ApiError> {
    let me = Identity::of(&req).ok_or(ApiError::Unauthorized)?;
    let id: SessionId = path_id(&req, "id", "session")?;
    let sector = path_param(&req, "sector")
        .and_then(|s| SectorCode::try_from(s.to_owned()).ok())
        .ok_or(ApiError::NotFound("waiting-list entry"))?;
    let entry = store
        .entry(id, &sector, &me.sub)
        .await?
        .ok_or(ApiError::NotFound("waiting-list entry"))?;
    if entry.status != EntryStatus::Waiting || !store.leave(&entry).await? {
        return Err(ApiError::conflict(
            "NOT_WAITING",
            "you are not in this line any more: see your entry",
        ));
    }
    let session = store
        .session(id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    store
        .serve_line(&session, &sector, sales.waitlist_offer, crate::clock::now())
        .await?;
    let left = WaitlistEntry {
        status: EntryStatus::Left,
        ..entry
    };
    json(
        StatusCode::OK,
        &EntryView {
            entry: &left,
            position: None,
        },
    )
}

/// The seats and places a domain event says came back: its session and their sectors.
#[derive(Deserialize)]
struct Returned {
    session_id: SessionId,
    #[serde(default)]
    seats: Vec<Place>,
    #[serde(default)]
    places: Vec<Place>,
}

#[derive(Deserialize)]
struct Place {
    sector: SectorCode,
}

#[derive(Deserialize)]
struct Envelope {
    detail: Returned,
}

/// The waiting-list consumer: for each domain event of places coming back (an expiry, a
/// cancellation, a refund), serves the lines of its sectors. Serving reads what the table has,
/// so a redelivered event offers nothing twice. A record that fails goes back to the queue.
pub async fn offer_returned<S: Catalog + Waitlist>(
    event: SqsEvent,
    store: &S,
    sales: &Sales,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let served = async {
            let body = record.body.as_deref().unwrap_or_default();
            let Ok(Envelope { detail }) = serde_json::from_str::<Envelope>(body) else {
                tracing::warn!(message = %id, "not a domain event of places: skipped");
                return Ok::<_, StoreError>(());
            };
            let sectors: BTreeSet<SectorCode> = detail
                .seats
                .into_iter()
                .chain(detail.places)
                .map(|p| p.sector)
                .collect();
            if sectors.is_empty() {
                return Ok(());
            }
            let Some(session) = store.session(detail.session_id).await? else {
                return Ok(());
            };
            for sector in sectors {
                let offers = store
                    .serve_line(&session, &sector, sales.waitlist_offer, crate::clock::now())
                    .await?;
                for offer in offers {
                    tracing::info!(reservation = %offer.id, customer = %offer.customer, sector = %sector, "offered from the waiting list");
                }
            }
            Ok(())
        };
        if let Err(e) = served.await {
            tracing::error!(message = %id, error = %e, "waiting list not served: retried");
            response
                .batch_item_failures
                .push(crate::consumer::failure(record));
        }
    }
    response
}
