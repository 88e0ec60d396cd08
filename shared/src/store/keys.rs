//! Key design of the single table; `docs/data-model.md` draws it.
//!
//! Seats are partitioned by session and sector, so a big sale spreads its writes over one
//! partition key per sector instead of one per session.

use chrono::{DateTime, Utc};

use crate::domain::{
    EventId, ProductId, RequestId, ReservationId, SeatLabel, SectorCode, SessionId, TicketId,
    VoucherCode,
};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";

/// The GSI1 partition listing every event.
pub const EVENTS: &str = "EVENTS";

pub fn event(id: EventId) -> String {
    format!("EVENT#{id}")
}

pub const EVENT_SK: &str = "EVENT";

pub fn event_list_sk(id: EventId) -> String {
    format!("EVENT#{id}")
}

/// A product is its own partition: buying add-ons of a big event does not pile onto one key.
pub fn product(id: ProductId) -> String {
    format!("PRODUCT#{id}")
}

pub const PRODUCT_SK: &str = "PRODUCT";

/// GSI1 partition of an event's products.
pub fn products_of(event: EventId) -> String {
    format!("EVENT#{event}#PRODUCTS")
}

pub fn product_list_sk(id: ProductId) -> String {
    format!("PRODUCT#{id}")
}

pub fn session(id: SessionId) -> String {
    format!("SESSION#{id}")
}

pub const SESSION_SK: &str = "SESSION";

/// GSI1 partition of an event's sessions; its sort key orders them by start time.
pub fn sessions_of(event: EventId) -> String {
    format!("EVENT#{event}#SESSIONS")
}

/// A sector's partition: its stock item (and, in an older session, every seat).
pub fn sector(session: SessionId, sector: &SectorCode) -> String {
    format!("SESSION#{session}#SECTOR#{sector}")
}

/// The partition of a block of a numbered sector's rows (`seat_map::MapBlock`): the seats taken
/// in it, so that a sector's holds spread over as many partitions as it has blocks.
pub fn seat_block(session: SessionId, sector: &SectorCode, first_row: u16) -> String {
    format!("SESSION#{session}#SECTOR#{sector}#SEATS#{first_row:03}")
}

/// Where a seat is kept: its block's partition, or its sector's in an older session.
pub fn seat_partition(session: SessionId, sector: &SectorCode, block: Option<u16>) -> String {
    match block {
        Some(first_row) => seat_block(session, sector, first_row),
        None => self::sector(session, sector),
    }
}

/// The session and sector code of a partition under a sector (its own, its shards', its seat
/// blocks').
pub fn sector_part(pk: &str) -> Option<(SessionId, SectorCode)> {
    let (session, tail) = session_part(pk, "#SECTOR#")?;
    let code = tail.split('#').next()?;
    Some((session, SectorCode::try_from(code.to_owned()).ok()?))
}

/// The sector's stock item: capacity and places available.
pub const STOCK_SK: &str = "STOCK";

/// One of a general-admission sector's stock shards (`domain::stock`): its own partition, so
/// that the sector's holds spread over as many.
pub fn stock_shard(session: SessionId, sector: &SectorCode, shard: u32) -> String {
    format!("SESSION#{session}#SECTOR#{sector}#STOCK#{shard}")
}

pub const SHARD_SK: &str = "SHARD";

/// A numbered sector's seat map (`domain::seat_map`): a few blocks of rows, in row order.
pub fn seat_map(session: SessionId, sector: &SectorCode) -> String {
    format!("SESSION#{session}#SECTOR#{sector}#MAP")
}

pub const MAP_BLOCK_PREFIX: &str = "ROWS#";

pub fn map_block_sk(first_row: u16) -> String {
    format!("{MAP_BLOCK_PREFIX}{first_row:03}")
}

pub const SEAT_PREFIX: &str = "SEAT#";

