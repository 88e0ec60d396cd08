//! Waiting lists in DynamoDB. A fan's entry is one item per sector and customer, listed on GSI1
//! in join order while it waits; the sector's stock item counts the places its line waits for
//! (`waiting`) and the places kept for it (`returned`): while `waiting` is above zero, places
//! that come back go to `returned` instead of on sale (`restock`). Serving the line moves
//! `returned` places into a hold for the first fan, in one transaction with their entry, and
//! when nobody waits any more puts what is left back on sale. A numbered sector's seats that
//! come back are `KEPT` (listed in the stock item's `kept_seats`), and an offer holds the first
//! of them.

use std::{
    collections::{BTreeSet, HashSet},
    future::Future,
};

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::{
    DynamoStore, StoreError,
    dynamo::data,
    item::Item,
    keys,
    transact::{Change, create, n, s},
};
use crate::domain::{
    EntryStatus, Reservation, SeatLabel, SectorCode, Session, SessionId, WaitlistEntry, stock,
};

/// Entries read at a time from the head of a line.
const HEAD: i32 = 10;
/// Rounds of serving one sector's line in one call: each offers once, or finds why it cannot.
const SERVE_ROUNDS: usize = 200;

/// What the stock item says of a sector's line.
#[derive(Debug, Default, Deserialize)]
struct LineCounts {
    #[serde(default)]
    waiting: i64,
    #[serde(default)]
    returned: i64,
    /// A numbered sector's kept seats.
    #[serde(default)]
    kept_seats: BTreeSet<SeatLabel>,
}

/// Where an offer's transaction counts the fan's tickets against the session's limit.
const LIMIT_ITEM: usize = 3;

/// Kept seats put back on sale in one transaction (at most 100 items).
const SEATS_BACK: usize = 90;

