//! Queued ticket requests in DynamoDB: their records, the hold that fulfils one written in the
//! same transaction as its decision, and the sector marks that let later requests skip the seats.

use std::{
    collections::{HashMap, HashSet},
    future::Future,
};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{
    DynamoStore, StoreError, WriteError,
    dynamo::data,
    dynamo::shard_keys,
    item::{Item, LimitItem, MarkedStock, ShardItem},
    keys,
    transact::{Change, n, s},
};
use crate::domain::{
    Line, RequestId, RequestRecord, RequestStatus, Reservation, Sector, SectorCode, SectorLayout,
    Session, SessionId, line,
};

/// Finished requests stay readable this long, then DynamoDB's TTL removes them.
const KEEP: Duration = Duration::days(7);

/// A request listed as waiting with no record this long after it was made was never queued
/// (its process stopped before sending it): it no longer counts against its customer.
const NEVER_QUEUED_AFTER: Duration = Duration::minutes(10);

/// A sector's live counts as a consumer sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectorState {
    /// Places on sale (numbered sectors: may lag lapsed holds until they are swept).
    pub available: i64,
    /// Marked when a request found nothing left; cleared when places come back.
    pub sold_out: bool,
    /// What the sector's own stock item counts: places that come back change it (a numbered
    /// sector's holds count on its seat counters), so a mark is conditioned on it.
    pub on_item: i64,
}

/// What a batch of one sector's requests is decided against.
#[derive(Clone, Debug, Default)]
pub struct BatchContext {
    /// Those of the batch's requests already decided (redelivered).
    pub decided: HashSet<RequestId>,
    /// Tickets each of the batch's customers holds or bought in the session.
    pub held: HashMap<String, u32>,
    pub state: Option<SectorState>,
    /// How far the sector's line has moved.
    pub line: Option<Line>,
}

