//! The door in DynamoDB: the public keys tickets are checked with, each ticket's entry (one item a
//! ticket, created once: the write that creates it is the one that lets the holder in, and counts
//! it on its sector), and the tickets let in twice by scanners that were offline.

use std::{collections::HashSet, future::Future};

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::{
    DynamoStore, Refused, StoreError, WriteError,
    dynamo::{data, datum},
    expiries::GivenBack,
    item::Item,
    keys,
    reservations::status,
    transact::{Change, TransactError, create, n, s, transact},
};
use crate::domain::{
    Conflict, DoorKey, Entry, ProductId, Reservation, ReservationId, ReservationStatus, SessionId,
    Ticket, TicketId, Verdict,
};

pub trait Door: Sync {
    /// Records the public keys tickets are signed with (each once; a key already recorded is
    /// left as it is).
    fn publish_door_keys(
        &self,
        keys: &[DoorKey],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every public key tickets were ever signed with.
    fn door_keys(&self) -> impl Future<Output = Result<Vec<DoorKey>, StoreError>> + Send;
    /// Lets `entry`'s ticket in if nothing let it in before and it is not revoked: one
    /// conditional write, in one transaction with its sector's count of entries. A scan already recorded under the same
    /// nonce is replayed; a second scan is told who came first, and recorded as a conflict if it
    /// was an offline scan (its holder went in too).
    fn check_in(&self, entry: &Entry) -> impl Future<Output = Result<Verdict, StoreError>> + Send;
    /// Tickets of the session let in twice, oldest first.
    fn conflicts(
        &self,
        session: SessionId,
    ) -> impl Future<Output = Result<Vec<Conflict>, StoreError>> + Send;
    /// An organiser's cancellation of a confirmed sale, in one transaction: the reservation owes
    /// its payment back (REFUND_REQUIRED, `reason`), its seats, places, the customer's count and
    /// its add-ons go back on sale, and each of its `tickets` is revoked at the door. Refused
    /// (`CheckedIn`) when a ticket was let in first: a ticket is let in or revoked, never both.
    fn cancel_sale(
        &self,
        reservation: &Reservation,
        tickets: &[Ticket],
        reason: &str,
        counted: &HashSet<ProductId>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> impl Future<Output = Result<Reservation, WriteError>> + Send;
    /// Tickets of the session that no longer open the door.
    fn revoked(
        &self,
        session: SessionId,
    ) -> impl Future<Output = Result<Vec<TicketId>, StoreError>> + Send;
}

/// A ticket's item at the door: let in, or revoked before it was.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) enum DoorItem {
    Entered(Entry),
    Revoked {
        ticket: TicketId,
        session: SessionId,
        reservation: ReservationId,
        at: chrono::DateTime<chrono::Utc>,
    },
}

impl Door for DynamoStore {
    async fn publish_door_keys(&self, door_keys: &[DoorKey]) -> Result<(), StoreError> {
        // One read in the usual start, where every key is recorded already.
        let known: HashSet<String> = self.door_keys().await?.into_iter().map(|k| k.id).collect();
        for key in door_keys.iter().filter(|k| !known.contains(&k.id)) {
            let item = Item::new(keys::DOOR_KEYS.to_owned(), keys::door_key_sk(&key.id), key);
            match self.create(&item).await {
                Ok(()) | Err(StoreError::ConditionFailed) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn door_keys(&self) -> Result<Vec<DoorKey>, StoreError> {
        let items = self
            .query_prefix(keys::DOOR_KEYS.to_owned(), keys::DOOR_KEY_PREFIX)
            .await?;
        data(items)
    }

    async fn check_in(&self, entry: &Entry) -> Result<Verdict, StoreError> {
        let item = Item::new(
            keys::ticket_door(entry.ticket),
            keys::DOOR_SK,
            DoorItem::Entered(entry.clone()),
        );
        let put = create(&self.table, serde_dynamo::to_item(&item)?)?;
        // Counted on the sector's stock item, which the sales view reads anyway.
        let count = Change::on(
            &self.table,
            keys::sector(entry.session, &entry.sector),
            keys::STOCK_SK,
        )
        .set("ADD entered :one")
        .value(":one", n(1))
        .build()?;
        let written = transact(&self.client, vec![put, count]).await;
        let old = match written {
            Ok(()) => return Ok(Verdict::Admitted(entry.clone())),
            Err(TransactError::Cancelled(cancelled)) => cancelled
                .old
                .into_iter()
                .next()
                .flatten()
                .ok_or(StoreError::ConditionFailed)?,
            Err(TransactError::Store(e)) => return Err(e),
        };
        let first = match datum::<DoorItem>(old)? {
            DoorItem::Revoked { at, .. } => return Ok(Verdict::Revoked { at }),
            DoorItem::Entered(first) => first,
        };
        if first.nonce == entry.nonce {
            return Ok(Verdict::Replayed(first));
        }
        if entry.offline {
            self.record_conflict(&first, entry).await?;
        }
        Ok(Verdict::AlreadyIn {
            conflict: entry.offline,
            first,
        })
    }

    async fn conflicts(&self, session: SessionId) -> Result<Vec<Conflict>, StoreError> {
        let items = self
            .query_prefix(keys::door_conflicts(session), keys::CONFLICT_PREFIX)
            .await?;
        data(items)
    }

    async fn cancel_sale(
        &self,
        reservation: &Reservation,
        tickets: &[Ticket],
        reason: &str,
        counted: &HashSet<ProductId>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Reservation, WriteError> {
        let session = reservation.session_id;
        let to_line = self.lines_waiting(reservation).await?;
        let mut items = vec![
            self.reservation_change(reservation)
                .set("SET #status = :refund, refund_reason = :reason, version = version + :one")
                .when("version = :v AND #status = :confirmed")
                .value(":refund", status(ReservationStatus::RefundRequired)?)
                .value(":confirmed", status(ReservationStatus::Confirmed)?)
                .value(":reason", s(reason))
                .build()?,
            self.uncount(reservation).build()?,
        ];
        for seat in &reservation.seats {
            items.push(
                self.seat_release(reservation, seat, "SOLD", &to_line)
                    .build()?,
            );
        }
        items.extend(
            self.restock(
                reservation,
                counted,
                Some(GivenBack::Sold),
                &to_line,
                &HashSet::new(),
            )
            .into_iter()
            .chain(self.voucher_back(reservation))
            .map(Change::build)
            .collect::<Result<Vec<_>, _>>()?,
        );
        for ticket in tickets {
            let delete = Delete::builder()
                .table_name(&self.table)
                .key(keys::PK, s(keys::reservation(reservation.id)))
                .key(keys::SK, s(keys::ticket_sk(ticket.id)))
                .condition_expression("attribute_exists(PK)")
                .build()
                .map_err(|e| StoreError::Failed(Box::new(e)))?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        let revoked_from = items.len();
        for ticket in tickets {
            let item = Item::new(
                keys::ticket_door(ticket.id),
                keys::DOOR_SK,
                DoorItem::Revoked {
                    ticket: ticket.id,
                    session,
                    reservation: reservation.id,
                    at: now,
                },
            )
            .listed(keys::revoked_tickets(session), ticket.id.to_string());
            items.push(create(
                &self.table,
                serde_dynamo::to_item(&item).map_err(StoreError::from)?,
            )?);
        }
        let failed = self.write_built(items).await?;
        if let Some(i) = failed.iter().find(|i| **i >= revoked_from) {
            return Err(WriteError::Refused(Refused::CheckedIn(
                tickets[i - revoked_from].id,
            )));
        }
        if !failed.is_empty() {
            return Err(WriteError::Refused(Refused::Changed));
        }
        Ok(Reservation {
            refund_reason: Some(reason.to_owned()),
            ..Self::updated(reservation, ReservationStatus::RefundRequired)
        })
    }

    async fn revoked(&self, session: SessionId) -> Result<Vec<TicketId>, StoreError> {
        // The partition lists revoked tickets only.
        let items = self.query_gsi1(keys::revoked_tickets(session)).await?;
        Ok(data::<DoorItem>(items)?
            .into_iter()
            .filter_map(|item| match item {
                DoorItem::Revoked { ticket, .. } => Some(ticket),
                DoorItem::Entered(_) => None,
            })
            .collect())
    }
}

impl DynamoStore {
    /// Keeps a second entry of a ticket for the organiser, once however often it is uploaded.
    async fn record_conflict(&self, first: &Entry, second: &Entry) -> Result<(), StoreError> {
        let item = Item::new(
            keys::door_conflicts(first.session),
            keys::conflict_sk(first.ticket, &second.nonce),
            Conflict {
                first: first.clone(),
                second: second.clone(),
            },
        );
        match self.create(&item).await {
            Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
