//! What one hold, one add-on change, one checkout, a queued request and a sweep cost in
//! DynamoDB: calls by operation and consumed write capacity, as DynamoDB reports it. Prints the
//! figures (`cargo test -p bilheteria-tests --test capacity -- --nocapture`) and pins the calls.

mod support;

use bilheteria::store::Catalog;
use support::{
    Stack,
    costs::{self, Cost, Meter},
};

#[tokio::test]
async fn a_hold_an_add_on_change_and_a_checkout_cost_few_calls() {
    let costs = costs::purchase().await;
    for (name, cost) in [
        ("hold 2 seats (cold)", &costs.hold_cold),
        ("hold 2 seats (warm)", &costs.hold_warm),
        ("add-on change", &costs.add_on),
        ("checkout (card)", &costs.checkout),
    ] {
        println!(
            "{name:<20} {} calls, {:.1} WCU: {}",
            cost.calls.len(),
            cost.wcu,
            cost.calls.join(", ")
        );
    }
    println!(
        "WCU per ticket sold (hold + add-on + checkout): {:.1}",
        costs.wcu_per_ticket()
    );
    assert_eq!(
        costs.hold_cold.calls,
        ["GetItem", "TransactWriteItems", "Query"],
        "session, the hold, the suggestions"
    );
    assert_eq!(
        costs.hold_warm.calls,
        ["TransactWriteItems"],
        "a warm process holds in one call"
    );
    assert_eq!(
        costs.add_on.calls,
        ["GetItem", "Query", "TransactWriteItems"],
        "reservation, products, the change"
    );
    assert_eq!(
        costs.checkout.calls,
        [
            "PutItem",
            "GetItem",
            "UpdateItem",
            "TransactWriteItems",
            "UpdateItem"
        ],
        "claim, reservation, charging, confirm, settle"
    );
}

#[tokio::test]
async fn a_queued_request_costs_few_calls_to_accept_and_to_serve() {
    let costs = costs::queued().await;
    let batch = costs.batch;
    println!(
        "request-tickets: {:.1} DynamoDB calls a request ({}), {:.1} WCU",
        costs.accept.calls.len() as f64 / batch as f64,
        costs.accept.calls.join(", "),
        costs.accept.wcu / batch as f64
    );
    println!(
        "process-requests, a batch of {batch}: {:.1} DynamoDB calls a request ({} in all), {:.1} WCU a request",
        costs.serve.calls.len() as f64 / batch as f64,
        costs.serve.calls.len(),
        costs.serve.wcu / batch as f64
    );
    assert!(
        costs.accept.calls.len() <= batch + 1,
        "a record a request, plus the session once a process: {:?}",
        costs.accept.calls
    );
    assert!(
        costs.serve.calls.len() <= 3 * batch + 2,
        "a request, its sector state and the hold, plus one seat read a batch: {:?}",
        costs.serve.calls
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
        meter.take();
        let started = std::time::Instant::now();
        let swept = sweep(
            &store,
            now + chrono::Duration::seconds(2),
            std::time::Duration::from_secs(50),
        )
        .await
        .unwrap();
        let took = started.elapsed();
        let Cost { calls, wcu: units } = Cost::of(&meter.take());
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
