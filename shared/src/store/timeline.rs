//! Each session's timeline (one item a minute: tickets sold, tickets whose hold ends) and each
//! reservation's history (one item a step), kept from the table's stream. A step's history item
//! is written in the same transaction as its minutes' counts, on the condition that it does not
//! exist yet: a change delivered twice is counted once.

use std::{collections::BTreeMap, future::Future};

use aws_sdk_dynamodb::types::TransactWriteItem;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Catalog, DynamoStore, StoreError,
    dynamo::data,
    item::{Item, MapItem},
    keys,
    transact::{Change, TransactError, create, n, s, transact},
};
use crate::domain::{
    HistoryEntry, Minute, ReservationId, SectorCode, SectorLayout, SessionId, Step, Tally,
    seat_map::{MapBlock, SeatChange},
};

/// Items of one transaction.
const MAX_ITEMS: usize = 100;

pub trait Timeline: Sync {
    /// Records each step once: a step whose history entry exists already is passed over.
    /// Returns how many steps were new.
    fn record(&self, steps: &[Step]) -> impl Future<Output = Result<usize, StoreError>> + Send;
    /// Draws each seat's change in its sector's map, in order: each block touched is read, drawn
    /// and written back on the condition that its version did not move meanwhile. Drawing a
    /// change again draws the same. Returns how many blocks were written.
    fn draw_seats(
        &self,
        changes: &[SeatChange],
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
    /// The session's minutes from `from` to `to` (both included) that count something.
    fn timeline(
        &self,
        session: SessionId,
        from: Minute,
        to: Minute,
    ) -> impl Future<Output = Result<Vec<(Minute, Tally)>, StoreError>> + Send;
    /// A reservation's steps, oldest first.
    fn history(
        &self,
        reservation: ReservationId,
    ) -> impl Future<Output = Result<Vec<HistoryEntry>, StoreError>> + Send;
}

#[derive(Serialize, Deserialize)]
struct MinuteItem {
    minute: DateTime<Utc>,
    #[serde(default)]
    sold: i64,
    #[serde(default)]
    expiring: i64,
}

impl DynamoStore {
    /// The transaction recording `steps`: their history entries first (in order), then the
    /// minutes they count in.
    fn recording(&self, steps: &[&Step]) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut items = Vec::new();
        let mut minutes: BTreeMap<(SessionId, Minute), Tally> = BTreeMap::new();
        for step in steps {
            let history = Item::new(
                keys::reservation(step.reservation),
                keys::history_sk(step.entry.version),
                &step.entry,
            );
            items.push(create(&self.table, serde_dynamo::to_item(history)?)?);
            for (minute, tally) in &step.tallies {
                let sum = minutes.entry((step.session, *minute)).or_default();
                sum.sold += tally.sold;
                sum.expiring += tally.expiring;
            }
        }
        for ((session, minute), tally) in minutes.into_iter().filter(|(_, t)| !t.is_zero()) {
            let change = Change::on(
                &self.table,
                keys::timeline(session),
                &keys::minute_sk(minute),
            )
            .set("SET #minute = if_not_exists(#minute, :minute) ADD sold :sold, expiring :expiring")
            .name("#minute", "minute")
            .value(":minute", s(minute.to_rfc3339()))
            .value(":sold", n(tally.sold))
            .value(":expiring", n(tally.expiring));
            items.push(change.build()?);
        }
        Ok(items)
    }
}

/// Steps in groups whose transaction stays within `MAX_ITEMS` (a step's history entry and each
/// minute it counts in that the group does not count in yet).
fn groups(steps: &[Step]) -> Vec<Vec<&Step>> {
    let mut groups: Vec<Vec<&Step>> = Vec::new();
    let mut minutes = std::collections::BTreeSet::new();
    for step in steps {
        let new_minutes = step
            .tallies
            .keys()
            .filter(|m| !minutes.contains(&(step.session, **m)))
            .count();
        let size = groups.last().map_or(0, Vec::len) + minutes.len();
        if groups.is_empty() || size + 1 + new_minutes > MAX_ITEMS {
            groups.push(Vec::new());
            minutes.clear();
        }
        minutes.extend(step.tallies.keys().map(|m| (step.session, *m)));
        groups.last_mut().expect("a group").push(step);
    }
    groups
}

/// Times a block is read and written again when another writer moved it meanwhile.
const DRAW_ATTEMPTS: u32 = 5;

impl DynamoStore {
    /// Draws `changes` (in order) in one block of a sector's map.
    async fn draw_block(
        &self,
        session: SessionId,
        sector: &SectorCode,
        first_row: u16,
        changes: &[&SeatChange],
    ) -> Result<(), StoreError> {
        let (pk, sk) = (
            keys::seat_map(session, sector),
            keys::map_block_sk(first_row),
        );
        for _ in 0..DRAW_ATTEMPTS {
            let Some(mut item) = self.get::<MapItem>(pk.clone(), &sk).await? else {
                // A sector created before maps were kept: nothing to draw in.
                return Ok(());
            };
            let before = item.block.rows.clone();
            for change in changes {
                item.block.set(change.seat, change.mark);
            }
            // Drawn already (a new sector's seats, a change delivered again): nothing to write.
            if item.block.rows == before {
                return Ok(());
            }
            let version = item.version;
            item.version += 1;
            let written = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(serde_dynamo::to_item(Item::new(
                    pk.clone(),
                    sk.clone(),
                    item,
                ))?))
                .condition_expression("version = :v OR attribute_not_exists(version)")
                .expression_attribute_values(":v", n(version as i64))
                .send()
                .await;
            match written.map_err(StoreError::from) {
                Ok(_) => return Ok(()),
                Err(StoreError::ConditionFailed) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Unavailable(
            "a seat map block kept moving under its writes".into(),
        ))
    }
}

