//! What operations cost in DynamoDB: calls by operation and consumed write capacity as DynamoDB
//! reports it (`ReturnConsumedCapacity`), seen by an interceptor on the store's client.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::{
    config::{
        ConfigBag, Intercept, RuntimeComponents,
        interceptors::AfterDeserializationInterceptorContextRef,
    },
    error::BoxError,
    operation::{
        batch_get_item::BatchGetItemOutput, get_item::GetItemOutput, put_item::PutItemOutput,
        query::QueryOutput, transact_write_items::TransactWriteItemsOutput,
        update_item::UpdateItemOutput,
    },
};
use bilheteria::{api::purchase, payments::SimulatedProvider, store::DynamoStore};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Caller, Stack, outcome, request};

/// Every DynamoDB call a client makes, with the capacity units it consumed (write units for
/// writes, read units for reads).
#[derive(Clone, Debug, Default)]
pub struct Meter(Arc<Mutex<Vec<(&'static str, f64)>>>);

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "meter"
    }

    /// Reads are asked to report what they consume too (the store asks it of writes only).
    fn modify_before_serialization(
        &self,
        ctx: &mut aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextMut<
            '_,
        >,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::{
            operation::{
                batch_get_item::BatchGetItemInput, get_item::GetItemInput, query::QueryInput,
            },
            types::ReturnConsumedCapacity::Total,
        };
        let input = ctx.input_mut();
        if let Some(i) = input.downcast_mut::<GetItemInput>() {
            i.return_consumed_capacity = Some(Total);
        } else if let Some(i) = input.downcast_mut::<QueryInput>() {
            i.return_consumed_capacity = Some(Total);
        } else if let Some(i) = input.downcast_mut::<BatchGetItemInput>() {
            i.return_consumed_capacity = Some(Total);
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        ctx: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(out) = ctx.output_or_error() else {
            self.0.lock().unwrap().push(("error", 0.0));
            return Ok(());
        };
        let units = |c: Option<&aws_sdk_dynamodb::types::ConsumedCapacity>| {
            c.and_then(|c| c.capacity_units()).unwrap_or(0.0)
        };
        let call = if let Some(o) = out.downcast_ref::<TransactWriteItemsOutput>() {
            (
                "TransactWriteItems",
                o.consumed_capacity()
                    .iter()
                    .filter_map(|c| c.capacity_units())
                    .sum(),
            )
        } else if let Some(o) = out.downcast_ref::<PutItemOutput>() {
            ("PutItem", units(o.consumed_capacity()))
        } else if let Some(o) = out.downcast_ref::<UpdateItemOutput>() {
            ("UpdateItem", units(o.consumed_capacity()))
        } else if let Some(o) = out.downcast_ref::<GetItemOutput>() {
            ("GetItem", units(o.consumed_capacity()))
        } else if let Some(o) = out.downcast_ref::<BatchGetItemOutput>() {
            (
                "BatchGetItem",
                o.consumed_capacity()
                    .iter()
                    .filter_map(|c| c.capacity_units())
                    .sum(),
            )
        } else if let Some(o) = out.downcast_ref::<QueryOutput>() {
            ("Query", units(o.consumed_capacity()))
        } else {
            ("other", 0.0)
        };
        self.0.lock().unwrap().push(call);
        Ok(())
    }
}

impl Meter {
    /// A store over the stack's table whose every call this meter sees.
    pub async fn store(stack: &Stack) -> (DynamoStore, Meter) {
        let meter = Meter::default();
        let sdk = stack.dynamodb.sdk_config().await;
        let conf = aws_sdk_dynamodb::config::Builder::from(&sdk)
            .interceptor(meter.clone())
            .build();
        (
            DynamoStore::from_client(aws_sdk_dynamodb::Client::from_conf(conf), super::TABLE),
            meter,
        )
    }

    pub fn take(&self) -> Vec<(&'static str, f64)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// DynamoDB calls by operation, in order, and the write units they consumed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Cost {
    pub calls: Vec<&'static str>,
    pub wcu: f64,
    pub rcu: f64,
}

const READS: [&str; 3] = ["GetItem", "BatchGetItem", "Query"];

impl Cost {
    pub fn of(calls: &[(&'static str, f64)]) -> Self {
        let units = |reads: bool| {
            calls
                .iter()
                .filter(|(op, _)| READS.contains(op) == reads)
                .map(|(_, u)| u)
                .sum()
        };
        Self {
            calls: calls.iter().map(|(op, _)| *op).collect(),
            wcu: units(false),
            rcu: units(true),
        }
    }
}

/// What the direct purchase costs: a hold of two seats by a cold process (its first call reads
/// the session) and by a warm one, an add-on change, a checkout by card.
#[derive(Clone, Debug, Serialize)]
pub struct PurchaseCosts {
    pub hold_cold: Cost,
    pub hold_warm: Cost,
    pub add_on: Cost,
    pub checkout: Cost,
    /// Tickets the measured reservation sells.
    pub tickets: u32,
}

impl PurchaseCosts {
    /// Hold, add-on change and checkout, per ticket they sell.
    pub fn wcu_per_ticket(&self) -> f64 {
        (self.hold_cold.wcu + self.add_on.wcu + self.checkout.wcu) / f64::from(self.tickets)
    }
}

/// Measures [`PurchaseCosts`] on an emulator of its own, through the handlers.
pub async fn purchase() -> PurchaseCosts {
    let stack = Stack::start().await;
    super::seed_for_event_file(&stack.store, "hold-seats").await;
    let (store, meter) = Meter::store(&stack).await;
    let sales = super::sales();
    let alice = Caller::Customer(super::CUSTOMER);

    let body = json!({"seats": [{"sector": "plateia", "seat": "C-1"}, {"sector": "plateia", "seat": "C-2"}]}).to_string();
    let req = request(
        alice,
        "POST /sessions/{id}/holds",
        &[("id", super::SESSION_ID)],
        &[],
        Some(&body),
    );
    let (status, held, _) = outcome(purchase::hold_seats(req, &store, &sales).await);
    assert_eq!(status, 201, "{held}");
    let id = held["id"].as_str().unwrap().to_owned();
    let hold = Cost::of(&meter.take());

    let body = json!({"seats": [{"sector": "plateia", "seat": "D-1"}, {"sector": "plateia", "seat": "D-2"}]}).to_string();
    let req = request(
        Caller::Customer("bob"),
        "POST /sessions/{id}/holds",
        &[("id", super::SESSION_ID)],
        &[],
        Some(&body),
    );
    assert_eq!(
        outcome(purchase::hold_seats(req, &store, &sales).await).0,
        201
    );
    let warm_hold = Cost::of(&meter.take());

    let body = json!({"items": [{"product_id": super::PRODUCT_ID, "quantity": 2}]}).to_string();
    let req = request(
        alice,
        "PUT /reservations/{id}/products",
        &[("id", &id)],
        &[],
        Some(&body),
    );
    assert_eq!(outcome(purchase::set_products(req, &store).await).0, 200);
    let add_on = Cost::of(&meter.take());

    let body = json!({"payment": {"method": "card", "number": "4111111111111111"}}).to_string();
    let mut req = request(
        alice,
        "POST /reservations/{id}/checkout",
        &[("id", &id)],
        &[],
        Some(&body),
    );
    req.headers_mut()
        .insert("idempotency-key", "capacity-1".parse().unwrap());
    let (status, paid, _): (u16, Value, _) = outcome(
        purchase::checkout(req, &store, &SimulatedProvider, &sales, &super::signer()).await,
    );
    assert_eq!(status, 200, "{paid}");
    let checkout = Cost::of(&meter.take());

    PurchaseCosts {
        hold_cold: hold,
        hold_warm: warm_hold,
        add_on,
        checkout,
        tickets: 2,
    }
}

/// What a queued request costs: accepting it (`request-tickets`) and serving it in a batch
/// (`process-requests`), per request.
#[derive(Clone, Debug, Serialize)]
pub struct QueuedCosts {
    pub accept: Cost,
    pub serve: Cost,
    pub batch: usize,
}

/// Measures [`QueuedCosts`] for a batch of ten two-seat requests, through the handlers.
pub async fn queued() -> QueuedCosts {
    use bilheteria::{
        api::requests,
        consumer::{Settings, process_batch},
        domain::TicketRequest,
    };
    use lambda_http::aws_lambda_events::sqs::{SqsEvent, SqsMessage};

    let stack = Stack::start().await;
    super::seed_for_event_file(&stack.store, "request-tickets").await;
    let (store, meter) = Meter::store(&stack).await;
    let queue = super::KeptQueue::default();

    let batch = 10;
    for i in 0..batch {
        let body = json!({"sector": "plateia", "quantity": 2}).to_string();
        let who = format!("fan-{i}");
        let req = request(
            Caller::Customer(&who),
            "POST /sessions/{id}/requests",
            &[("id", super::SESSION_ID)],
            &[],
            Some(&body),
        );
        assert_eq!(
            outcome(requests::request_tickets(req, &store, &queue).await).0,
            202
        );
    }
    let accept = Cost::of(&meter.take());

    let sent: Vec<TicketRequest> = queue.0.lock().unwrap().clone();
    let mut event = SqsEvent::default();
    for (i, request) in sent.iter().enumerate() {
        let mut message = SqsMessage::default();
        message.message_id = Some(format!("m-{i}"));
        message.body = Some(serde_json::to_string(request).unwrap());
        message
            .attributes
            .insert("SequenceNumber".into(), format!("{:020}", i + 1));
        event.records.push(message);
    }
    let settings = Settings {
        hold: chrono::Duration::seconds(600),
        fail_after_first_record: false,
    };
    let response = process_batch(event, &store, settings, &Default::default()).await;
    assert!(response.batch_item_failures.is_empty());
    let serve = Cost::of(&meter.take());
    QueuedCosts {
        accept,
        serve,
        batch,
    }
}
