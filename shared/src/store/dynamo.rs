//! The DynamoDB implementation of the storage ports.

use std::{collections::HashMap, time::Duration};

use aws_sdk_dynamodb::{
    Client,
    operation::query::builders::QueryFluentBuilder,
    types::{AttributeValue, KeysAndAttributes, PutRequest, ReturnConsumedCapacity, WriteRequest},
};
use futures::{StreamExt, TryStreamExt, future::try_join_all, stream};
use serde::{Serialize, de::DeserializeOwned};

use super::{
    Catalog, Page, SectorCounts, SessionStock, StoreError, cursor,
    item::{Item, MapItem, SeatItem, SectorStock, ShardItem},
    keys,
};
use crate::domain::{
    Event, EventId, Line, Product, ProductId, Seat, SeatLabel, Sector, SectorCode, Session,
    SessionId, seat_map, stock,
};

pub(super) type Attributes = HashMap<String, AttributeValue>;

/// BatchWriteItem takes at most 25 requests.
const BATCH: usize = 25;
/// Batches in flight at once when a session's seats are written.
const BATCHES_IN_FLIGHT: usize = 8;
/// Rounds of re-sending the items DynamoDB left unprocessed before giving up.
const UNPROCESSED_ROUNDS: u32 = 8;

#[derive(Clone, Debug)]
pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) table: String,
    /// Reads a warm Lambda keeps between invocations (see [`Warm`]).
    pub(super) warm: std::sync::Arc<Warm>,
}

/// How long a warm process reuses an event's product list for hold suggestions.
const SUGGESTIONS_TTL: Duration = Duration::from_secs(30);

/// The keys of a sector's stock shards: its places' (none in an unsharded session), or its seat
/// counters.
pub(super) fn shard_keys(session: &Session, sector: &Sector) -> Vec<(String, &'static str)> {
    (0..session.stock_shards(sector))
        .map(|k| {
            (
                keys::stock_shard(session.id, &sector.code, k),
                keys::SHARD_SK,
            )
        })
        .collect()
}

/// How long a warm process shows a sector's line, and its sold-out mark, as it read them.
const LINE_TTL: Duration = Duration::from_secs(1);

type SectorKey = (SessionId, SectorCode);

/// What a warm process may remember: sessions (never changed once created) and, briefly, the
/// product lists that suggestions are drawn from, how far each line has moved (shown to the fans
/// who wait in it) and whether a sector is marked sold out (new requests for it are turned away
/// at the door; the queue would refuse them anyway). Nothing that decides a hold is cached.
#[derive(Debug)]
pub(super) struct Warm {
    sessions: std::sync::RwLock<HashMap<SessionId, Session>>,
    pub(super) products: Kept<EventId, Vec<Product>>,
    pub(super) lines: Kept<SectorKey, Option<Line>>,
    pub(super) sold_out: Kept<SectorKey, bool>,
}

impl Default for Warm {
    fn default() -> Self {
        Self {
            sessions: Default::default(),
            products: Kept::new(SUGGESTIONS_TTL),
            lines: Kept::new(LINE_TTL),
            sold_out: Kept::new(LINE_TTL),
        }
    }
}

/// Values a warm process shows for `ttl` after it read them.
#[derive(Debug)]
pub(super) struct Kept<K, V> {
    ttl: Duration,
    values: std::sync::Mutex<HashMap<K, (std::time::Instant, V)>>,
}

impl<K: std::hash::Hash + Eq, V: Clone> Kept<K, V> {
    fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            values: Default::default(),
        }
    }

    /// The value read for `key` less than `ttl` ago.
    pub(super) fn get(&self, key: &K) -> Option<V> {
        self.values
            .lock()
            .ok()?
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, value)| value.clone())
    }

    /// Keeps what was just read for `key`, and lets go of what is too old to show.
    pub(super) fn keep(&self, key: K, value: V) {
        if let Ok(mut values) = self.values.lock() {
            values.retain(|_, (at, _)| at.elapsed() < self.ttl);
            values.insert(key, (std::time::Instant::now(), value));
        }
    }
}

impl DynamoStore {
    pub fn new(sdk: &aws_config::SdkConfig, table: &str) -> Self {
        Self::from_client(Client::new(sdk), table)
    }

