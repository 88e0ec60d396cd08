//! What one hold, one add-on change and one checkout cost in DynamoDB: calls by operation and
//! consumed write capacity, as DynamoDB reports it (`ReturnConsumedCapacity`). Prints the
//! figures (`cargo test -p bilheteria-tests --test capacity -- --nocapture`) and pins the calls.

mod support;

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
use bilheteria::{
    api::purchase,
    bus::LogBus,
    payments::SimulatedProvider,
    store::{Catalog, DynamoStore},
};
use serde_json::{Value, json};
use support::{Caller, Stack, outcome, request};

/// Every DynamoDB call a client makes, with the write units it consumed.
#[derive(Clone, Debug, Default)]
struct Meter(Arc<Mutex<Vec<(&'static str, f64)>>>);

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "meter"
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
        } else if out.downcast_ref::<GetItemOutput>().is_some() {
            ("GetItem", 0.0)
        } else if out.downcast_ref::<BatchGetItemOutput>().is_some() {
            ("BatchGetItem", 0.0)
        } else if out.downcast_ref::<QueryOutput>().is_some() {
            ("Query", 0.0)
        } else {
            ("other", 0.0)
        };
        self.0.lock().unwrap().push(call);
        Ok(())
    }
}

impl Meter {
    /// A store over the stack's table whose every call this meter sees.
    async fn store(stack: &Stack) -> (DynamoStore, Meter) {
        let meter = Meter::default();
        let sdk = stack.dynamodb.sdk_config().await;
        let conf = aws_sdk_dynamodb::config::Builder::from(&sdk)
            .interceptor(meter.clone())
            .build();
        (
            DynamoStore::from_client(aws_sdk_dynamodb::Client::from_conf(conf), support::TABLE),
            meter,
        )
    }

    fn take(&self) -> Vec<(&'static str, f64)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn summary(calls: &[(&'static str, f64)]) -> (Vec<&'static str>, f64) {
    (
        calls.iter().map(|(op, _)| *op).collect(),
        calls.iter().map(|(_, u)| u).sum(),
    )
}

#[tokio::test]
async fn a_hold_an_add_on_change_and_a_checkout_cost_few_calls() {
    let stack = Stack::start().await;
    support::seed_for_event_file(&stack.store, "hold-seats").await;
    let (store, meter) = Meter::store(&stack).await;
    let sales = support::sales();
    let alice = Caller::Customer(support::CUSTOMER);

    let body = json!({"seats": [{"sector": "plateia", "seat": "C-1"}, {"sector": "plateia", "seat": "C-2"}]}).to_string();
    let req = request(
        alice,
        "POST /sessions/{id}/holds",
        &[("id", support::SESSION_ID)],
        &[],
        Some(&body),
    );
    let (status, held, _) = outcome(purchase::hold_seats(req, &store, &sales, &LogBus).await);
    assert_eq!(status, 201, "{held}");
    let id = held["id"].as_str().unwrap().to_owned();
    let hold = summary(&meter.take());

    let body = json!({"seats": [{"sector": "plateia", "seat": "D-1"}, {"sector": "plateia", "seat": "D-2"}]}).to_string();
    let req = request(
        Caller::Customer("bob"),
        "POST /sessions/{id}/holds",
        &[("id", support::SESSION_ID)],
        &[],
        Some(&body),
    );
    assert_eq!(
        outcome(purchase::hold_seats(req, &store, &sales, &LogBus).await).0,
        201
    );
    let warm_hold = summary(&meter.take());

    let body = json!({"items": [{"product_id": support::PRODUCT_ID, "quantity": 2}]}).to_string();
    let req = request(
        alice,
        "PUT /reservations/{id}/products",
        &[("id", &id)],
        &[],
        Some(&body),
    );
    assert_eq!(outcome(purchase::set_products(req, &store).await).0, 200);
    let add_on = summary(&meter.take());

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
    let (status, paid, _): (u16, Value, _) =
        outcome(purchase::checkout(req, &store, &SimulatedProvider, &sales, &LogBus).await);
    assert_eq!(status, 200, "{paid}");
    let checkout = summary(&meter.take());

    for (name, (calls, units)) in [
        ("hold 2 seats (cold)", &hold),
        ("hold 2 seats (warm)", &warm_hold),
        ("add-on change", &add_on),
        ("checkout (card)", &checkout),
    ] {
        println!(
            "{name:<20} {} calls, {units:.1} WCU: {}",
            calls.len(),
            calls.join(", ")
        );
    }
    let tickets = 2.0;
    println!(
        "WCU per ticket sold (hold + add-on + checkout): {:.1}",
        (hold.1 + add_on.1 + checkout.1) / tickets
    );
    assert_eq!(
        hold.0,
        ["GetItem", "TransactWriteItems", "Query"],
        "session, the hold, the suggestions"
    );
    assert_eq!(
        warm_hold.0,
        ["TransactWriteItems"],
        "a warm process holds in one call"
    );
    assert_eq!(
        add_on.0,
        ["GetItem", "Query", "TransactWriteItems"],
        "reservation, products, the change"
    );
    assert_eq!(
        checkout.0,
        ["PutItem", "GetItem", "TransactWriteItems", "UpdateItem"],
        "claim, reservation, confirm, settle"
    );
    let _ = store.session(support::SESSION_ID.parse().unwrap()).await;
}