/// Zero-padded so that a query returns seats row by row, in seat order.
pub fn seat_sk(seat: SeatLabel) -> String {
    format!("SEAT#{:03}#{:03}", seat.row, seat.number)
}

pub fn reservation(id: ReservationId) -> String {
    format!("RESERVATION#{id}")
}

pub const RESERVATION_SK: &str = "RESERVATION";
pub const INVOICE_SK: &str = "INVOICE";
pub const TICKET_PREFIX: &str = "TICKET#";

/// The partition of the public keys tickets are signed with (a few items, read at a door's start).
pub const DOOR_KEYS: &str = "DOOR_KEYS";
pub const DOOR_KEY_PREFIX: &str = "KEY#";

pub fn door_key_sk(key_id: &str) -> String {
    format!("{DOOR_KEY_PREFIX}{key_id}")
}

/// A ticket's item at the door (its entry, or its revocation): one partition a ticket, so the
/// gates of a stadium never write one key.
pub fn ticket_door(id: TicketId) -> String {
    format!("TICKET#{id}")
}

pub const DOOR_SK: &str = "DOOR";

/// A session's tickets let in twice.
pub fn door_conflicts(session: SessionId) -> String {
    format!("SESSION#{session}#DOOR_CONFLICTS")
}

pub const CONFLICT_PREFIX: &str = "CONFLICT#";

pub fn conflict_sk(ticket: TicketId, nonce: &str) -> String {
    format!("{CONFLICT_PREFIX}{ticket}#{nonce}")
}

/// GSI1 partition of a session's revoked tickets: the check-in kit's list.
pub fn revoked_tickets(session: SessionId) -> String {
    format!("SESSION#{session}#REVOKED")
}

pub fn ticket_sk(id: TicketId) -> String {
    format!("TICKET#{id}")
}

/// GSI1 partition of a customer's reservations, newest first by id.
pub fn reservations_of(customer: &str) -> String {
    format!("CUSTOMER#{customer}#RESERVATIONS")
}

/// GSI1 partition of a customer's tickets.
pub fn tickets_of(customer: &str) -> String {
    format!("CUSTOMER#{customer}#TICKETS")
}

/// `SESSION#<session>#SECTOR#<code>` or `SESSION#<session>#CUSTOMER#<sub>`: the session and
/// the rest after `marker`.
pub fn session_part<'a>(pk: &'a str, marker: &str) -> Option<(SessionId, &'a str)> {
    let rest = pk.strip_prefix("SESSION#")?;
    let (session, tail) = rest.split_once(marker)?;
    Some((session.parse().ok()?, tail))
}

/// The per-customer ticket counter of a session (its own partition: no hot key).
pub fn customer_limit(session: SessionId, customer: &str) -> String {
    format!("SESSION#{session}#CUSTOMER#{customer}")
}

pub const LIMIT_SK: &str = "LIMIT";

/// An event's voucher lives in the event's partition, under its code.
pub const VOUCHER_PREFIX: &str = "VOUCHER#";

pub fn voucher_sk(code: &VoucherCode) -> String {
    format!("{VOUCHER_PREFIX}{code}")
}

/// A customer's uses of a voucher (its own partition, like the ticket count).
pub fn voucher_use(event: EventId, code: &VoucherCode, customer: &str) -> String {
    format!("EVENT#{event}#VOUCHER#{code}#CUSTOMER#{customer}")
}

pub const VOUCHER_USE_SK: &str = "VOUCHER_USE";

/// A sector's waiting list: one entry per customer, under `waitlist_sk`.
pub fn waitlist(session: SessionId, sector: &SectorCode) -> String {
    format!("SESSION#{session}#SECTOR#{sector}#WAITLIST")
}

pub const WAITLIST_PREFIX: &str = "CUSTOMER#";

pub fn waitlist_sk(customer: &str) -> String {
    format!("{WAITLIST_PREFIX}{customer}")
}