pub trait Requests: Sync {
    /// Reads, in one BatchGetItem, which of `requests` are decided, what `customers` hold in the
    /// session and the sector's state.
    fn batch_context(
        &self,
        session: &Session,
        sector: &Sector,
        requests: &[RequestId],
        customers: &[&str],
    ) -> impl Future<Output = Result<BatchContext, StoreError>> + Send;
    /// Lists `request` among the customer's waiting requests of the session, unless `cap` are
    /// waiting already (requests decided since, or never queued, are taken off first): whether
    /// it did. Listing the same request again is a yes.
    fn join_line(
        &self,
        session: SessionId,
        customer: &str,
        request: RequestId,
        cap: usize,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Takes `request` off its customer's waiting requests (it was never queued).
    fn leave_line(
        &self,
        session: SessionId,
        customer: &str,
        request: RequestId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// A number in the sector's line, drawn from counter `shard`.
    fn draw_number(
        &self,
        session: SessionId,
        sector: &SectorCode,
        shard: u32,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// How far the sector's line has moved, as a warm process read it within the last second
    /// (for showing a place in line; nothing is decided on it).
    fn line(
        &self,
        session: SessionId,
        sector: &SectorCode,
    ) -> impl Future<Output = Result<Option<Line>, StoreError>> + Send;
    /// Whether the sector is marked sold out, as a warm process read it within the last second
    /// (the queue refuses its requests without looking for seats until places come back).
    fn marked_sold_out(
        &self,
        session: SessionId,
        sector: &SectorCode,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Records that the line moved, unless a later batch recorded more already.
    fn advance_line(
        &self,
        session: SessionId,
        sector: &SectorCode,
        line: &Line,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Records a queued request, unless it is there already (perhaps decided): the record as
    /// stored.
    fn queue_request(
        &self,
        record: RequestRecord,
    ) -> impl Future<Output = Result<RequestRecord, StoreError>> + Send;
    fn request(
        &self,
        id: RequestId,
    ) -> impl Future<Output = Result<Option<RequestRecord>, StoreError>> + Send;
    /// Records a rejection, unless the request was decided already: whether it did.
    fn reject(
        &self,
        record: &RequestRecord,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Holds the reservation and records the request FULFILLED in one transaction.
    fn fulfil(
        &self,
        reservation: &Reservation,
        limit: u8,
        now: DateTime<Utc>,
        record: &RequestRecord,
    ) -> impl Future<Output = Result<(), WriteError>> + Send;
    /// The sector's longest-waiting request still QUEUED, if any: one Query of one item.
    fn oldest_queued(
        &self,
        session: SessionId,
        sector: &SectorCode,
    ) -> impl Future<Output = Result<Option<RequestRecord>, StoreError>> + Send;
    /// Marks the sector sold out if nothing is left in it now; whether it did (places that
    /// came back meanwhile leave it unmarked).
    fn mark_sold_out(
        &self,
        session: &Session,
        sector: &Sector,
        seen: &SectorState,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct RequestItem {
    #[serde(flatten)]
    pub(super) record: RequestRecord,
    ttl: i64,
    /// While QUEUED, the request is listed in its sector's line (`keys::sector_queue`); the
    /// decision's Put leaves these out, which takes it off.
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
}

fn item(record: &RequestRecord) -> Item<RequestItem> {
    let request = &record.request;
    let ttl = (record.decided_at.unwrap_or(request.requested_at) + KEEP).timestamp();
    let waiting = !record.is_decided();
    Item::new(
        keys::request(request.request_id),
        keys::REQUEST_SK,
        RequestItem {
            record: record.clone(),
            ttl,
            gsi2pk: waiting.then(|| keys::sector_queue(request.session_id, &request.sector)),
            gsi2sk: waiting.then(|| keys::queued_sk(request.requested_at, request.request_id)),
        },
    )
}

impl From<MarkedStock> for SectorState {
    fn from(m: MarkedStock) -> Self {
        SectorState {
            available: m.stock.available,
            sold_out: m.sold_out,
            on_item: m.stock.available,
        }
    }
}

impl DynamoStore {
    /// Takes `requests` off the customer's waiting requests of the session.
    async fn leave_lines(
        &self,
        session: SessionId,
        customer: &str,
        requests: Vec<String>,
    ) -> Result<(), StoreError> {
        Change::on(
            &self.table,
            keys::customer_limit(session, customer),
            keys::LIMIT_SK,
        )
        .set("DELETE waiting :ids")
        .value(":ids", AttributeValue::Ss(requests))
        .apply(&self.client)
        .await
        .map(|_| ())
    }
}

impl Requests for DynamoStore {
    async fn batch_context(
        &self,
        session: &Session,
        sector: &Sector,
        requests: &[RequestId],
        customers: &[&str],
    ) -> Result<BatchContext, StoreError> {
        let (shards, session) = (shard_keys(session, sector), session.id);
        let mut wanted: Vec<(String, &str)> = requests
            .iter()
            .map(|id| (keys::request(*id), keys::REQUEST_SK))
            .collect();
        wanted.extend(
            customers
                .iter()
                .map(|c| (keys::customer_limit(session, c), keys::LIMIT_SK)),
        );
        wanted.push((keys::sector(session, &sector.code), keys::STOCK_SK));
        wanted.push((keys::line(session, &sector.code), keys::LINE_SK));
        wanted.extend(shards);
        let mut on_shards = 0;
        let mut context = BatchContext::default();
        for item in self.get_many(wanted).await? {
            let sk = match item.get(keys::SK) {
                Some(AttributeValue::S(sk)) => sk.clone(),
                _ => continue,
            };
            match sk.as_str() {
                keys::REQUEST_SK => {
                    let request: Item<RequestItem> = serde_dynamo::from_item(item)?;
                    if request.data.record.is_decided() {
                        context
                            .decided
                            .insert(request.data.record.request.request_id);
                    }
                }
                keys::LIMIT_SK => {
                    let pk = match item.get(keys::PK) {
                        Some(AttributeValue::S(pk)) => pk.clone(),
                        _ => continue,
                    };
                    let limit: Item<LimitItem> = serde_dynamo::from_item(item)?;
                    if let Some((_, customer)) = keys::session_part(&pk, "#CUSTOMER#") {
                        let tickets = u32::try_from(limit.data.tickets).unwrap_or(0);
                        context.held.insert(customer.to_owned(), tickets);
                    }
                }
                keys::STOCK_SK => {
                    let stock: Item<MarkedStock> = serde_dynamo::from_item(item)?;
                    context.state = Some(stock.data.into());
                }
                keys::LINE_SK => {
                    let line: Item<Line> = serde_dynamo::from_item(item)?;
                    context.line = Some(line.data);
                }
                keys::SHARD_SK => {
                    let shard: Item<ShardItem> = serde_dynamo::from_item(item)?;
                    on_shards += shard.data.available;
                }
                _ => {}
            }
        }
        if let Some(state) = context.state.as_mut() {
            state.available += on_shards;
        }
        Ok(context)
    }

    async fn join_line(
        &self,
        session: SessionId,
        customer: &str,
        request: RequestId,
        cap: usize,
    ) -> Result<bool, StoreError> {
        let join = || {
            Change::on(
                &self.table,
                keys::customer_limit(session, customer),
                keys::LIMIT_SK,
            )
            .set("ADD waiting :id")
            .when(
                "attribute_not_exists(waiting) OR size(waiting) < :cap OR contains(waiting, :rid)",
            )
            .value(":id", AttributeValue::Ss(vec![request.to_string()]))
            .value(":rid", s(request.to_string()))
            .value(":cap", n(cap as i64))
            .apply(&self.client)
        };
        if join().await? {
            return Ok(true);
        }
        // Full: take off what no longer waits, then try once more.
        #[derive(Deserialize)]
        struct Waiting {
            #[serde(default)]
            waiting: HashSet<RequestId>,
        }
        let listed = self
            .get::<Waiting>(keys::customer_limit(session, customer), keys::LIMIT_SK)
            .await?
            .map(|w| w.waiting)
            .unwrap_or_default();
        let keys: Vec<(String, &str)> = listed
            .iter()
            .map(|id| (keys::request(*id), keys::REQUEST_SK))
            .collect();
        let records: HashMap<RequestId, RequestRecord> =
            data::<RequestItem>(self.get_many(keys).await?)?
                .into_iter()
                .map(|i| (i.record.request.request_id, i.record))
                .collect();
        let now = crate::clock::now();
        let gone: Vec<String> = listed
            .iter()
            .filter(|id| match records.get(id) {
                Some(record) => record.is_decided(),
                None => {
                    let made = DateTime::<Utc>::from(id.ulid().datetime());
                    now - made > NEVER_QUEUED_AFTER
                }
            })
            .map(ToString::to_string)
            .collect();
        if gone.is_empty() {
            return Ok(false);
        }
        self.leave_lines(session, customer, gone).await?;
        join().await
    }

    async fn leave_line(
        &self,
        session: SessionId,
        customer: &str,
        request: RequestId,
    ) -> Result<(), StoreError> {
        self.leave_lines(session, customer, vec![request.to_string()])
            .await
    }

    async fn draw_number(
        &self,
        session: SessionId,
        sector: &SectorCode,
        shard: u32,
    ) -> Result<u64, StoreError> {
        #[derive(Deserialize)]
        struct Counter {
            #[serde(default)]
            drawn: u64,
        }
        let drawn = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::line_counter(session, sector, shard)))
            .key(keys::SK, s(keys::LINE_SK.to_owned()))
            .update_expression("ADD drawn :one")
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send();
        // Everyone counted on the other counters joined before (or with) this request: read
        // at the same moment.
        let others: Vec<(String, &str)> = (0..line::LINE_SHARDS)
            .filter(|k| *k != shard)
            .map(|k| (keys::line_counter(session, sector, k), keys::LINE_SK))
            .collect();
        let (drawn, others) = futures::try_join!(
            async { drawn.await.map_err(StoreError::from) },
            self.get_many(others)
        )?;
        let mine = match drawn.attributes.as_ref().and_then(|a| a.get("drawn")) {
            Some(AttributeValue::N(drawn)) => drawn.parse().unwrap_or(0),
            _ => 0,
        };
        let others: u64 = data::<Counter>(others)?.iter().map(|c| c.drawn).sum();
        Ok(mine + others)
    }

    async fn line(
        &self,
        session: SessionId,
        sector: &SectorCode,
    ) -> Result<Option<Line>, StoreError> {
        let key = (session, sector.clone());
        if let Some(line) = self.warm.lines.get(&key) {
            return Ok(line);
        }
        let line: Option<Line> = self.get(keys::line(session, sector), keys::LINE_SK).await?;
        self.warm.lines.keep(key, line);
        Ok(line)
    }

    async fn marked_sold_out(
        &self,
        session: SessionId,
        sector: &SectorCode,
    ) -> Result<bool, StoreError> {
        let key = (session, sector.clone());
        if let Some(marked) = self.warm.sold_out.get(&key) {
            return Ok(marked);
        }
        let marked = self
            .get::<MarkedStock>(keys::sector(session, sector), keys::STOCK_SK)
            .await?
            .is_some_and(|m| m.sold_out);
        self.warm.sold_out.keep(key, marked);
        Ok(marked)
    }

    async fn advance_line(
        &self,
        session: SessionId,
        sector: &SectorCode,
        line: &Line,
    ) -> Result<(), StoreError> {
        let item = Item::new(keys::line(session, sector), keys::LINE_SK, line);
        let written = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(item)?))
            .condition_expression("attribute_not_exists(served) OR served <= :served")
            .expression_attribute_values(":served", n(line.served as i64))
            .send()
            .await;
        match written.map_err(StoreError::from) {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn queue_request(&self, record: RequestRecord) -> Result<RequestRecord, StoreError> {
        match self.create(&item(&record)).await {
            Ok(()) => Ok(record),
            Err(StoreError::ConditionFailed) => Ok(self
                .request(record.request.request_id)
                .await?
                .unwrap_or(record)),
            Err(e) => Err(e),
        }
    }

    async fn request(&self, id: RequestId) -> Result<Option<RequestRecord>, StoreError> {
        Ok(self
            .get::<RequestItem>(keys::request(id), keys::REQUEST_SK)
            .await?
            .map(|i| i.record))
    }

    async fn reject(&self, record: &RequestRecord) -> Result<bool, StoreError> {
        let written = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(item(record))?))
            .condition_expression("attribute_not_exists(PK) OR #status = :queued")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(
                ":queued",
                serde_dynamo::to_attribute_value(RequestStatus::Queued)?,
            )
            .send()
            .await;
        let rejected = match written.map_err(StoreError::from) {
            Ok(_) => true,
            Err(StoreError::ConditionFailed) => false,
            Err(e) => return Err(e),
        };
        let request = &record.request;
        self.leave_lines(
            request.session_id,
            &request.customer,
            vec![request.request_id.to_string()],
        )
        .await?;
        Ok(rejected)
    }

    async fn fulfil(
        &self,
        reservation: &Reservation,
        limit: u8,
        now: DateTime<Utc>,
        record: &RequestRecord,
    ) -> Result<(), WriteError> {
        let decision = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .set_item(Some(
                serde_dynamo::to_item(item(record)).map_err(StoreError::from)?,
            ))
            .condition_expression("attribute_not_exists(PK) OR #status = :queued")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(
                ":queued",
                serde_dynamo::to_attribute_value(RequestStatus::Queued)
                    .map_err(StoreError::from)?,
            )
            .build()
            .map_err(|e| StoreError::Failed(Box::new(e)))?;
        let decision = aws_sdk_dynamodb::types::TransactWriteItem::builder()
            .put(decision)
            .build();
        self.hold_with(
            reservation,
            limit,
            now,
            Some((record.request.request_id, decision)),
        )
        .await
    }

    async fn oldest_queued(
        &self,
        session: SessionId,
        sector: &SectorCode,
    ) -> Result<Option<RequestRecord>, StoreError> {
        let out = self
            .query()
            .index_name(keys::GSI2)
            .key_condition_expression("GSI2PK = :pk")
            .expression_attribute_values(":pk", s(keys::sector_queue(session, sector)))
            .limit(1)
            .send()
            .await?;
        Ok(data::<RequestItem>(out.items.unwrap_or_default())?
            .pop()
            .map(|i| i.record))
    }

    async fn mark_sold_out(
        &self,
        session: &Session,
        sector: &Sector,
        seen: &SectorState,
    ) -> Result<bool, StoreError> {
        let mark = Change::on(
            &self.table,
            keys::sector(session.id, &sector.code),
            keys::STOCK_SK,
        )
        .set("SET sold_out = :yes")
        .value(":yes", AttributeValue::Bool(true));
        if matches!(sector.layout, SectorLayout::Numbered { .. }) {
            // No seat was free when the batch read them after `seen`: none came back since.
            return mark
                .when("available = :seen")
                .value(":seen", n(seen.on_item))
                .apply(&self.client)
                .await;
        }
        let shards = shard_keys(session, sector);
        if shards.is_empty() {
            return mark
                .when("available <= :none")
                .value(":none", n(0))
                .apply(&self.client)
                .await;
        }
        // Places live on the shards: each must be empty, checked in the same transaction.
        let mut items = vec![mark];
        for (pk, sk) in shards {
            items.push(
                Change::on(&self.table, pk, sk)
                    .when("available <= :none")
                    .value(":none", n(0)),
            );
        }
        Ok(self.write(items).await?.is_empty())
    }
}
