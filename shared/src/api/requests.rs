//! Flash-sale routes: ask for tickets in a queue, then follow the request until it is decided.

use lambda_http::{Body, Request, Response, http::StatusCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use chrono::{DateTime, Utc};
use futures::future::try_join_all;

use super::{
    ApiError, Identity,
    idempotency::{idempotency_key, once, unless_answered},
    json, json_body, path_id, require_admin,
};
use crate::{
    domain::{
        Line, Position, RequestId, RequestRecord, SectorCode, SessionId, TicketRequest, line,
    },
    queue::{QueueDepth, RequestQueue},
    store::{Catalog, Requests, Reservations},
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestBody {
    sector: String,
    quantity: i64,
}

#[derive(Serialize)]
struct RequestView<'a> {
    #[serde(flatten)]
    record: &'a RequestRecord,
    /// While QUEUED: its place in the sector's line and the estimated wait.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    position: Option<Position>,
    status_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reservation_url: Option<String>,
}

impl<'a> RequestView<'a> {
    /// The record, with its place in line while it waits (the line as this process read it
    /// within the last second).
    async fn new<S: Requests>(record: &'a RequestRecord, store: &S) -> Result<Self, ApiError> {
        let request = &record.request;
        let position = match (record.is_decided(), request.number) {
            (false, Some(number)) => {
                let line = store.line(request.session_id, &request.sector).await?;
                Some(Line::position(line.as_ref(), number))
            }
            _ => None,
        };
        Ok(Self {
            status_url: format!("/requests/{}", request.request_id),
            reservation_url: record
                .reservation_id
                .map(|id| format!("/reservations/{id}")),
            position,
            record,
        })
    }
}

/// `POST /sessions/{id}/requests`: joins the queue for `quantity` best-available tickets in a
/// sector. 202 with the request's status URL. With `Idempotency-Key`, a retried POST is the same
/// request.
pub async fn request_tickets<S, Q>(
    req: Request,
    store: &S,
    queue: &Q,
) -> Result<Response<Body>, ApiError>
where
    S: Catalog + Requests + Reservations,
    Q: RequestQueue,
{
    let me = Identity::of(&req).ok_or(ApiError::Unauthorized)?;
    let session_id: SessionId = path_id(&req, "id", "session")?;
    let body: RequestBody = json_body(&req)?;
    let key = idempotency_key(&req)?;
    let hash = hex::encode(Sha256::digest(
        format!("{session_id}\n{}\n{}", body.sector, body.quantity).as_bytes(),
    ));
    let checked = async {
        let session = store
            .session(session_id)
            .await?
            .ok_or(ApiError::NotFound("session"))?;
        let request = TicketRequest::create(
            &session,
            &me.sub,
            &body.sector,
            body.quantity,
            crate::clock::now(),
        )?;
        // Nothing left: the queue would refuse it at its turn; the fan learns it now.
        if store.marked_sold_out(session.id, &request.sector).await? {
            return Err(ApiError::NotAvailable {
                code: "SOLD_OUT",
                detail: format!("{} is sold out", request.sector),
                unavailable: vec![request.sector.to_string()],
            });
        }
        Ok::<_, ApiError>((request, usize::from(session.max_waiting_per_customer)))
    };
    let (request, cap) = match checked.await {
        Ok(checked) => checked,
        Err(refusal) => {
            return unless_answered(refusal, store, &me.sub, key.as_deref(), &hash).await;
        }
    };
    let enqueue = |request: TicketRequest| async move {
        let (session, customer, id) = (
            request.session_id,
            request.customer.clone(),
            request.request_id,
        );
        // The number is drawn while the customer's place is checked: a refused request only
        // leaves a gap in the numbers.
        let (joined, number) = futures::try_join!(
            store.join_line(session, &customer, id, cap),
            store.draw_number(session, &request.sector, line::counter_of(id))
        )?;
        if !joined {
            return Err(ApiError::conflict(
                "TOO_MANY_WAITING",
                format!(
                    "you have {cap} requests waiting in this session's lines: ask again once one is decided"
                ),
            ));
        }
        let request = TicketRequest {
            number: Some(number),
            ..request
        };
        // Sent first: a message always reaches a decision; the QUEUED record only shows it waiting.
        if let Err(e) = queue.send(&request).await {
            // Nothing was queued: it does not count against the customer.
            store.leave_line(session, &customer, id).await?;
            return Err(e.into());
        }
        let record = store.queue_request(RequestRecord::queued(request)).await?;
        json(
            StatusCode::ACCEPTED,
            &RequestView::new(&record, store).await?,
        )
    };
    match key {
        None => enqueue(request).await,
        // Named after the key: a retry that takes over a stopped attempt asks for the same request.
        Some(key) => {
            once(store, &me.sub, &key, &hash, |first_claimed| {
                enqueue(TicketRequest {
                    request_id: RequestId::for_key(&me.sub, &key, first_claimed),
                    ..request
                })
            })
            .await
        }
    }
}

/// `GET /requests/{id}`: the owner's request: QUEUED, FULFILLED (with its reservation) or REJECTED
/// (with the reason).
pub async fn get_request<S: Requests>(req: Request, store: &S) -> Result<Response<Body>, ApiError> {
    let me = Identity::of(&req).ok_or(ApiError::Unauthorized)?;
    let id: RequestId = path_id(&req, "id", "request")?;
    let record = store
        .request(id)
        .await?
        .filter(|r| r.request.customer == me.sub)
        .ok_or(ApiError::NotFound("request"))?;
    json(StatusCode::OK, &RequestView::new(&record, store).await?)
}

#[derive(Serialize)]
struct SectorLine {
    sector: SectorCode,
    /// When the sector's longest-waiting request was made, and how long ago (seconds).
    oldest_requested_at: Option<DateTime<Utc>>,
    oldest_age_seconds: Option<i64>,
}

#[derive(Serialize)]
struct SaleQueue {
    session_id: SessionId,
    at: DateTime<Utc>,
    /// The request queue's messages, every session's (SQS's approximate figures).
    queue: QueueDepth,
    /// The session's sectors, each with the age of its line.
    sectors: Vec<SectorLine>,
    /// The oldest of the sectors' ages.
    oldest_age_seconds: Option<i64>,
}

/// `GET /sessions/{id}/sales/queue` (admin): the flash-sale line: the queue's depth from SQS and,
/// per sector, the request waiting longest (one GetItem, one GetQueueAttributes, a one-item
/// Query a sector).
pub async fn get_queue<S, Q>(req: Request, store: &S, queue: &Q) -> Result<Response<Body>, ApiError>
where
    S: Catalog + Requests,
    Q: RequestQueue,
{
    require_admin(&req)?;
    let id: SessionId = path_id(&req, "id", "session")?;
    let session = store
        .session(id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    let now = crate::clock::now();
    let oldest = try_join_all(
        session
            .sectors
            .iter()
            .map(|sector| store.oldest_queued(id, &sector.code)),
    );
    let (depth, oldest) = futures::try_join!(queue.depth(), oldest)?;
    let sectors: Vec<SectorLine> = session
        .sectors
        .iter()
        .zip(oldest)
        .map(|(sector, oldest)| {
            let at = oldest.map(|r| r.request.requested_at);
            SectorLine {
                sector: sector.code.clone(),
                oldest_requested_at: at,
                oldest_age_seconds: at.map(|at| (now - at).num_seconds().max(0)),
            }
        })
        .collect();
    json(
        StatusCode::OK,
        &SaleQueue {
            session_id: id,
            at: now,
            queue: depth,
            oldest_age_seconds: sectors.iter().filter_map(|s| s.oldest_age_seconds).max(),
            sectors,
        },
    )
}