pub trait Waitlist: Sync {
    /// Puts `entry` in its sector's line, in one transaction with the sector's count of places
    /// waited for; `false` if the fan is in that line already.
    fn join(&self, entry: &WaitlistEntry) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// The fan's entry in a sector's line, if they ever joined it.
    fn entry(
        &self,
        session: SessionId,
        sector: &SectorCode,
        customer: &str,
    ) -> impl Future<Output = Result<Option<WaitlistEntry>, StoreError>> + Send;
    /// Where a waiting entry stands: 1 is next.
    fn position(
        &self,
        entry: &WaitlistEntry,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Takes a waiting entry out of its line; `false` if it was not waiting any more.
    fn leave(&self, entry: &WaitlistEntry)
    -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Offers the places kept for a sector's line to the fans in it, in order, each as a hold
    /// for `window`; when nobody waits, puts what is kept back on sale. The offers made.
    fn serve_line(
        &self,
        session: &Session,
        sector: &SectorCode,
        window: Duration,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<Reservation>, StoreError>> + Send;
}

impl DynamoStore {
    fn entry_change(&self, entry: &WaitlistEntry) -> Change {
        Change::on(
            &self.table,
            keys::waitlist(entry.session_id, &entry.sector),
            &keys::waitlist_sk(&entry.customer),
        )
        .name("#status", "status")
        .value(":waiting", s("WAITING"))
    }

    fn line_counts_change(&self, session: SessionId, sector: &SectorCode) -> Change {
        Change::on(&self.table, keys::sector(session, sector), keys::STOCK_SK)
    }

    async fn line_counts(
        &self,
        session: SessionId,
        sector: &SectorCode,
    ) -> Result<LineCounts, StoreError> {
        Ok(self
            .get::<LineCounts>(keys::sector(session, sector), keys::STOCK_SK)
            .await?
            .unwrap_or_default())
    }

    /// The general-admission sectors of `reservation` whose lines wait: the places it gives
    /// back go to them (`restock`), not on sale.
    pub(super) async fn lines_waiting(
        &self,
        reservation: &Reservation,
    ) -> Result<HashSet<SectorCode>, StoreError> {
        let sectors: HashSet<&SectorCode> = reservation
            .seats
            .iter()
            .map(|s| &s.sector)
            .chain(reservation.places.iter().map(|p| &p.sector))
            .collect();
        if sectors.is_empty() {
            return Ok(HashSet::new());
        }
        let wanted = sectors
            .into_iter()
            .map(|sector| (keys::sector(reservation.session_id, sector), keys::STOCK_SK))
            .collect();
        #[derive(Deserialize)]
        struct Waiting {
            code: SectorCode,
            #[serde(default)]
            waiting: i64,
        }
        Ok(data::<Waiting>(self.get_many(wanted).await?)?
            .into_iter()
            .filter(|w| w.waiting > 0)
            .map(|w| w.code)
            .collect())
    }

    /// The first entries of a sector's line, in join order.
    async fn head(
        &self,
        session: SessionId,
        sector: &SectorCode,
    ) -> Result<Vec<WaitlistEntry>, StoreError> {
        let out = self
            .query()
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :pk")
            .expression_attribute_values(":pk", s(keys::waiting_line(session, sector)))
            .limit(HEAD)
            .send()
            .await?;
        data(out.items.unwrap_or_default())
    }

    /// Puts a sector's kept places back on sale, if nobody waits for them: a numbered
    /// sector's kept seats become free (up to [`SEATS_BACK`] at a time). `false` if the line or
    /// what it keeps changed since `counts` was read.
    async fn back_on_sale(
        &self,
        session: &Session,
        sector: &SectorCode,
        counts: &LineCounts,
    ) -> Result<bool, StoreError> {
        let shards = session
            .sector(sector.as_str())
            .map_or(0, |s| session.place_shards(s));
        let seats: Vec<SeatLabel> = counts.kept_seats.iter().take(SEATS_BACK).copied().collect();
        let back = if seats.is_empty() {
            counts.returned
        } else {
            seats.len() as i64
        };
        let kept = self
            .line_counts_change(session.id, sector)
            .value(":r", n(back))
            .value(":minus", n(-back))
            .value(":zero", n(0))
            .when("returned >= :r AND (attribute_not_exists(waiting) OR waiting <= :zero)");
        let mut items = if !seats.is_empty() {
            vec![
                kept.set(
                    "ADD returned :minus, available :r DELETE kept_seats :labels REMOVE sold_out",
                )
                .value(":labels", labels(&seats)),
            ]
        } else if shards > 0 {
            // Spread over the shards from one picked by how many are back, as holds spread.
            let first = stock::first_shard(back as u128, shards);
            vec![
                kept.set("ADD returned :minus REMOVE sold_out"),
                self.shard_change(session.id, sector, first)
                    .set("ADD available :r")
                    .value(":r", n(back)),
            ]
        } else {
            vec![kept.set("ADD returned :minus, available :r REMOVE sold_out")]
        };
        for seat in &seats {
            items.push(
                self.kept_seat(session, sector, *seat)
                    .set("SET #s = :free")
                    .value(":free", s("FREE")),
            );
        }
        Ok(self.write(items).await?.is_empty())
    }

    /// A seat kept for the sector's line, as long as it is.
    fn kept_seat(&self, session: &Session, sector: &SectorCode, seat: SeatLabel) -> Change {
        let block = session
            .sector(sector.as_str())
            .and_then(|s| session.seat_block(s, seat));
        Change::on(
            &self.table,
            keys::seat_partition(session.id, sector, block),
            &keys::seat_sk(seat),
        )
        .name("#s", "state")
        .value(":kept", s("KEPT"))
        .when("#s = :kept")
    }
}

/// Seat labels as a string set.
fn labels(seats: &[SeatLabel]) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::Ss(seats.iter().map(ToString::to_string).collect())
}

impl Waitlist for DynamoStore {
    async fn join(&self, entry: &WaitlistEntry) -> Result<bool, StoreError> {
        let item = Item::new(
            keys::waitlist(entry.session_id, &entry.sector),
            keys::waitlist_sk(&entry.customer),
            entry,
        )
        .listed(
            keys::waiting_line(entry.session_id, &entry.sector),
            entry.joined.to_string(),
        );
        let put = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(item)?))
            .condition_expression("attribute_not_exists(PK) OR #status <> :waiting")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":waiting", s("WAITING"))
            .build()
            .map_err(|e| StoreError::Failed(Box::new(e)))?;
        let items = vec![
            aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .put(put)
                .build(),
            self.line_counts_change(entry.session_id, &entry.sector)
                .set("ADD waiting :q")
                .value(":q", n(entry.quantity))
                .build()?,
        ];
        Ok(self.write_built(items).await?.is_empty())
    }

    async fn entry(
        &self,
        session: SessionId,
        sector: &SectorCode,
        customer: &str,
    ) -> Result<Option<WaitlistEntry>, StoreError> {
        self.get(
            keys::waitlist(session, sector),
            &keys::waitlist_sk(customer),
        )
        .await
    }

    async fn position(&self, entry: &WaitlistEntry) -> Result<u64, StoreError> {
        let out = self
            .query()
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :pk AND GSI1SK < :me")
            .expression_attribute_values(
                ":pk",
                s(keys::waiting_line(entry.session_id, &entry.sector)),
            )
            .expression_attribute_values(":me", s(entry.joined.to_string()))
            .select(aws_sdk_dynamodb::types::Select::Count)
            .into_paginator()
            .send()
            .try_collect()
            .await?;
        let ahead: i64 = out.iter().map(|page| i64::from(page.count)).sum();
        Ok(ahead as u64 + 1)
    }

    async fn leave(&self, entry: &WaitlistEntry) -> Result<bool, StoreError> {
        let items = vec![
            self.entry_change(entry)
                .set("SET #status = :left REMOVE GSI1PK, GSI1SK")
                .when("#status = :waiting")
                .value(":left", s("LEFT")),
            self.line_counts_change(entry.session_id, &entry.sector)
                .set("ADD waiting :minus")
                .value(":minus", n(-i64::from(entry.quantity))),
        ];
        Ok(self.write(items).await?.is_empty())
    }

    async fn serve_line(
        &self,
        session: &Session,
        sector: &SectorCode,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<Reservation>, StoreError> {
        let mut offers = Vec::new();
        if session.sector(sector.as_str()).is_none() {
            return Ok(offers);
        }
        let limit = session.max_tickets_per_customer;
        for _ in 0..SERVE_ROUNDS {
            let counts = self.line_counts(session.id, sector).await?;
            if counts.returned <= 0 {
                break;
            }
            let head = self.head(session.id, sector).await?;
            let Some(first) = head.into_iter().find(|e| e.status == EntryStatus::Waiting) else {
                if counts.waiting <= 0 {
                    // Read again if a fan joined meanwhile, or seats remain to put back.
                    if self.back_on_sale(session, sector, &counts).await?
                        && counts.kept_seats.len() <= SEATS_BACK
                    {
                        break;
                    }
                }
                // The index has not caught up with an entry that joined: read again.
                continue;
            };
            if counts.returned < i64::from(first.quantity) {
                // The first in line waits for more places; nobody passes them.
                break;
            }
            // A numbered sector's offer holds the first of its kept seats.
            let seats: Vec<SeatLabel> = counts
                .kept_seats
                .iter()
                .take(first.quantity as usize)
                .copied()
                .collect();
            let offer = first.offer(session, &seats, now, window);
            let q = i64::from(first.quantity);
            let mut stock = self
                .line_counts_change(session.id, sector)
                .when("returned >= :q")
                .value(":minus", n(-q))
                .value(":q", n(q));
            stock = if seats.is_empty() {
                stock.set("ADD waiting :minus, returned :minus")
            } else {
                stock
                    .set("ADD waiting :minus, returned :minus DELETE kept_seats :labels")
                    .value(":labels", labels(&seats))
            };
            let mut items = vec![
                self.entry_change(&first)
                    .set("SET #status = :offered, offer = :offer REMOVE GSI1PK, GSI1SK")
                    .when("#status = :waiting")
                    .value(":offered", s("OFFERED"))
                    .value(":offer", s(offer.id.to_string()))
                    .build()?,
                stock.build()?,
                create(&self.table, self.new_reservation_item(&offer)?)?,
                self.count_for(&offer, limit).build()?,
            ];
            for seat in &seats {
                items.push(
                    self.kept_seat(session, sector, *seat)
                        .set("SET #s = :held, reservation_id = :rid, hold_expires_at = :exp")
                        .value(":held", s("HELD"))
                        .value(":rid", s(offer.id.to_string()))
                        .value(":exp", n(offer.expires_at.timestamp()))
                        .build()?,
                );
            }
            let failed = self.write_built(items).await?;
            if failed.is_empty() {
                offers.push(offer);
            } else if failed == [LIMIT_ITEM] {
                // The fan holds or bought as many tickets as they may since they joined.
                self.leave(&first).await?;
            }
        }
        Ok(offers)
    }
}