    pub fn from_client(client: Client, table: &str) -> Self {
        Self {
            client,
            table: table.to_owned(),
            warm: Default::default(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Puts an item only if no item has its key.
    pub(super) async fn create<T: Serialize>(&self, item: &Item<T>) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(item)?))
            .condition_expression("attribute_not_exists(PK)")
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        Ok(())
    }

    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        pk: String,
        sk: &str,
    ) -> Result<Option<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .key(keys::PK, AttributeValue::S(pk))
            .key(keys::SK, AttributeValue::S(sk.to_owned()))
            .send()
            .await?;
        match out.item {
            Some(item) => Ok(Some(datum(item)?)),
            None => Ok(None),
        }
    }

    /// Items by key with BatchGetItem (strongly consistent), re-asking for unprocessed keys.
    pub(super) async fn get_many(
        &self,
        keys: Vec<(String, &str)>,
    ) -> Result<Vec<Attributes>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let wanted: Vec<Attributes> = chunk
                .iter()
                .map(|(pk, sk)| {
                    HashMap::from([
                        (keys::PK.to_owned(), AttributeValue::S(pk.clone())),
                        (keys::SK.to_owned(), AttributeValue::S((*sk).to_owned())),
                    ])
                })
                .collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(wanted))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Failed(Box::new(e)))?,
            );
            let mut round = 0;
            while let Some(keys_and_attributes) = request.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys_and_attributes)
                    .send()
                    .await?;
                found.extend(
                    out.responses
                        .and_then(|mut r| r.remove(&self.table))
                        .unwrap_or_default(),
                );
                request = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys.is_empty());
                if request.is_some() {
                    if round == UNPROCESSED_ROUNDS {
                        return Err(StoreError::Unavailable("keys still unprocessed".into()));
                    }
                    tokio::time::sleep(backoff(round)).await;
                    round += 1;
                }
            }
        }
        Ok(found)
    }

    /// One page of a GSI1 partition, newest first, from an opaque cursor checked to be of it.
    pub(super) async fn list_gsi1(
        &self,
        partition: String,
        limit: u32,
        after: Option<&str>,
    ) -> Result<Page<Attributes>, StoreError> {
        let names = [keys::PK, keys::SK, keys::GSI1PK, keys::GSI1SK];
        let start = after
            .map(|c| cursor::decode(c, &names, &[(keys::GSI1PK, partition.as_str())]))
            .transpose()?;
        let out = self
            .query()
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(partition.clone()))
            .scan_index_forward(false)
            .limit(limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await?;
        let next = out
            .last_evaluated_key
            .as_ref()
            .map(cursor::encode)
            .transpose()?;
        Ok(Page {
            items: out.items.unwrap_or_default(),
            next,
        })
    }

    pub(super) fn query(&self) -> QueryFluentBuilder {
        self.client.query().table_name(&self.table)
    }

    /// Every item a query matches, following its pages.
    pub(super) async fn query_all(
        &self,
        query: QueryFluentBuilder,
    ) -> Result<Vec<Attributes>, StoreError> {
        Ok(query.into_paginator().items().send().try_collect().await?)
    }

    /// Every item of GSI1 partition `partition`, in key order.
    pub(super) async fn query_gsi1(
        &self,
        partition: String,
    ) -> Result<Vec<Attributes>, StoreError> {
        self.query_all(
            self.query()
                .index_name(keys::GSI1)
                .key_condition_expression("GSI1PK = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(partition)),
        )
        .await
    }

    /// Every item of partition `pk` whose sort key starts with `prefix`, in key order.
    pub(super) async fn query_prefix(
        &self,
        pk: String,
        prefix: &str,
    ) -> Result<Vec<Attributes>, StoreError> {
        self.query_all(
            self.query()
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", AttributeValue::S(pk))
                .expression_attribute_values(":prefix", AttributeValue::S(prefix.to_owned())),
        )
        .await
    }

    /// Writes many items with BatchWriteItem, some batches in flight at once, re-sending what
    /// DynamoDB leaves unprocessed with jittered backoff.
    async fn write_all(&self, items: Vec<Attributes>) -> Result<(), StoreError> {
        let batches: Vec<Vec<WriteRequest>> = items
            .chunks(BATCH)
            .map(|chunk| {
                chunk
                    .iter()
                    .map(|item| {
                        let put = PutRequest::builder().set_item(Some(item.clone())).build();
                        put.map(|p| WriteRequest::builder().put_request(p).build())
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Failed(Box::new(e)))?;
        stream::iter(batches)
            .map(|batch| self.write_batch(batch))
            .buffer_unordered(BATCHES_IN_FLIGHT)
            .try_collect()
            .await
    }

    async fn write_batch(&self, mut batch: Vec<WriteRequest>) -> Result<(), StoreError> {
        for round in 0..UNPROCESSED_ROUNDS {
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, batch)
                .send()
                .await?;
            batch = out
                .unprocessed_items
                .and_then(|mut left| left.remove(&self.table))
                .unwrap_or_default();
            if batch.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(backoff(round)).await;
        }
        Err(StoreError::Unavailable(
            format!(
                "{} items still unprocessed after {UNPROCESSED_ROUNDS} rounds",
                batch.len()
            )
            .into(),
        ))
    }
}

/// Full-jitter exponential backoff: a random wait up to 25 ms × 2^round, capped at 1 s.
pub(super) fn backoff(round: u32) -> Duration {
    let ceiling = (25u64 << round.min(6)).min(1_000);
    Duration::from_millis(fastrand::u64(1..=ceiling))
}

pub(super) fn data<T: DeserializeOwned>(items: Vec<Attributes>) -> Result<Vec<T>, StoreError> {
    items.into_iter().map(datum).collect()
}

/// One item's entity, without its keys.
pub(super) fn datum<T: DeserializeOwned>(item: Attributes) -> Result<T, StoreError> {
    Ok(serde_dynamo::from_item::<_, Item<T>>(item)?.data)
}

/// An event's item: listed on GSI1 among all events, newest first.
fn event_item(event: &Event) -> Item<&Event> {
    Item::new(keys::event(event.id), keys::EVENT_SK, event)
        .listed(keys::EVENTS.to_owned(), keys::event_list_sk(event.id))
}

impl Catalog for DynamoStore {
    async fn put_event(&self, event: &Event) -> Result<(), StoreError> {
        self.create(&event_item(event)).await
    }

    async fn replace_event(&self, event: &Event) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(event_item(event))?))
            .condition_expression("attribute_exists(PK)")
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        Ok(())
    }

    async fn event(&self, id: EventId) -> Result<Option<Event>, StoreError> {
        self.get(keys::event(id), keys::EVENT_SK).await
    }

    async fn events(&self, limit: u32, after: Option<&str>) -> Result<Page<Event>, StoreError> {
        let page = self
            .list_gsi1(keys::EVENTS.to_owned(), limit, after)
            .await?;
        Ok(Page {
            items: data(page.items)?,
            next: page.next,
        })
    }

    async fn put_session(&self, session: &Session) -> Result<(), StoreError> {
        let mut items = Vec::new();
        for sector in &session.sectors {
            let capacity = sector.capacity();
            let shards = session.place_shards(sector);
            let stock = SectorStock {
                code: sector.code.clone(),
                capacity,
                // What is not on the shards.
                available: if shards > 0 { 0 } else { i64::from(capacity) },
                sold: 0,
                expired: 0,
                cancelled: 0,
                entered: 0,
                discounts: 0,
                waiting: 0,
                returned: 0,
                kept_seats: Default::default(),
            };
            items.push(serde_dynamo::to_item(Item::new(
                keys::sector(session.id, &sector.code),
                keys::STOCK_SK,
                stock,
            ))?);
            if shards > 0 {
                for (shard, places) in stock::shards(capacity).into_iter().enumerate() {
                    let shard = shard as u32;
                    items.push(serde_dynamo::to_item(Item::new(
                        keys::stock_shard(session.id, &sector.code, shard),
                        keys::SHARD_SK,
                        ShardItem {
                            code: sector.code.clone(),
                            shard,
                            available: i64::from(places),
                        },
                    ))?);
                }
            }
            for block in seat_map::blocks(&sector.layout) {
                items.push(serde_dynamo::to_item(Item::new(
                    keys::seat_map(session.id, &sector.code),
                    keys::map_block_sk(block.first_row),
                    MapItem { block, version: 0 },
                ))?);
            }
            // A session kept by blocks writes each seat when it is first taken.
            if !session.seat_blocks {
                for seat in sector.layout.seats() {
                    items.push(serde_dynamo::to_item(Item::new(
                        keys::sector(session.id, &sector.code),
                        keys::seat_sk(seat),
                        SeatItem::free(seat),
                    ))?);
                }
            }
        }
        self.write_all(items).await?;
        // Last, so that a session is never visible without its sectors and seats.
        let item = Item::new(keys::session(session.id), keys::SESSION_SK, session).listed(
            keys::sessions_of(session.event_id),
            format!("{}#{}", session.starts_at.to_rfc3339(), session.id),
        );
        self.create(&item).await
    }

    async fn session(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        if let Some(session) = self
            .warm
            .sessions
            .read()
            .ok()
            .and_then(|s| s.get(&id).cloned())
        {
            return Ok(Some(session));
        }
        let session: Option<Session> = self.get(keys::session(id), keys::SESSION_SK).await?;
        if let (Some(session), Ok(mut warm)) = (&session, self.warm.sessions.write()) {
            warm.insert(id, session.clone());
        }
        Ok(session)
    }

    async fn suggestable_products(&self, event: EventId) -> Result<Vec<Product>, StoreError> {
        if let Some(products) = self.warm.products.get(&event) {
            return Ok(products);
        }
        let products = self.products(event).await?;
        self.warm.products.keep(event, products.clone());
        Ok(products)
    }

    async fn session_stock(&self, id: SessionId) -> Result<Option<SessionStock>, StoreError> {
        let Some(session) = self.session(id).await? else {
            return Ok(None);
        };
        let keys: Vec<(String, &str)> = session
            .sectors
            .iter()
            .map(|s| (keys::sector(id, &s.code), keys::STOCK_SK))
            .collect();
        let keys: Vec<(String, &str)> = keys
            .into_iter()
            .chain(session.sectors.iter().flat_map(|s| shard_keys(&session, s)))
            .collect();
        let items = self.get_many(keys).await?;
        let (stock, shards): (Vec<Attributes>, Vec<Attributes>) = items.into_iter().partition(
            |i| matches!(i.get(keys::SK), Some(AttributeValue::S(sk)) if sk == keys::STOCK_SK),
        );
        let stock: Vec<SectorStock> = data(stock)?;
        let mut on_shards: HashMap<SectorCode, i64> = HashMap::new();
        for shard in data::<ShardItem>(shards)? {
            *on_shards.entry(shard.code).or_default() += shard.available;
        }
        let available = stock
            .iter()
            .map(|s| {
                let on_sale = s.available + on_shards.get(&s.code).copied().unwrap_or(0);
                (s.code.clone(), on_sale.max(0) as u32)
            })
            .collect();
        let counts = stock
            .into_iter()
            .map(|s| {
                (
                    s.code,
                    SectorCounts {
                        sold: s.sold,
                        expired: s.expired,
                        cancelled: s.cancelled,
                        entered: s.entered,
                        discounts: s.discounts,
                        waiting: s.waiting,
                        returned: s.returned,
                    },
                )
            })
            .collect();
        Ok(Some(SessionStock {
            session,
            available,
            counts,
        }))
    }

    async fn sessions_of(&self, event: EventId) -> Result<Vec<Session>, StoreError> {
        let items = self.query_gsi1(keys::sessions_of(event)).await?;
        data(items)
    }

    async fn seats(&self, session: &Session, sector: &Sector) -> Result<Vec<Seat>, StoreError> {
        if !session.seat_blocks {
            let items = self
                .query_prefix(keys::sector(session.id, &sector.code), keys::SEAT_PREFIX)
                .await?;
            return Ok(data::<SeatItem>(items)?
                .into_iter()
                .map(SeatItem::into_seat)
                .collect());
        }
        // Each block's partition holds the seats taken in it; any other is free.
        let blocks = try_join_all(seat_map::blocks(&sector.layout).into_iter().map(|block| {
            self.query_prefix(
                keys::seat_block(session.id, &sector.code, block.first_row),
                keys::SEAT_PREFIX,
            )
        }))
        .await?;
        let mut taken: HashMap<SeatLabel, Seat> = HashMap::new();
        for items in blocks {
            for item in data::<SeatItem>(items)? {
                taken.insert(item.seat, item.into_seat());
            }
        }
        Ok(sector
            .layout
            .seats()
            .map(|label| taken.remove(&label).unwrap_or_else(|| Seat::free(label)))
            .collect())
    }

    async fn seat_map(
        &self,
        session: &Session,
        sector: &Sector,
    ) -> Result<Vec<seat_map::MapBlock>, StoreError> {
        let items = self
            .query_prefix(
                keys::seat_map(session.id, &sector.code),
                keys::MAP_BLOCK_PREFIX,
            )
            .await?;
        let blocks: Vec<seat_map::MapBlock> = data::<MapItem>(items)?
            .into_iter()
            .map(|i| i.block)
            .collect();
        if !blocks.is_empty() {
            return Ok(blocks);
        }
        // A sector created before maps were kept.
        let seats = self.seats(session, sector).await?;
        Ok(seat_map::drawn(&sector.layout, &seats, crate::clock::now()))
    }

    async fn put_product(&self, product: &Product) -> Result<(), StoreError> {
        /// The product and the stock it starts with, which the audit balances against.
        #[derive(Serialize)]
        struct Stocked<'a> {
            #[serde(flatten)]
            product: &'a Product,
            #[serde(skip_serializing_if = "Option::is_none")]
            stocked: Option<u32>,
        }
        let stocked = Stocked {
            product,
            stocked: product.stock,
        };
        let item = Item::new(keys::product(product.id), keys::PRODUCT_SK, stocked).listed(
            keys::products_of(product.event_id),
            keys::product_list_sk(product.id),
        );
        self.create(&item).await
    }

    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        self.get(keys::product(id), keys::PRODUCT_SK).await
    }

    async fn products(&self, event: EventId) -> Result<Vec<Product>, StoreError> {
        let items = self.query_gsi1(keys::products_of(event)).await?;
        data(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_within_its_ceiling() {
        for round in 0..20 {
            let wait = backoff(round);
            assert!(
                wait >= Duration::from_millis(1) && wait <= Duration::from_secs(1),
                "{wait:?}"
            );
        }
    }
}
