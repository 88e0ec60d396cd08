//! Reservations in DynamoDB: the one-transaction hold, add-on changes, cancellation,
//! payment states and confirmation, each a single `TransactWriteItems`; and idempotency records.

use std::{
    collections::{HashMap, HashSet},
    future::Future,
};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    DynamoStore, Page, StoreError, cursor,
    dynamo::data,
    item::{Item, ShardItem},
    keys,
    transact::{Change, TransactError, create, n, s, transact},
};
use crate::domain::{
    Invoice, PlaceTickets, ProductId, ProductLine, RequestId, Reservation, ReservationId,
    ReservationStatus, SeatLabel, SectorCode, SessionId, Ticket, TicketId,
    reservation::PaymentRecord, stock,
};

/// Why the store refused a write: the state it found, not a fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Seats someone else holds or bought.
    Taken(Vec<(SectorCode, SeatLabel)>),
    /// General-admission sectors without enough places left.
    SoldOut(Vec<SectorCode>),
    /// The customer's tickets for the session would pass the limit.
    LimitExceeded,
    /// An add-on without enough stock.
    OutOfStock(ProductId),
    /// The reservation changed since it was read (state, version or hold time).
    Changed,
    /// A ticket of the reservation was let in at the door: it cannot be revoked.
    CheckedIn(TicketId),
    /// The voucher has no use left (or changed since it was read).
    VoucherUsedUp,
    /// The customer has used the voucher as often as they may.
    VoucherLimit,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("refused: {0:?}")]
    Refused(Refused),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Attempts at taking a hold's places from shards that changed between the read and the write.
const TAKE_ROUNDS: u32 = 3;

/// What a payment confirmed after its hold was released must take again within: the session's
/// per-customer limit and the add-ons whose stock is counted.
#[derive(Clone, Debug, Default)]
pub struct TakenAgain {
    pub limit: u8,
    pub counted: HashSet<ProductId>,
}

/// A stored response of an idempotent request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    /// A 201's `Location`, given again on a replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// A checkout as its reservation keeps it, in place of an idempotency record: the
/// `Idempotency-Key` it came with (which names its payment), a digest of what it asked, and
/// what a retry under the same key gets. The reservation keeps its latest attempt, kept small:
/// every later write of the reservation pays for its size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutAttempt {
    pub key: String,
    pub hash: String,
    /// When it began charging, or a retry took it over (epoch seconds).
    pub claimed_at: i64,
    /// It ended without an answer (the provider did not answer): a retry runs it again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retry: bool,
    /// The refusal it was answered with, replayed as it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<StoredResponse>,
}

/// What beginning a charge found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Begun {
    /// Charging under the attempt: the reservation as written.
    Charging(Reservation),
    /// Not begun: the reservation as it was, with the attempt it keeps; `None` if there is none.
    Refused(Option<(Reservation, Option<CheckoutAttempt>)>),
}

/// What claiming an idempotency key found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Go ahead: first use, or a takeover of a claim whose request stopped. `first_claimed` is
    /// when the key was first claimed, the same for every takeover.
    Fresh { first_claimed: DateTime<Utc> },
    /// The same request is being handled right now.
    InFlight,
    /// The same request was handled: here is its response.
    Done(StoredResponse),
    /// The key was used for a different request.
    Mismatch,
}

