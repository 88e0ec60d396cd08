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
    item::{Item, LimitItem, SectorStock},
    keys,
    transact::{Change, n, s},
};
use crate::domain::{RequestId, RequestRecord, RequestStatus, Reservation, SectorCode, SessionId};

/// Finished requests stay readable this long, then DynamoDB's TTL removes them.
const KEEP: Duration = Duration::days(7);

/// A sector's live counts as a consumer sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectorState {
    /// Places on sale (numbered sectors: may lag lapsed holds until they are swept).
    pub available: i64,
    /// Marked when a request found nothing left; cleared when places come back.
    pub sold_out: bool,
}

/// What a batch of one sector's requests is decided against.
#[derive(Clone, Debug, Default)]
pub struct BatchContext {
    /// Those of the batch's requests already decided (redelivered).
    pub decided: HashSet<RequestId>,
    /// Tickets each of the batch's customers holds or bought in the session.
    pub held: HashMap<String, u32>,
    pub state: Option<SectorState>,
}

pub trait Requests: Sync {
    /// Reads, in one BatchGetItem, which of `requests` are decided, what `customers` hold in the
    /// session and the sector's state.
    fn batch_context(
        &self,
        session: SessionId,
        sector: &SectorCode,
        requests: &[RequestId],
        customers: &[&str],
    ) -> impl Future<Output = Result<BatchContext, StoreError>> + Send;
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
    fn sector_state(
        &self,
        session: SessionId,
        sector: &SectorCode,
    ) -> impl Future<Output = Result<Option<SectorState>, StoreError>> + Send;
    /// Marks the sector sold out if nothing is left in it now; whether it did (places that
    /// came back meanwhile leave it unmarked).
    fn mark_sold_out(
        &self,
        session: SessionId,
        sector: &SectorCode,
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

/// The sector's stock item with the consumer's sold-out mark.
#[derive(Deserialize)]
struct MarkedStock {
    #[serde(flatten)]
    stock: SectorStock,
    #[serde(default)]
    sold_out: bool,
}

impl From<MarkedStock> for SectorState {
    fn from(m: MarkedStock) -> Self {
        SectorState {
            available: m.stock.available,
            sold_out: m.sold_out,
        }
    }
}

impl Requests for DynamoStore {
    async fn batch_context(
        &self,
        session: SessionId,
        sector: &SectorCode,
        requests: &[RequestId],
        customers: &[&str],
    ) -> Result<BatchContext, StoreError> {
        let mut wanted: Vec<(String, &str)> = requests
            .iter()
            .map(|id| (keys::request(*id), keys::REQUEST_SK))
            .collect();
        wanted.extend(
            customers
                .iter()
                .map(|c| (keys::customer_limit(session, c), keys::LIMIT_SK)),
        );
        wanted.push((keys::sector(session, sector), keys::STOCK_SK));
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
                _ => {}
            }
        }
        Ok(context)
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
        match written.map_err(StoreError::from) {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
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
        self.hold_with(reservation, limit, now, Some(decision))
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

    async fn sector_state(
        &self,
        session: SessionId,
        sector: &SectorCode,
    ) -> Result<Option<SectorState>, StoreError> {
        Ok(self
            .get::<MarkedStock>(keys::sector(session, sector), keys::STOCK_SK)
            .await?
            .map(SectorState::from))
    }

    async fn mark_sold_out(
        &self,
        session: SessionId,
        sector: &SectorCode,
    ) -> Result<bool, StoreError> {
        Change::on(&self.table, keys::sector(session, sector), keys::STOCK_SK)
            .set("SET sold_out = :yes")
            .when("available <= :none")
            .value(":yes", AttributeValue::Bool(true))
            .value(":none", n(0))
            .apply(&self.client)
            .await
    }
}
