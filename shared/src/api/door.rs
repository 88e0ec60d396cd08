//! The door's routes: a gate's scan (`POST /checkins`) and the kit a scanner downloads to check
//! tickets offline (`GET /sessions/{id}/checkin-kit`), for staff; the tickets let in twice, for
//! the organiser.

use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, Response, http::HeaderValue, http::StatusCode};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

use tokio::sync::RwLock;

use super::{ApiError, json, json_body, path_id, require_staff};
use crate::{
    domain::{Admission, CodeError, DoorKey, DoorKeys, Invalid, Scan, SessionId, Verdict},
    store::{Catalog, Door},
};

/// The public keys a check-in function verifies with: read once, and again when a code names a
/// key it has not seen (a key rotated since), at most once every [`REREAD`]: made-up key ids
/// cost no more reads than that.
#[derive(Default)]
pub struct KeyRing {
    keys: RwLock<Option<(DoorKeys, Instant)>>,
}

/// The least time between two reads of the keys.
const REREAD: Duration = Duration::from_secs(1);

impl KeyRing {
    /// What `code` admits, checked with the keys the box office signs with.
    async fn verify(&self, store: &impl Door, code: &str) -> Result<Admission, ApiError> {
        if let Some((keys, read_at)) = self.keys.read().await.as_ref() {
            match keys.verify(code) {
                Err(CodeError::UnknownKey(_)) if read_at.elapsed() >= REREAD => {}
                checked => return checked.map_err(refused),
            }
        }
        let keys = DoorKeys::new(store.door_keys().await?);
        let checked = keys.verify(code);
        *self.keys.write().await = Some((keys, Instant::now()));
        checked.map_err(refused)
    }
}

fn refused(err: CodeError) -> ApiError {
    Invalid::new("code", format!("is not a valid ticket: {err}")).into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanInput {
    session_id: SessionId,
    code: String,
    gate: String,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    scanned_at: Option<DateTime<Utc>>,
}

/// `POST /checkins`: lets a ticket's holder in, once. 201 with the entry; the same scan uploaded
/// again is 200 with it (`Idempotent-Replayed`); a second scan is 409 `ALREADY_CHECKED_IN` with
/// the first entry; a revoked ticket 409 `TICKET_REVOKED`; a ticket of another session 409
/// `WRONG_SESSION`; a code that is not one of ours 422.
pub async fn check_in(
    req: Request,
    store: &impl Door,
    ring: &KeyRing,
) -> Result<Response<Body>, ApiError> {
    let staff = require_staff(&req)?;
    let input: ScanInput = json_body(&req)?;
    let now = crate::clock::now();
    let scan = Scan::new(
        input.session_id,
        input.code,
        input.gate,
        input.nonce,
        input.scanned_at,
        now,
    )?;
    let admission = ring.verify(store, &scan.code).await?;
    if admission.session != scan.session {
        return Err(ApiError::conflict(
            "WRONG_SESSION",
            format!("this ticket is for session {}", admission.session),
        ));
    }
    match store
        .check_in(&scan.entry(&admission, staff.name(), now))
        .await?
    {
        Verdict::Admitted(entry) => json(StatusCode::CREATED, &entry),
        Verdict::Replayed(entry) => {
            let mut resp = json(StatusCode::OK, &entry)?;
            resp.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            Ok(resp)
        }
        Verdict::AlreadyIn { first, conflict } => Err(ApiError::AlreadyCheckedIn {
            first: Box::new(first),
            conflict,
        }),
        Verdict::Revoked { at } => Err(ApiError::conflict(
            "TICKET_REVOKED",
            format!(
                "this ticket was revoked at {}: its reservation was cancelled or refunded",
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        )),
    }
}

/// What a scanner needs to check a session's tickets with no network.
#[derive(Serialize)]
struct CheckinKit {
    session_id: SessionId,
    keys: Vec<DoorKey>,
    revoked: Vec<crate::domain::TicketId>,
    generated_at: DateTime<Utc>,
}

/// `GET /sessions/{id}/checkin-kit`: the public keys and the session's revoked tickets.
pub async fn checkin_kit(
    req: Request,
    store: &(impl Catalog + Door),
) -> Result<Response<Body>, ApiError> {
    require_staff(&req)?;
    let id: SessionId = path_id(&req, "id", "session")?;
    store
        .session(id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    let (keys, revoked) = futures::try_join!(store.door_keys(), store.revoked(id))?;
    json(
        StatusCode::OK,
        &CheckinKit {
            session_id: id,
            keys,
            revoked,
            generated_at: crate::clock::now(),
        },
    )
}

#[derive(Serialize)]
struct Conflicts {
    session_id: SessionId,
    items: Vec<crate::domain::Conflict>,
}

/// `GET /sessions/{id}/checkins/conflicts` (admin): tickets let in twice by offline scanners,
/// each with the entry that counted and the scan that came second, oldest first.
pub async fn checkin_conflicts(
    req: Request,
    store: &(impl Catalog + Door),
) -> Result<Response<Body>, ApiError> {
    super::require_admin(&req)?;
    let id: SessionId = path_id(&req, "id", "session")?;
    store
        .session(id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    let mut items = store.conflicts(id).await?;
    items.sort_by_key(|c| c.second.recorded_at);
    json(
        StatusCode::OK,
        &Conflicts {
            session_id: id,
            items,
        },
    )
}