impl Timeline for DynamoStore {
    async fn draw_seats(&self, changes: &[SeatChange]) -> Result<usize, StoreError> {
        let mut blocks: BTreeMap<(SessionId, SectorCode, u16), Vec<&SeatChange>> = BTreeMap::new();
        for change in changes {
            let Some(session) = self.session(change.session).await? else {
                continue;
            };
            let Some(SectorLayout::Numbered { seats_per_row, .. }) =
                session.sector(change.sector.as_str()).map(|s| &s.layout)
            else {
                continue;
            };
            let first_row = MapBlock::first_row_of(change.seat, *seats_per_row);
            blocks
                .entry((change.session, change.sector.clone(), first_row))
                .or_default()
                .push(change);
        }
        let drawn = blocks.len();
        futures::future::try_join_all(blocks.iter().map(
            |((session, sector, first_row), changes)| {
                self.draw_block(*session, sector, *first_row, changes)
            },
        ))
        .await?;
        Ok(drawn)
    }

    async fn record(&self, steps: &[Step]) -> Result<usize, StoreError> {
        let mut recorded = 0;
        for mut group in groups(steps) {
            while !group.is_empty() {
                match transact(&self.client, self.recording(&group)?).await {
                    Ok(()) => {
                        recorded += group.len();
                        break;
                    }
                    // History entries that exist: steps recorded by an earlier delivery.
                    Err(TransactError::Cancelled(cancelled)) => {
                        let done: Vec<usize> = cancelled.failed().collect();
                        if done.iter().any(|&i| i >= group.len()) {
                            return Err(StoreError::Failed("a timeline count was refused".into()));
                        }
                        let mut index = 0;
                        group.retain(|_| {
                            index += 1;
                            !done.contains(&(index - 1))
                        });
                    }
                    Err(TransactError::Store(e)) => return Err(e),
                }
            }
        }
        Ok(recorded)
    }

    async fn timeline(
        &self,
        session: SessionId,
        from: Minute,
        to: Minute,
    ) -> Result<Vec<(Minute, Tally)>, StoreError> {
        let items = self
            .query_all(
                self.query()
                    .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
                    .expression_attribute_values(":pk", s(keys::timeline(session)))
                    .expression_attribute_values(":from", s(keys::minute_sk(from)))
                    .expression_attribute_values(":to", s(keys::minute_sk(to))),
            )
            .await?;
        Ok(data::<MinuteItem>(items)?
            .into_iter()
            .map(|m| {
                (
                    m.minute,
                    Tally {
                        sold: m.sold,
                        expiring: m.expiring,
                    },
                )
            })
            .filter(|(_, t)| !t.is_zero())
            .collect())
    }

    async fn history(&self, reservation: ReservationId) -> Result<Vec<HistoryEntry>, StoreError> {
        let items = self
            .query_all(
                self.query()
                    .key_condition_expression("PK = :pk AND begins_with(SK, :history)")
                    .expression_attribute_values(":pk", s(keys::reservation(reservation)))
                    .expression_attribute_values(":history", s(keys::HISTORY_PREFIX))
                    .consistent_read(true),
            )
            .await?;
        data(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(reservation: u128, minutes: &[i64]) -> Step {
        let start: DateTime<Utc> = "2026-12-03T20:00:00Z".parse().unwrap();
        Step {
            reservation: ReservationId::from_ulid(ulid::Ulid(reservation)),
            session: SessionId::from_ulid(ulid::Ulid(1)),
            entry: HistoryEntry {
                status: crate::domain::ReservationStatus::Held,
                version: 1,
                at: start,
                by: None,
            },
            tallies: minutes
                .iter()
                .map(|m| {
                    (
                        start + chrono::TimeDelta::minutes(*m),
                        Tally {
                            sold: 1,
                            expiring: 0,
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn groups_keep_each_transaction_within_a_hundred_items() {
        // 150 steps in one minute: 99 history entries and the minute, then the rest.
        let same: Vec<Step> = (0..150).map(|i| step(i, &[0])).collect();
        let sizes: Vec<usize> = groups(&same).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![99, 51]);
        // Each step in two minutes of its own: 33 steps and 66 minutes a group.
        let spread: Vec<Step> = (0..70)
            .map(|i| step(i, &[2 * i as i64, 2 * i as i64 + 1]))
            .collect();
        let sizes: Vec<usize> = groups(&spread).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![33, 33, 4]);
    }
}