/// GSI1 partition of a sector's line: the entries still waiting, in join order.
pub fn waiting_line(session: SessionId, sector: &SectorCode) -> String {
    format!("SESSION#{session}#SECTOR#{sector}#WAITING")
}

/// Shards of each expiry bucket: a flash sale's holds spread over this many GSI2 keys a minute.
pub const EXPIRY_SHARDS: u32 = 8;

pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";

/// GSI2 (sparse, only live holds): the minute a hold expires and a shard taken from its id.
pub fn expiry(expires_at: i64, id: ReservationId) -> (String, String) {
    let shard = (id.spread() % u128::from(EXPIRY_SHARDS)) as u32;
    (
        expiry_bucket(expires_at / 60, shard),
        format!("{expires_at:012}#{id}"),
    )
}

pub fn expiry_bucket(minute: i64, shard: u32) -> String {
    format!("EXPIRY#{minute}#{shard}")
}

pub fn request(id: RequestId) -> String {
    format!("REQUEST#{id}")
}

pub const REQUEST_SK: &str = "REQUEST";

/// GSI2 partition of a sector's tickets (ordered by ticket id): the attendee list. It takes the
/// writes of the sector's confirmations, as the sector's own partition does.
pub fn sector_tickets(session: SessionId, sector: &SectorCode) -> String {
    format!("SESSION#{session}#SECTOR#{sector}#TICKETS")
}

/// GSI2 partition of a sector's waiting requests (sparse: a request is in it while QUEUED),
/// oldest first (`queued_sk`): the age of the line. One partition a sector, as the queue's
/// message groups are.
pub fn sector_queue(session: SessionId, sector: &SectorCode) -> String {
    format!("SESSION#{session}#SECTOR#{sector}#QUEUE")
}

/// One of a sector's line counters (`domain::line`): numbers are drawn from
/// `LINE_SHARDS` partitions, so that joining a busy line does not write one key only.
pub fn line_counter(session: SessionId, sector: &SectorCode, shard: u32) -> String {
    format!("SESSION#{session}#SECTOR#{sector}#LINE#{shard}")
}

/// How far a sector's line has moved: written once a batch by the consumer.
pub fn line(session: SessionId, sector: &SectorCode) -> String {
    format!("SESSION#{session}#SECTOR#{sector}#LINE")
}

pub const LINE_SK: &str = "LINE";

pub fn queued_sk(requested_at: DateTime<Utc>, id: RequestId) -> String {
    format!(
        "{}#{id}",
        requested_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    )
}

/// A session's sale minute by minute: one item a minute (`minute_sk`), read with one Query.
pub fn timeline(session: SessionId) -> String {
    format!("SESSION#{session}#TIMELINE")
}

pub const MINUTE_PREFIX: &str = "MINUTE#";

pub fn minute_sk(minute: DateTime<Utc>) -> String {
    format!("{MINUTE_PREFIX}{}", minute.format("%Y-%m-%dT%H:%M"))
}

pub const HISTORY_PREFIX: &str = "HISTORY#";

/// A step of a reservation's history, in the reservation's partition, in version order (every
/// write of a reservation's status raises its version).
pub fn history_sk(version: u32) -> String {
    format!("HISTORY#{version:06}")
}

/// A payment's handled provider notices: one item a status.
pub fn payment(id: &str) -> String {
    format!("PAYMENT#{id}")
}

pub fn notice_sk(status: &str) -> String {
    format!("NOTICE#{status}")
}

pub fn idempotency(customer: &str, key: &str) -> String {
    format!("IDEMPOTENCY#{customer}#{key}")
}

pub const IDEMPOTENCY_SK: &str = "IDEMPOTENCY";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_keys_sort_in_seat_order() {
        let labels = ["A-2", "A-10", "B-1", "Z-3", "AA-1"].map(|l| l.parse::<SeatLabel>().unwrap());
        let keys: Vec<String> = labels.iter().map(|l| seat_sk(*l)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }
}
