//! Storage ports (traits in domain terms) and their DynamoDB adapter.
//!
//! The key design is written down in `docs/data-model.md`.

mod audit;
mod changes;
mod cursor;
mod door;
mod dynamo;
mod error;
mod expiries;
mod item;
pub mod keys;
mod requests;
mod reservations;
mod timeline;
pub mod transact;
mod vouchers;
mod waitlist;

use std::{collections::BTreeMap, future::Future};

pub use audit::{Audit, Violation};
pub use changes::{Stored, stored};
pub use door::Door;
pub use dynamo::DynamoStore;
pub use error::StoreError;
pub use expiries::{Due, Expiries};
pub use requests::{BatchContext, Requests, SectorState};
pub use reservations::{
    Begun, CLAIM_LEASE_SECONDS, CheckoutAttempt, Claim, Refused, Reservations, StoredResponse,
    TakenAgain, WriteError,
};
pub use timeline::Timeline;
pub use vouchers::{VoucherUse, Vouchers};
pub use waitlist::Waitlist;

use crate::domain::{Event, EventId, Product, ProductId, Seat, SectorCode, Session, SessionId};

/// One page of a list and the opaque cursor of the next, if there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// A session with the places still available in each sector, read at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionStock {
    pub session: Session,
    pub available: BTreeMap<SectorCode, u32>,
    /// What each sector has sold and given back.
    pub counts: BTreeMap<SectorCode, SectorCounts>,
}

/// A sector's sales figures, in tickets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SectorCounts {
    pub sold: u32,
    pub expired: u32,
    pub cancelled: u32,
    /// Let in at the door.
    pub entered: u32,
    /// What vouchers took off the tickets sold (cents).
    pub discounts: i64,
    /// Standing places the sector's waiting list waits for, and places kept for it.
    pub waiting: i64,
    pub returned: i64,
}

/// The catalog a customer browses: events, their sessions and sectors, seats and products.
pub trait Catalog: Sync {
    /// Stores a new event; `ConditionFailed` if its id is taken.
    fn put_event(&self, event: &Event) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn event(&self, id: EventId) -> impl Future<Output = Result<Option<Event>, StoreError>> + Send;
    /// Replaces a stored event (the last edit wins); `ConditionFailed` if there is none.
    fn replace_event(&self, event: &Event) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Events, newest first.
    fn events(
        &self,
        limit: u32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Page<Event>, StoreError>> + Send;

    /// Stores a session with its sectors and every seat; the session becomes visible last.
    fn put_session(&self, session: &Session)
    -> impl Future<Output = Result<(), StoreError>> + Send;
    fn session(
        &self,
        id: SessionId,
    ) -> impl Future<Output = Result<Option<Session>, StoreError>> + Send;
    /// The session with each sector's places still available.
    fn session_stock(
        &self,
        id: SessionId,
    ) -> impl Future<Output = Result<Option<SessionStock>, StoreError>> + Send;
    /// Sessions of an event, earliest first.
    fn sessions_of(
        &self,
        event: EventId,
    ) -> impl Future<Output = Result<Vec<Session>, StoreError>> + Send;
    /// Every seat of a numbered sector, row by row.
    fn seats(
        &self,
        session: &Session,
        sector: &crate::domain::Sector,
    ) -> impl Future<Output = Result<Vec<Seat>, StoreError>> + Send;

    /// A numbered sector's seat map: its blocks in row order (a sector created before maps were
    /// kept is drawn from its seats).
    fn seat_map(
        &self,
        session: &Session,
        sector: &crate::domain::Sector,
    ) -> impl Future<Output = Result<Vec<crate::domain::seat_map::MapBlock>, StoreError>> + Send;
    fn put_product(&self, product: &Product)
    -> impl Future<Output = Result<(), StoreError>> + Send;
    fn product(
        &self,
        id: ProductId,
    ) -> impl Future<Output = Result<Option<Product>, StoreError>> + Send;
    /// Products to suggest with a hold: may be up to a few seconds old.
    fn suggestable_products(
        &self,
        event: EventId,
    ) -> impl Future<Output = Result<Vec<Product>, StoreError>> + Send;
    /// Products of an event, oldest first.
    fn products(
        &self,
        event: EventId,
    ) -> impl Future<Output = Result<Vec<Product>, StoreError>> + Send;
}
