//! Queued ticket requests of a flash sale: asked for in order, served in that order.

use chrono::{DateTime, Utc};

use super::reservation::MAX_TICKETS_PER_RESERVATION;
use serde::{Deserialize, Serialize};

use super::{HoldError, Invalid, RequestId, ReservationId, SectorCode, Session, SessionId};

/// A customer's ask: `quantity` tickets in one sector, best available.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRequest {
    pub request_id: RequestId,
    pub customer: String,
    pub session_id: SessionId,
    pub sector: SectorCode,
    pub quantity: u32,
    pub requested_at: DateTime<Utc>,
    /// Its number in the sector's line (`domain::line`), drawn as it joined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
}

impl TicketRequest {
    /// Checks the ask against the session: sale open, sector known, quantity within limits.
    pub fn create(
        session: &Session,
        customer: &str,
        sector: &str,
        quantity: i64,
        now: DateTime<Utc>,
    ) -> Result<Self, HoldError> {
        if !session.sale.is_open(now) {
            return Err(HoldError::SaleClosed);
        }
        let sector = session.sector(sector).ok_or_else(|| {
            Invalid::new("sector", format!("no sector `{sector}` in this session"))
        })?;
        let most = MAX_TICKETS_PER_RESERVATION.min(u32::from(session.max_tickets_per_customer));
        let quantity = u32::try_from(quantity)
            .ok()
            .filter(|q| (1..=MAX_TICKETS_PER_RESERVATION).contains(q))
            .ok_or_else(|| Invalid::new("quantity", format!("must be between 1 and {most}")))?;
        if quantity > u32::from(session.max_tickets_per_customer) {
            return Err(HoldError::OverCustomerLimit {
                limit: session.max_tickets_per_customer,
            });
        }
        Ok(Self {
            request_id: RequestId::generate(),
            customer: customer.to_owned(),
            session_id: session.id,
            sector: sector.code.clone(),
            quantity,
            requested_at: now,
            number: None,
        })
    }

    /// The reservation a fulfilled request creates shares the request's id: a redelivered
    /// request finds it there and never makes a second one.
    pub fn reservation_id(&self) -> ReservationId {
        ReservationId::from_ulid(self.request_id.ulid())
    }

    /// The FIFO message group: one per session and sector, so sectors sell in parallel and each
    /// sector's requests keep their order.
    pub fn group(&self) -> String {
        format!("{}#{}", self.session_id, self.sector)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestStatus {
    Queued,
    Fulfilled,
    Rejected,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RejectReason {
    /// Nothing left in the sector.
    SoldOut,
    /// Places or seats are left, but fewer than the request asks for.
    NotEnoughLeft,
    LimitExceeded,
    SaleClosed,
    /// The message could not be read or names nothing that exists.
    Invalid,
    /// The consumer kept failing on it and the queue gave it up to the dead-letter queue.
    Failed,
}

/// A request and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    #[serde(flatten)]
    pub request: TicketRequest,
    pub status: RequestStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<ReservationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RejectReason>,
    /// The queue's sequence number of the message, once handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
}

impl RequestRecord {
    pub fn queued(request: TicketRequest) -> Self {
        Self {
            request,
            status: RequestStatus::Queued,
            reservation_id: None,
            reason: None,
            sequence: None,
            decided_at: None,
        }
    }

    pub fn fulfilled(request: TicketRequest, sequence: Option<String>, now: DateTime<Utc>) -> Self {
        let reservation_id = Some(request.reservation_id());
        Self {
            request,
            status: RequestStatus::Fulfilled,
            reservation_id,
            reason: None,
            sequence,
            decided_at: Some(now),
        }
    }

    pub fn rejected(
        request: TicketRequest,
        reason: RejectReason,
        sequence: Option<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            request,
            status: RequestStatus::Rejected,
            reservation_id: None,
            reason: Some(reason),
            sequence,
            decided_at: Some(now),
        }
    }

    pub fn is_decided(&self) -> bool {
        self.status != RequestStatus::Queued
    }
}