#[tokio::test]
async fn a_queued_request_costs_few_calls_to_accept_and_to_serve() {
    use bilheteria::{
        api::requests,
        bus::LogBus,
        consumer::{Settings, process_batch},
        domain::TicketRequest,
    };
    use lambda_http::aws_lambda_events::sqs::{SqsEvent, SqsMessage};

    let stack = Stack::start().await;
    support::seed_for_event_file(&stack.store, "request-tickets").await;
    let (store, meter) = Meter::store(&stack).await;
    let queue = support::KeptQueue::default();

    let batch = 10;
    for i in 0..batch {
        let body = json!({"sector": "plateia", "quantity": 2}).to_string();
        let who = format!("fan-{i}");
        let req = request(
            Caller::Customer(&who),
            "POST /sessions/{id}/requests",
            &[("id", support::SESSION_ID)],
            &[],
            Some(&body),
        );
        assert_eq!(
            outcome(requests::request_tickets(req, &store, &queue).await).0,
            202
        );
    }
    let accept = summary(&meter.take());

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
    let response = process_batch(event, &store, &LogBus, settings).await;
    assert!(response.batch_item_failures.is_empty());
    let serve = summary(&meter.take());
    println!(
        "request-tickets: {:.1} DynamoDB calls a request ({}), {:.1} WCU",
        accept.0.len() as f64 / batch as f64,
        accept.0.join(", "),
        accept.1 / batch as f64
    );
    println!(
        "process-requests, a batch of {batch}: {:.1} DynamoDB calls a request ({} in all), {:.1} WCU a request",
        serve.0.len() as f64 / batch as f64,
        serve.0.len(),
        serve.1 / batch as f64
    );
    assert!(
        serve.0.len() <= 3 * batch + 2,
        "a request, its sector state and the hold, plus one seat read a batch: {:?}",
        serve.0
    );
}

#[tokio::test]
async fn one_sweep_releases_lapsed_holds_at_a_measured_rate() {
    use bilheteria::{domain::Reservation, expiry::sweep, store::Reservations};

    let stack = Stack::start().await;
    support::seed_for_event_file(&stack.store, "hold-seats").await;
    let session = stack
        .store
        .session(support::SESSION_ID.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let (store, meter) = Meter::store(&stack).await;
    let holds = 100;
    // The first sweep has no cursor and looks back two hours; the second is the steady state.
    for round in ["first sweep", "steady state"] {
        let now = chrono::Utc::now();
        for i in 0..holds {
            let seat = format!("{}-{}", ["E", "F", "G", "H", "J"][i / 20], 1 + i % 20);
            let seats = vec![("plateia".to_string(), seat)];
            let reservation = Reservation::plan_hold(
                &session,
                &format!("{round}-{i}"),
                seats,
                vec![],
                now,
                chrono::Duration::seconds(1),
            )
            .unwrap();
            stack.store.hold(&reservation, 6, now).await.unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
        meter.take();
        let started = std::time::Instant::now();
        let swept = sweep(
            &store,
            &LogBus,
            chrono::Utc::now(),
            std::time::Duration::from_secs(50),
        )
        .await
        .unwrap();
        let took = started.elapsed();
        let (calls, units) = summary(&meter.take());
        assert_eq!(swept.expired, holds as u32, "{round}");
        let transactions = calls.iter().filter(|c| **c == "TransactWriteItems").count();
        assert_eq!(
            transactions, holds,
            "one transaction per released reservation"
        );
        println!(
            "sweep ({round}): {} holds released in {:.2} s = {:.0} a second; {:.2} DynamoDB calls and {:.1} WCU per released reservation ({} calls, {} of them transactions)",
            swept.expired,
            took.as_secs_f64(),
            f64::from(swept.expired) / took.as_secs_f64(),
            calls.len() as f64 / holds as f64,
            units / holds as f64,
            calls.len(),
            transactions
        );
    }
}