pub trait Reservations: Sync {
    /// Holds the reservation's seats and places: one transaction, all or nothing.
    fn hold(
        &self,
        reservation: &Reservation,
        limit: u8,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), WriteError>> + Send;
    fn reservation(
        &self,
        id: ReservationId,
    ) -> impl Future<Output = Result<Option<Reservation>, StoreError>> + Send;
    /// Replaces the add-ons of a held reservation, moving stock of `counted` products.
    fn set_products(
        &self,
        reservation: &Reservation,
        lines: Vec<ProductLine>,
        counted: &HashSet<ProductId>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Reservation, WriteError>> + Send;
    /// Cancels a held reservation: seats, places, add-on stock and the customer's count go back.
    fn cancel(
        &self,
        reservation: &Reservation,
        counted: &HashSet<ProductId>,
    ) -> impl Future<Output = Result<Reservation, WriteError>> + Send;
    /// Held (and within its hold) → charging under `attempt`, in one conditional write that
    /// answers with the reservation: as written, or as it was when it could not begin (with the
    /// attempt it keeps). An attempt whose key the reservation keeps begins again only if it
    /// ended without an answer (`retry`), or takes over one still charging whose claim is older
    /// than [`CLAIM_LEASE_SECONDS`].
    fn begin_charge(
        &self,
        id: ReservationId,
        customer: &str,
        attempt: &CheckoutAttempt,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Begun, StoreError>> + Send;
    /// The reservation and the checkout attempt it keeps.
    fn checkout_of(
        &self,
        id: ReservationId,
    ) -> impl Future<Output = Result<Option<(Reservation, Option<CheckoutAttempt>)>, StoreError>> + Send;
    /// Charging → held again: the provider declined or did not answer; nothing was charged.
    /// `attempt` is what a retry under its key gets: the refusal, or leave to run again.
    fn charge_undone(
        &self,
        reservation: &Reservation,
        attempt: &CheckoutAttempt,
    ) -> impl Future<Output = Result<Reservation, WriteError>> + Send;
    /// Charging → waiting for the PIX or boleto `payment` (with its instructions).
    fn await_payment(
        &self,
        reservation: &Reservation,
        payment: PaymentRecord,
    ) -> impl Future<Output = Result<Reservation, WriteError>> + Send;
    /// Waiting for payment → held again (the payment failed).
    fn payment_failed(
        &self,
        reservation: &Reservation,
    ) -> impl Future<Output = Result<Reservation, WriteError>> + Send;
    /// Paid: seats sold, tickets and invoice written. A payment after the sweep released the
    /// hold takes its seats, places, count (within the limit) and add-ons again in the same
    /// transaction, or is refused naming what is gone.
    fn confirm(
        &self,
        reservation: &Reservation,
        payment: PaymentRecord,
        tickets: &[Ticket],
        invoice: &Invoice,
        taken_again: &TakenAgain,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Reservation, WriteError>> + Send;
    /// Paid, but it cannot be confirmed: the money must go back, and whatever it still holds
    /// (seats, places, the customer's count, add-on stock) goes back on sale.
    fn refund_required(
        &self,
        reservation: &Reservation,
        payment: PaymentRecord,
        reason: &str,
        counted: &HashSet<ProductId>,
    ) -> impl Future<Output = Result<Reservation, WriteError>> + Send;
    /// Records that the money a REFUND_REQUIRED reservation was owed went back: by whom, when,
    /// and under which provider reference. Refused (`Changed`) unless it is still that version.
    fn refunded(
        &self,
        reservation: &Reservation,
        by: &str,
        at: DateTime<Utc>,
        reference: Option<&str>,
    ) -> impl Future<Output = Result<Reservation, WriteError>> + Send;
    /// A customer's reservations, newest first.
    fn reservations_of(
        &self,
        customer: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Page<Reservation>, StoreError>> + Send;
    /// A customer's tickets, newest first.
    fn tickets_of(
        &self,
        customer: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Page<Ticket>, StoreError>> + Send;
    /// A page of a session's tickets, sector by sector (in `sectors`' order), each sector's in
    /// the order they were issued; `after` is the cursor of the page before.
    fn session_tickets(
        &self,
        session: SessionId,
        sectors: &[SectorCode],
        limit: u32,
        after: Option<&str>,
    ) -> impl Future<Output = Result<Page<Ticket>, StoreError>> + Send;
    fn tickets(
        &self,
        reservation: ReservationId,
    ) -> impl Future<Output = Result<Vec<Ticket>, StoreError>> + Send;
    fn invoice(
        &self,
        reservation: ReservationId,
    ) -> impl Future<Output = Result<Option<Invoice>, StoreError>> + Send;

    /// Whether the provider's notice `status` of `payment` was handled already.
    fn notice_handled(
        &self,
        payment: &str,
        status: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Records that it was (kept 30 days, far past the notices' signing tolerance).
    fn notice_done(
        &self,
        payment: &str,
        status: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Claims `key` for the request with `hash` (kept a day).
    fn claim(
        &self,
        customer: &str,
        key: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;
    /// Stores the response of a claimed key.
    fn settle(
        &self,
        customer: &str,
        key: &str,
        response: &StoredResponse,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Lets a claimed key be used again by the same request (its attempt failed without an
    /// answer to keep); the key keeps the time it was first claimed.
    fn release(
        &self,
        customer: &str,
        key: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The response kept for `key`, if the request with `hash` was handled; claims nothing.
    fn answered(
        &self,
        customer: &str,
        key: &str,
        hash: &str,
    ) -> impl Future<Output = Result<Option<StoredResponse>, StoreError>> + Send;
}

/// The stored reservation: the domain value, the hold's end in epoch seconds for conditions,
/// and the sparse expiry index keys while it is live.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ReservationItem {
    #[serde(flatten)]
    pub(super) reservation: Reservation,
    pub(super) hold_expires_at: i64,
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    pub(super) gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    pub(super) gsi2sk: Option<String>,
    /// The latest checkout attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) checkout: Option<CheckoutAttempt>,
}

/// A ticket as written: listed among its sector's tickets on GSI2.
#[derive(Serialize)]
struct TicketItem<'a> {
    #[serde(flatten)]
    ticket: &'a Ticket,
    #[serde(rename = "GSI2PK")]
    gsi2pk: String,
    #[serde(rename = "GSI2SK")]
    gsi2sk: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct IdempotencyItem {
    request_hash: String,
    state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response: Option<StoredResponse>,
    /// When the request now running claimed the key (epoch seconds); 0 on a record written
    /// before claims had a lease, whose claim time is then `ttl - DAY`.
    #[serde(default)]
    claimed_at: i64,
    ttl: i64,
}

impl IdempotencyItem {
    /// When the key was first claimed: kept through takeovers, a day before the record expires.
    fn first_claimed(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.ttl - DAY, 0).unwrap_or_default()
    }

    fn claimed(&self) -> i64 {
        if self.claimed_at > 0 {
            self.claimed_at
        } else {
            self.ttl - DAY
        }
    }
}

/// A provider notice that was handled.
#[derive(Debug, Serialize, Deserialize)]
struct NoticeItem {
    handled_at: DateTime<Utc>,
    ttl: i64,
}

const DAY: i64 = 86_400;
/// The states of an idempotency record: its request is running, was answered, or failed
/// without an answer to keep (the next retry runs it again).
const IN_FLIGHT: &str = "IN_FLIGHT";
const DONE: &str = "DONE";
const RELEASED: &str = "RELEASED";
/// How long a claim stays with the request that made it: four times the timeout of any function
/// that claims keys (checkout 15 s, request-tickets 10 s), so a claim older than this belongs to
/// a process Lambda has stopped, and a retry takes it over.
pub const CLAIM_LEASE_SECONDS: i64 = 60;

pub(super) fn attribute<T: Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    Ok(serde_dynamo::to_attribute_value(value)?)
}

pub(super) fn status(value: ReservationStatus) -> Result<AttributeValue, StoreError> {
    attribute(&value)
}

/// Tickets of each sector in a reservation: (sector, tickets, `None` for seats or the shards its
/// places are on).
fn per_sector(reservation: &Reservation) -> Vec<(SectorCode, u32, Option<u32>)> {
    let mut sectors: Vec<(SectorCode, u32, Option<u32>)> = Vec::new();
    for seat in &reservation.seats {
        match sectors.iter_mut().find(|(c, _, _)| *c == seat.sector) {
            Some((_, count, _)) => *count += 1,
            None => sectors.push((seat.sector.clone(), 1, None)),
        }
    }
    for PlaceTickets {
        sector,
        quantity,
        shards,
        ..
    } in &reservation.places
    {
        sectors.push((sector.clone(), *quantity, Some(*shards)));
    }
    sectors
}

impl DynamoStore {
    pub(super) fn reservation_change(&self, reservation: &Reservation) -> Change {
        Change::on(
            &self.table,
            keys::reservation(reservation.id),
            keys::RESERVATION_SK,
        )
        .name("#status", "status")
        .value(":v", n(reservation.version))
        .value(":one", n(1))
    }

    pub(super) fn seat_change(
        &self,
        reservation: &Reservation,
        seat: &crate::domain::SeatTicket,
    ) -> Change {
        Change::on(
            &self.table,
            keys::seat_partition(reservation.session_id, &seat.sector, seat.block),
            &keys::seat_sk(seat.seat),
        )
        .name("#s", "state")
        .value(":rid", s(reservation.id.to_string()))
    }

    /// A seat the reservation holds (or, `from` SOLD, bought) back to free, or kept for its
    /// sector's waiting list when the sector is `to_line`.
    pub(super) fn seat_release(
        &self,
        reservation: &Reservation,
        seat: &crate::domain::SeatTicket,
        from: &str,
        to_line: &HashSet<SectorCode>,
    ) -> Change {
        let back = if to_line.contains(&seat.sector) {
            "KEPT"
        } else {
            "FREE"
        };
        self.seat_change(reservation, seat)
            .set("SET #s = :back REMOVE reservation_id, hold_expires_at")
            .when("#s = :from AND reservation_id = :rid")
            .value(":back", s(back))
            .value(":from", s(from))
    }

    fn stock_change(&self, reservation: &Reservation, sector: &SectorCode) -> Change {
        Change::on(
            &self.table,
            keys::sector(reservation.session_id, sector),
            keys::STOCK_SK,
        )
    }

    fn limit_change(&self, reservation: &Reservation) -> Change {
        Change::on(
            &self.table,
            keys::customer_limit(reservation.session_id, &reservation.customer),
            keys::LIMIT_SK,
        )
    }

    /// The customer's count for the session less the reservation's tickets.
    pub(super) fn uncount(&self, reservation: &Reservation) -> Change {
        self.limit_change(reservation)
            .set("ADD tickets :n")
            .value(":n", n(-i64::from(reservation.tickets())))
    }

    fn product_change(&self, product: ProductId) -> Change {
        Change::on(&self.table, keys::product(product), keys::PRODUCT_SK)
    }

    /// Runs a transaction of changes; on cancellation, the indexes whose conditions failed.
    pub(super) async fn write(&self, items: Vec<Change>) -> Result<Vec<usize>, StoreError> {
        let built = items
            .into_iter()
            .map(Change::build)
            .collect::<Result<Vec<_>, _>>()?;
        self.write_built(built).await
    }

    /// Runs a transaction whose conditions all guard one read: any failure means it changed.
    /// A single change is a conditional update, not a transaction.
    async fn write_unchanged(&self, mut items: Vec<Change>) -> Result<(), WriteError> {
        let applied = match items.len() {
            1 => items.remove(0).apply(&self.client).await?,
            _ => self.write(items).await?.is_empty(),
        };
        match applied {
            true => Ok(()),
            false => Err(WriteError::Refused(Refused::Changed)),
        }
    }

    /// Runs a transaction; on cancellation, the indexes whose conditions failed.
    pub(super) async fn write_built(
        &self,
        items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
    ) -> Result<Vec<usize>, StoreError> {
        match transact(&self.client, items).await {
            Ok(()) => Ok(Vec::new()),
            Err(TransactError::Cancelled(cancelled)) => Ok(cancelled.failed().collect()),
            Err(TransactError::Store(e)) => Err(e),
        }
    }

    pub(super) fn updated(reservation: &Reservation, status: ReservationStatus) -> Reservation {
        Reservation {
            status,
            version: reservation.version + 1,
            ..reservation.clone()
        }
    }
}

impl DynamoStore {
    /// The one-transaction hold; `extra` (a request's decision) is written in the same transaction.
    pub(super) async fn hold_with(
        &self,
        reservation: &Reservation,
        limit: u8,
        now: DateTime<Utc>,
        decision: Option<(RequestId, aws_sdk_dynamodb::types::TransactWriteItem)>,
    ) -> Result<(), WriteError> {
        // General-admission places come from their first shard; when it has too few, from the
        // shards as they are read, and again if they changed meanwhile.
        let mut takes: HashMap<SectorCode, Vec<(u32, u32)>> = reservation
            .places
            .iter()
            .filter(|p| p.shards > 0)
            .map(|p| {
                let first = stock::first_shard(reservation.id.spread(), p.shards);
                (p.sector.clone(), vec![(first, p.quantity)])
            })
            .collect();
        let mut round = 0;
        loop {
            let held = self
                .hold_once(reservation, limit, now, decision.clone(), &takes)
                .await;
            let Err(WriteError::Refused(Refused::SoldOut(sectors))) = &held else {
                return held;
            };
            round += 1;
            if round == TAKE_ROUNDS {
                return held;
            }
            // Fewer places in all than asked for, or a sector without shards: sold out.
            if !self.retake(reservation, sectors, &mut takes).await?
                || sectors.iter().any(|s| !takes.contains_key(s))
            {
                return held;
            }
        }
    }

    /// Plans the places of `sectors` again from the shards as they are now, starting from the
    /// reservation's first shard; whether each sector has enough.
    async fn retake(
        &self,
        reservation: &Reservation,
        sectors: &[SectorCode],
        takes: &mut HashMap<SectorCode, Vec<(u32, u32)>>,
    ) -> Result<bool, StoreError> {
        for p in reservation.places.iter().filter(|p| p.shards > 0) {
            if !sectors.contains(&p.sector) {
                continue;
            }
            let available = self
                .shards(reservation.session_id, &p.sector, p.shards)
                .await?;
            let first = stock::first_shard(reservation.id.spread(), p.shards);
            match stock::take(&available, p.quantity, first) {
                Some(planned) => {
                    takes.insert(p.sector.clone(), planned);
                }
                None => return Ok(false),
            }
        }
        Ok(true)
    }

    /// The places on sale on each of a sector's `shards` (strongly consistent).
    pub(super) async fn shards(
        &self,
        session: SessionId,
        sector: &SectorCode,
        shards: u32,
    ) -> Result<Vec<i64>, StoreError> {
        let keys = (0..shards)
            .map(|k| (keys::stock_shard(session, sector, k), keys::SHARD_SK))
            .collect();
        let mut available = vec![0; shards as usize];
        for shard in data::<ShardItem>(self.get_many(keys).await?)? {
            if let Some(a) = available.get_mut(shard.shard as usize) {
                *a = shard.available;
            }
        }
        Ok(available)
    }

    /// Adds `n` to the numbered sector's seat counter the reservation counts on.
    fn seat_counter(&self, reservation: &Reservation, sector: &SectorCode, n_seats: i64) -> Change {
        let counter = stock::first_shard(reservation.id.spread(), stock::SEAT_COUNTERS);
        self.shard_change(reservation.session_id, sector, counter)
            .set("SET code = :code, #shard = :shard ADD available :n")
            .name("#shard", "shard")
            .value(":code", s(sector.to_string()))
            .value(":shard", n(counter))
            .value(":n", n(n_seats))
    }

    pub(super) fn shard_change(
        &self,
        session: SessionId,
        sector: &SectorCode,
        shard: u32,
    ) -> Change {
        Change::on(
            &self.table,
            keys::stock_shard(session, sector, shard),
            keys::SHARD_SK,
        )
    }

    /// A new reservation's item: listed for its customer and, while live, for the sweep.
    pub(super) fn new_reservation_item(
        &self,
        reservation: &Reservation,
    ) -> Result<super::dynamo::Attributes, StoreError> {
        let expires = reservation.expires_at.timestamp();
        let (gsi2pk, gsi2sk) = keys::expiry(expires, reservation.id);
        let item = Item::new(
            keys::reservation(reservation.id),
            keys::RESERVATION_SK,
            ReservationItem {
                reservation: reservation.clone(),
                hold_expires_at: expires,
                gsi2pk: Some(gsi2pk),
                gsi2sk: Some(gsi2sk),
                checkout: None,
            },
        )
        .listed(
            keys::reservations_of(&reservation.customer),
            keys::RESERVATION_SK.to_owned() + "#" + &reservation.id.to_string(),
        );
        Ok(serde_dynamo::to_item(item)?)
    }

    /// The reservation's tickets added to its customer's count, within `limit`.
    pub(super) fn count_for(&self, reservation: &Reservation, limit: u8) -> Change {
        let tickets = reservation.tickets();
        self.limit_change(reservation)
            .set("ADD tickets :n")
            .when("attribute_not_exists(tickets) OR tickets <= :room")
            .value(":n", n(tickets))
            .value(":room", n(i64::from(limit) - i64::from(tickets)))
    }

    /// One attempt at the hold, with `takes` (shard, places) of each sharded sector.
    async fn hold_once(
        &self,
        reservation: &Reservation,
        limit: u8,
        now: DateTime<Utc>,
        decision: Option<(RequestId, aws_sdk_dynamodb::types::TransactWriteItem)>,
        takes: &HashMap<SectorCode, Vec<(u32, u32)>>,
    ) -> Result<(), WriteError> {
        let expires = reservation.expires_at.timestamp();
        let mut items = vec![
            create(&self.table, self.new_reservation_item(reservation)?)?,
            match &decision {
                // A queued request's hold also takes it off its customer's waiting requests.
                Some((request, _)) => self
                    .count_for(reservation, limit)
                    .set("ADD tickets :n DELETE waiting :request")
                    .value(":request", AttributeValue::Ss(vec![request.to_string()])),
                None => self.count_for(reservation, limit),
            }
            .build()?,
        ];
        for seat in &reservation.seats {
            items.push(
                // A seat never taken has no item yet (`Session::seat_blocks`): the hold writes it.
                self.seat_change(reservation, seat)
                    .set("SET #s = :held, reservation_id = :rid, hold_expires_at = :exp, seat = :seat")
                    .when(if seat.block.is_some() {
                        "attribute_not_exists(PK) OR #s = :free OR (#s = :held AND hold_expires_at < :now)"
                    } else {
                        "attribute_exists(PK) AND (#s = :free OR (#s = :held AND hold_expires_at < :now))"
                    })
                    .value(":seat", s(seat.seat.to_string()))
                    .value(":held", s("HELD"))
                    .value(":free", s("FREE"))
                    .value(":exp", n(expires))
                    .value(":now", n(now.timestamp()))
                    .build()?,
            );
        }
        // The item after the seats that counts each sector's tickets.
        let mut sectors: Vec<SectorCode> = Vec::new();
        for (sector, count, places) in per_sector(reservation) {
            let (general_admission, shards) = (places.is_some(), places.unwrap_or(0));
            let stock = match takes.get(&sector) {
                // Places are guarded by the shards they come from.
                Some(takes) if shards > 0 => takes
                    .iter()
                    .map(|(shard, n_taken)| {
                        self.shard_change(reservation.session_id, &sector, *shard)
                            .set("SET available = available - :n")
                            .when("available >= :n")
                            .value(":n", n(*n_taken))
                    })
                    .collect(),
                // Unsharded places are guarded by the sector's counter.
                _ if general_admission => vec![
                    self.stock_change(reservation, &sector)
                        .value(":n", n(count))
                        .set("SET available = available - :n")
                        .when("available >= :n"),
                ],
                // Seats are guarded by their own items: counted on a seat counter, unread.
                _ => vec![self.seat_counter(reservation, &sector, -i64::from(count))],
            };
            for change in stock {
                items.push(change.build()?);
                sectors.push(sector.clone());
            }
        }
        let extra_at = items.len();
        items.extend(decision.map(|(_, d)| d));
        let failed = self.write_built(items).await?;
        if failed.is_empty() {
            return Ok(());
        }
        // The reservation exists already (a redelivered request) or the request was decided.
        if failed.contains(&0) || failed.contains(&extra_at) {
            return Err(WriteError::Refused(Refused::Changed));
        }
        let seats_from = 2;
        let stock_from = seats_from + reservation.seats.len();
        let taken: Vec<_> = failed
            .iter()
            .filter(|i| (seats_from..stock_from).contains(i))
            .map(|i| {
                let seat = &reservation.seats[i - seats_from];
                (seat.sector.clone(), seat.seat)
            })
            .collect();
        if !taken.is_empty() {
            return Err(WriteError::Refused(Refused::Taken(taken)));
        }
        let mut sold_out: Vec<SectorCode> = failed
            .iter()
            .filter(|i| (stock_from..stock_from + sectors.len()).contains(i))
            .map(|i| sectors[i - stock_from].clone())
            .collect();
        sold_out.dedup();
        if !sold_out.is_empty() {
            return Err(WriteError::Refused(Refused::SoldOut(sold_out)));
        }
        if failed.contains(&1) {
            return Err(WriteError::Refused(Refused::LimitExceeded));
        }
        Err(WriteError::Refused(Refused::Changed))
    }
}

impl Reservations for DynamoStore {
    async fn hold(
        &self,
        reservation: &Reservation,
        limit: u8,
        now: DateTime<Utc>,
    ) -> Result<(), WriteError> {
        self.hold_with(reservation, limit, now, None).await
    }

    async fn reservation(&self, id: ReservationId) -> Result<Option<Reservation>, StoreError> {
        Ok(self
            .get::<ReservationItem>(keys::reservation(id), keys::RESERVATION_SK)
            .await?
            .map(|i| i.reservation))
    }

    async fn set_products(
        &self,
        reservation: &Reservation,
        lines: Vec<ProductLine>,
        counted: &HashSet<ProductId>,
        now: DateTime<Utc>,
    ) -> Result<Reservation, WriteError> {
        let mut items = vec![
            self.reservation_change(reservation)
                .set("SET products = :lines, version = version + :one")
                .when("version = :v AND #status = :held AND hold_expires_at >= :now")
                .value(":lines", attribute(&lines)?)
                .value(":held", status(ReservationStatus::Held)?)
                .value(":now", n(now.timestamp())),
        ];
        let mut moved = Vec::new();
        let quantity = |list: &[ProductLine], id: ProductId| {
            list.iter()
                .find(|l| l.product_id == id)
                .map_or(0, |l| i64::from(l.quantity))
        };
        let ids: HashSet<ProductId> = lines
            .iter()
            .chain(&reservation.products)
            .map(|l| l.product_id)
            .collect();
        for id in ids.into_iter().filter(|id| counted.contains(id)) {
            let delta = quantity(&lines, id) - quantity(&reservation.products, id);
            if delta == 0 {
                continue;
            }
            let change = self.product_change(id).value(":d", n(delta));
            items.push(if delta > 0 {
                change.set("SET stock = stock - :d").when("stock >= :d")
            } else {
                change
                    .set("SET stock = stock - :d")
                    .when("attribute_exists(stock)")
            });
            moved.push(id);
        }
        let failed = self.write(items).await?;
        if let Some(i) = failed.iter().find(|i| **i > 0) {
            return Err(WriteError::Refused(Refused::OutOfStock(moved[i - 1])));
        }
        if !failed.is_empty() {
            return Err(WriteError::Refused(Refused::Changed));
        }
        Ok(Reservation {
            products: lines,
            ..Self::updated(reservation, ReservationStatus::Held)
        })
    }

    async fn cancel(
        &self,
        reservation: &Reservation,
        counted: &HashSet<ProductId>,
    ) -> Result<Reservation, WriteError> {
        let head = vec![
            self.reservation_change(reservation)
                .set("SET #status = :cancelled, version = version + :one REMOVE GSI2PK, GSI2SK")
                .when("version = :v AND #status = :held")
                .value(":cancelled", status(ReservationStatus::Cancelled)?)
                .value(":held", status(ReservationStatus::Held)?),
            self.uncount(reservation),
        ];
        self.release(
            reservation,
            head,
            counted,
            Some(super::expiries::GivenBack::Cancelled),
        )
        .await?;
        Ok(Self::updated(reservation, ReservationStatus::Cancelled))
    }

    async fn begin_charge(
        &self,
        id: ReservationId,
        customer: &str,
        attempt: &CheckoutAttempt,
        now: DateTime<Utc>,
    ) -> Result<Begun, StoreError> {
        let change = Change::on(&self.table, keys::reservation(id), keys::RESERVATION_SK)
            .set("SET #status = :charging, checkout = :attempt, version = version + :one")
            .when(
                "customer = :me AND ((#status = :held AND hold_expires_at >= :now \
                 AND (attribute_not_exists(checkout) OR checkout.#key <> :key \
                 OR (checkout.#hash = :hash AND checkout.#retry = :yes))) \
                 OR (#status = :charging AND checkout.#key = :key AND checkout.#hash = :hash \
                 AND checkout.claimed_at < :stale))",
            )
            .name("#status", "status")
            .name("#key", "key")
            .name("#hash", "hash")
            .name("#retry", "retry")
            .value(":charging", status(ReservationStatus::Charging)?)
            .value(":held", status(ReservationStatus::Held)?)
            .value(":attempt", attribute(attempt)?)
            .value(":one", n(1))
            .value(":me", s(customer))
            .value(":now", n(now.timestamp()))
            .value(":key", s(&attempt.key))
            .value(":hash", s(&attempt.hash))
            .value(":yes", AttributeValue::Bool(true))
            .value(":stale", n(now.timestamp() - CLAIM_LEASE_SECONDS));
        let kept = |item| -> Result<(Reservation, Option<CheckoutAttempt>), StoreError> {
            let item: ReservationItem = serde_dynamo::from_item(item)?;
            Ok((item.reservation, item.checkout))
        };
        Ok(match change.apply_returning(&self.client).await? {
            Ok(written) => Begun::Charging(kept(written)?.0),
            Err(found) => Begun::Refused(found.map(kept).transpose()?),
        })
    }

    async fn checkout_of(
        &self,
        id: ReservationId,
    ) -> Result<Option<(Reservation, Option<CheckoutAttempt>)>, StoreError> {
        Ok(self
            .get::<ReservationItem>(keys::reservation(id), keys::RESERVATION_SK)
            .await?
            .map(|i| (i.reservation, i.checkout)))
    }

    async fn charge_undone(
        &self,
        reservation: &Reservation,
        attempt: &CheckoutAttempt,
    ) -> Result<Reservation, WriteError> {
        let change = self
            .reservation_change(reservation)
            .set(
                "SET #status = :held, checkout = :attempt, version = version + :one REMOVE payment",
            )
            .when("version = :v AND #status = :charging")
            .value(":charging", status(ReservationStatus::Charging)?)
            .value(":held", status(ReservationStatus::Held)?)
            .value(":attempt", attribute(attempt)?);
        self.write_unchanged(vec![change]).await?;
        Ok(Reservation {
            payment: None,
            ..Self::updated(reservation, ReservationStatus::Held)
        })
    }

    async fn await_payment(
        &self,
        reservation: &Reservation,
        payment: PaymentRecord,
    ) -> Result<Reservation, WriteError> {
        let change = self
            .reservation_change(reservation)
            .set("SET #status = :pending, payment = :payment, version = version + :one")
            .when("version = :v AND #status = :charging")
            .value(":pending", status(ReservationStatus::PendingPayment)?)
            .value(":charging", status(ReservationStatus::Charging)?)
            .value(":payment", attribute(&payment)?);
        self.write_unchanged(vec![change]).await?;
        Ok(Reservation {
            payment: Some(payment),
            ..Self::updated(reservation, ReservationStatus::PendingPayment)
        })
    }

    async fn payment_failed(&self, reservation: &Reservation) -> Result<Reservation, WriteError> {
        let change = self
            .reservation_change(reservation)
            .set("SET #status = :held, version = version + :one REMOVE payment")
            .when("version = :v AND #status = :pending")
            .value(":pending", status(ReservationStatus::PendingPayment)?)
            .value(":held", status(ReservationStatus::Held)?);
        self.write_unchanged(vec![change]).await?;
        Ok(Reservation {
            payment: None,
            ..Self::updated(reservation, ReservationStatus::Held)
        })
    }

    async fn confirm(
        &self,
        reservation: &Reservation,
        payment: PaymentRecord,
        tickets: &[Ticket],
        invoice: &Invoice,
        taken_again: &TakenAgain,
        now: DateTime<Utc>,
    ) -> Result<Reservation, WriteError> {
        // Places released to the shards are taken again from what the shards have, read again
        // when they changed between the read and the write.
        let mut takes = HashMap::new();
        let sharded: Vec<SectorCode> = match reservation.status {
            ReservationStatus::Expired => reservation
                .places
                .iter()
                .filter(|p| p.shards > 0)
                .map(|p| p.sector.clone())
                .collect(),
            _ => Vec::new(),
        };
        for round in 1..=TAKE_ROUNDS {
            if !self.retake(reservation, &sharded, &mut takes).await? {
                return Err(WriteError::Refused(Refused::SoldOut(sharded)));
            }
            let confirmed = self
                .confirm_once(
                    reservation,
                    &payment,
                    tickets,
                    invoice,
                    taken_again,
                    &takes,
                    now,
                )
                .await;
            match confirmed {
                Err(WriteError::Refused(Refused::SoldOut(sectors)))
                    if round < TAKE_ROUNDS && sectors.iter().all(|s| sharded.contains(s)) => {}
                Err(e) => return Err(e),
                Ok(()) => break,
            }
        }
        Ok(Reservation {
            payment: Some(payment),
            confirmed_at: Some(now),
            ..Self::updated(reservation, ReservationStatus::Confirmed)
        })
    }

    async fn refund_required(
        &self,
        reservation: &Reservation,
        payment: PaymentRecord,
        reason: &str,
        counted: &HashSet<ProductId>,
    ) -> Result<Reservation, WriteError> {
        let change = self
            .reservation_change(reservation)
            .set("SET #status = :refund, payment = :payment, refund_reason = :reason, version = version + :one REMOVE GSI2PK, GSI2SK")
            .when("version = :v")
            .value(":refund", status(ReservationStatus::RefundRequired)?)
            .value(":payment", attribute(&payment)?)
            .value(":reason", s(reason));
        // What it still holds goes back; an expired or cancelled one leaves its sales figure.
        let given_back = match reservation.status {
            ReservationStatus::Expired => Some("expired"),
            ReservationStatus::Cancelled => Some("cancelled"),
            _ => None,
        };
        match (reservation.status, given_back) {
            (live, _) if live.is_live() => {
                let head = vec![change, self.uncount(reservation)];
                self.release(reservation, head, counted, None).await?
            }
            (_, Some(counter)) => {
                let mut items = vec![change];
                items.extend(
                    per_sector(reservation)
                        .into_iter()
                        .map(|(sector, count, _)| {
                            self.stock_change(reservation, &sector)
                                .set("ADD #given_back :back")
                                .name("#given_back", counter)
                                .value(":back", n(-i64::from(count)))
                        }),
                );
                self.write_unchanged(items).await?
            }
            _ => self.write_unchanged(vec![change]).await?,
        }
        Ok(Reservation {
            payment: Some(payment),
            refund_reason: Some(reason.to_owned()),
            ..Self::updated(reservation, ReservationStatus::RefundRequired)
        })
    }

    async fn refunded(
        &self,
        reservation: &Reservation,
        by: &str,
        at: DateTime<Utc>,
        reference: Option<&str>,
    ) -> Result<Reservation, WriteError> {
        let mut change = self
            .reservation_change(reservation)
            .set(if reference.is_some() {
                "SET #status = :refunded, refunded_by = :by, refunded_at = :at, refund_reference = :reference, version = version + :one"
            } else {
                "SET #status = :refunded, refunded_by = :by, refunded_at = :at, version = version + :one"
            })
            .when("version = :v AND #status = :required")
            .value(":required", status(ReservationStatus::RefundRequired)?)
            .value(":refunded", status(ReservationStatus::Refunded)?)
            .value(":by", s(by))
            .value(":at", attribute(&at)?);
        if let Some(reference) = reference {
            change = change.value(":reference", s(reference));
        }
        if !change.apply(&self.client).await? {
            return Err(WriteError::Refused(Refused::Changed));
        }
        Ok(Reservation {
            refunded_by: Some(by.to_owned()),
            refunded_at: Some(at),
            refund_reference: reference.map(str::to_owned),
            ..Self::updated(reservation, ReservationStatus::Refunded)
        })
    }

    async fn reservations_of(
        &self,
        customer: &str,
        limit: u32,
        after: Option<&str>,
    ) -> Result<Page<Reservation>, StoreError> {
        let page = self
            .list_gsi1(keys::reservations_of(customer), limit, after)
            .await?;
        Ok(Page {
            items: data::<ReservationItem>(page.items)?
                .into_iter()
                .map(|i| i.reservation)
                .collect(),
            next: page.next,
        })
    }

    async fn tickets_of(
        &self,
        customer: &str,
        limit: u32,
        after: Option<&str>,
    ) -> Result<Page<Ticket>, StoreError> {
        let page = self
            .list_gsi1(keys::tickets_of(customer), limit, after)
            .await?;
        Ok(Page {
            items: data(page.items)?,
            next: page.next,
        })
    }

    async fn session_tickets(
        &self,
        session: SessionId,
        sectors: &[SectorCode],
        limit: u32,
        after: Option<&str>,
    ) -> Result<Page<Ticket>, StoreError> {
        // The cursor: the sector to go on with, and the last key read in it (none: from its start).
        let (mut index, mut start) = match after {
            None => (0, None),
            Some(cursor) => {
                let (code, key) = cursor.split_once('.').ok_or(StoreError::BadCursor)?;
                let index = sectors
                    .iter()
                    .position(|s| s.as_str() == code)
                    .ok_or(StoreError::BadCursor)?;
                let partition = keys::sector_tickets(session, &sectors[index]);
                let names = [keys::PK, keys::SK, keys::GSI2PK, keys::GSI2SK];
                let key = (!key.is_empty())
                    .then(|| cursor::decode(key, &names, &[(keys::GSI2PK, partition.as_str())]))
                    .transpose()?;
                (index, key)
            }
        };
        let mut items = Vec::new();
        while index < sectors.len() && (items.len() as u32) < limit {
            let out = self
                .query()
                .index_name(keys::GSI2)
                .key_condition_expression("GSI2PK = :pk")
                .expression_attribute_values(
                    ":pk",
                    s(keys::sector_tickets(session, &sectors[index])),
                )
                .limit((limit - items.len() as u32) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(last) => start = Some(last),
                None => index += 1,
            }
        }
        let next = match (index < sectors.len(), start) {
            (false, _) => None,
            (true, None) => Some(format!("{}.", sectors[index])),
            (true, Some(last)) => Some(format!("{}.{}", sectors[index], cursor::encode(&last)?)),
        };
        Ok(Page {
            items: data(items)?,
            next,
        })
    }

    async fn tickets(&self, reservation: ReservationId) -> Result<Vec<Ticket>, StoreError> {
        let items = self
            .query_all(
                self.query()
                    .key_condition_expression("PK = :pk AND begins_with(SK, :tickets)")
                    .expression_attribute_values(":pk", s(keys::reservation(reservation)))
                    .expression_attribute_values(":tickets", s(keys::TICKET_PREFIX))
                    .consistent_read(true),
            )
            .await?;
        data(items)
    }

    async fn invoice(&self, reservation: ReservationId) -> Result<Option<Invoice>, StoreError> {
        self.get(keys::reservation(reservation), keys::INVOICE_SK)
            .await
    }

    async fn notice_handled(&self, payment: &str, status: &str) -> Result<bool, StoreError> {
        Ok(self
            .get::<NoticeItem>(keys::payment(payment), &keys::notice_sk(status))
            .await?
            .is_some())
    }

    async fn notice_done(
        &self,
        payment: &str,
        status: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let item = Item::new(
            keys::payment(payment),
            keys::notice_sk(status),
            NoticeItem {
                handled_at: now,
                ttl: now.timestamp() + 30 * DAY,
            },
        );
        match self.create(&item).await {
            Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn claim(
        &self,
        customer: &str,
        key: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        let record = IdempotencyItem {
            request_hash: hash.to_owned(),
            state: IN_FLIGHT.into(),
            response: None,
            claimed_at: now.timestamp(),
            ttl: now.timestamp() + DAY,
        };
        let first_claimed = record.first_claimed();
        match self
            .create(&Item::new(
                keys::idempotency(customer, key),
                keys::IDEMPOTENCY_SK,
                record,
            ))
            .await
        {
            Ok(()) => return Ok(Claim::Fresh { first_claimed }),
            Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e),
        }
        let Some(found) = self
            .get::<IdempotencyItem>(keys::idempotency(customer, key), keys::IDEMPOTENCY_SK)
            .await?
        else {
            // Expired between the two calls: the caller may claim again.
            return Ok(Claim::InFlight);
        };
        let first_claimed = found.first_claimed();
        let free =
            found.state == RELEASED || found.claimed() + CLAIM_LEASE_SECONDS < now.timestamp();
        Ok(match (found.request_hash == hash, &found.response) {
            (false, _) => Claim::Mismatch,
            (true, Some(response)) => Claim::Done(response.clone()),
            (true, None) if free => {
                if self.take_over(customer, key, &found, now).await? {
                    Claim::Fresh { first_claimed }
                } else {
                    Claim::InFlight
                }
            }
            (true, None) => Claim::InFlight,
        })
    }

    async fn settle(
        &self,
        customer: &str,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::idempotency(customer, key)))
            .key(keys::SK, s(keys::IDEMPOTENCY_SK))
            .update_expression("SET #state = :done, #response = :response")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#response", "response")
            .expression_attribute_values(":done", s(DONE))
            .expression_attribute_values(":response", attribute(response)?)
            .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
            .send()
            .await?;
        Ok(())
    }

    async fn release(&self, customer: &str, key: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::idempotency(customer, key)))
            .key(keys::SK, s(keys::IDEMPOTENCY_SK))
            .update_expression("SET #state = :released")
            .condition_expression("#state = :in_flight")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":released", s(RELEASED))
            .expression_attribute_values(":in_flight", s(IN_FLIGHT))
            .send()
            .await
            .map(|_| ())
            .or_else(|e| match StoreError::from(e) {
                StoreError::ConditionFailed => Ok(()),
                other => Err(other),
            })
    }

    async fn answered(
        &self,
        customer: &str,
        key: &str,
        hash: &str,
    ) -> Result<Option<StoredResponse>, StoreError> {
        Ok(self
            .get::<IdempotencyItem>(keys::idempotency(customer, key), keys::IDEMPOTENCY_SK)
            .await?
            .filter(|found| found.request_hash == hash)
            .and_then(|found| found.response))
    }
}

impl DynamoStore {
    /// One attempt at confirming a paid reservation, with `takes` (shard, places) of the
    /// sharded sectors it takes again.
    #[allow(clippy::too_many_arguments)]
    async fn confirm_once(
        &self,
        reservation: &Reservation,
        payment: &PaymentRecord,
        tickets: &[Ticket],
        invoice: &Invoice,
        taken_again: &TakenAgain,
        takes: &HashMap<SectorCode, Vec<(u32, u32)>>,
        now: DateTime<Utc>,
    ) -> Result<(), WriteError> {
        let late = reservation.expires_at < now;
        // An expired reservation already gave its places, count and add-ons back: it takes them
        // again under the same conditions as a new hold, or is refused.
        let released = reservation.status == ReservationStatus::Expired;
        let mut confirmation = self
            .reservation_change(reservation)
            .set("SET #status = :confirmed, payment = :payment, confirmed_at = :at, version = version + :one REMOVE GSI2PK, GSI2SK")
            .value(":confirmed", status(ReservationStatus::Confirmed)?)
            .value(":payment", attribute(payment)?)
            .value(":at", attribute(&now)?);
        confirmation = if late {
            confirmation.when("version = :v")
        } else {
            confirmation
                .when("version = :v AND hold_expires_at >= :now")
                .value(":now", n(now.timestamp()))
        };
        // What each item's failed condition means.
        let mut items = vec![(confirmation, Refused::Changed)];
        for seat in &reservation.seats {
            let change = self
                .seat_change(reservation, seat)
                .set("SET #s = :sold, reservation_id = :rid REMOVE hold_expires_at")
                .value(":sold", s("SOLD"))
                .value(":held", s("HELD"));
            let change = if late {
                change
                    .when("(#s = :held AND reservation_id = :rid) OR #s = :free OR (#s = :held AND hold_expires_at < :now)")
                    .value(":free", s("FREE"))
                    .value(":now", n(now.timestamp()))
            } else {
                change.when("#s = :held AND reservation_id = :rid")
            };
            items.push((
                change,
                Refused::Taken(vec![(seat.sector.clone(), seat.seat)]),
            ));
        }
        let discounts = reservation
            .voucher
            .as_ref()
            .map(|v| v.discount_by_sector(reservation))
            .unwrap_or_default();
        for (sector, count, places) in per_sector(reservation) {
            let (general_admission, shards) = (places.is_some(), places.unwrap_or(0));
            // What a voucher took off the sector's tickets, counted with them as sold.
            let off = discounts
                .iter()
                .find(|(s, _)| *s == sector)
                .map_or(0, |(_, m)| m.cents);
            if let Some(takes) = takes.get(&sector).filter(|_| released && shards > 0) {
                for &(shard, taken) in takes {
                    items.push((
                        self.shard_change(reservation.session_id, &sector, shard)
                            .set("SET available = available - :n")
                            .when("available >= :n")
                            .value(":n", n(taken)),
                        Refused::SoldOut(vec![sector.clone()]),
                    ));
                }
                items.push((
                    self.stock_change(reservation, &sector)
                        .set("ADD sold :n, expired :back, discounts :off")
                        .value(":n", n(count))
                        .value(":back", n(-i64::from(count)))
                        .value(":off", n(off)),
                    Refused::SoldOut(vec![sector]),
                ));
                continue;
            }
            let change = self
                .stock_change(reservation, &sector)
                .value(":n", n(count))
                .value(":off", n(off));
            let change = match (released, general_admission) {
                (true, true) => change
                    .set(
                        "SET available = available - :n ADD sold :n, expired :back, discounts :off",
                    )
                    .when("available >= :n")
                    .value(":back", n(-i64::from(count))),
                (true, false) => change
                    .set(
                        "SET available = available - :n ADD sold :n, expired :back, discounts :off",
                    )
                    .value(":back", n(-i64::from(count))),
                (false, _) => change.set("ADD sold :n, discounts :off"),
            };
            items.push((change, Refused::SoldOut(vec![sector])));
        }
        if released {
            items.push((
                self.count_for(reservation, taken_again.limit),
                Refused::LimitExceeded,
            ));
            items.extend(self.voucher_taken(reservation, None));
        }
        for line in &reservation.products {
            let change = self
                .product_change(line.product_id)
                .value(":q", n(line.quantity));
            let change = if released && taken_again.counted.contains(&line.product_id) {
                change
                    .set("SET stock = stock - :q ADD sold :q")
                    .when("stock >= :q")
            } else {
                change.set("ADD sold :q")
            };
            items.push((change, Refused::OutOfStock(line.product_id)));
        }
        let (changes, reasons): (Vec<Change>, Vec<Refused>) = items.into_iter().unzip();
        let mut built = changes
            .into_iter()
            .map(Change::build)
            .collect::<Result<Vec<_>, _>>()?;
        for ticket in tickets {
            let item = Item::new(
                keys::reservation(reservation.id),
                keys::ticket_sk(ticket.id),
                TicketItem {
                    gsi2pk: keys::sector_tickets(ticket.session_id, &ticket.sector),
                    gsi2sk: keys::ticket_sk(ticket.id),
                    ticket,
                },
            )
            .listed(
                keys::tickets_of(&reservation.customer),
                keys::ticket_sk(ticket.id),
            );
            built.push(create(
                &self.table,
                serde_dynamo::to_item(item).map_err(StoreError::from)?,
            )?);
        }
        let item = Item::new(keys::reservation(reservation.id), keys::INVOICE_SK, invoice);
        built.push(create(
            &self.table,
            serde_dynamo::to_item(item).map_err(StoreError::from)?,
        )?);
        let failed = self.write_built(built).await?;
        if let Some(first) = failed.first() {
            // The reservation's own condition first: nothing else matters if it changed.
            let i = if failed.contains(&0) { 0 } else { *first };
            return Err(WriteError::Refused(
                reasons.get(i).cloned().unwrap_or(Refused::Changed),
            ));
        }
        Ok(())
    }
}

impl DynamoStore {
    /// Takes over a claim that was released, or whose request stopped without settling or
    /// releasing it (its process was killed): only if nobody settled it or took it over since
    /// it was `found`. Whether it did.
    async fn take_over(
        &self,
        customer: &str,
        key: &str,
        found: &IdempotencyItem,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::idempotency(customer, key)))
            .key(keys::SK, s(keys::IDEMPOTENCY_SK))
            .update_expression("SET claimed_at = :now, #state = :in_flight")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":in_flight", s(IN_FLIGHT))
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()));
        let update = if found.state == RELEASED {
            update
                .condition_expression("#state = :released")
                .expression_attribute_values(":released", s(RELEASED))
        } else {
            update
                .condition_expression(
                    "#state = :in_flight AND (claimed_at = :seen OR attribute_not_exists(claimed_at))",
                )
                .expression_attribute_values(
                    ":seen",
                    AttributeValue::N(found.claimed_at.to_string()),
                )
        };
        let taken = update.send().await;
        match taken.map_err(StoreError::from) {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
