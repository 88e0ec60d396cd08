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
        ["UpdateItem", "TransactWriteItems"],
        "charging (under the key, answering with the reservation), confirm"
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
        costs.accept.calls.len() <= 4 * batch + 3,
        "a request: its place in the customer's waiting requests, its number in line (one \
         counter written, the others read, side by side) and its record; the session once a \
         process, the sector's sold-out mark and the line's progress once a second: {:?}",
        costs.accept.calls
    );
    assert!(
        costs.serve.calls.len() <= batch + 3,
        "a batch: one read of what it is decided against, one of the seats, a hold a request, \
         and the line's progress: {:?}",
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
        let Cost {
            calls, wcu: units, ..
        } = Cost::of(&meter.take());
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

/// The console's live sales view refreshes every 5 seconds: what one refresh of a session of
/// ten sectors reads (the sales view, the timeline, the flash-sale line, the add-ons), by warm
/// processes (a cold one reads the session once more).
#[tokio::test]
async fn a_dashboard_refresh_of_ten_sectors_costs_few_reads() {
    use bilheteria::api::{catalog, requests, sales};
    use serde_json::json;
    use support::{Caller, KeptQueue, outcome, request};

    let stack = Stack::start().await;
    let event = stack.seed_event(support::EVENT_ID).await;
    support::Seeder(&stack.store)
        .product(event.id, support::PRODUCT_ID, Some(100))
        .await;
    let sectors: Vec<_> = (0..10)
        .map(|i| {
            if i < 4 {
                json!({"code": format!("numbered-{i}"), "name": format!("Numbered {i}"), "kind": "numbered",
                       "rows": 20, "seats_per_row": 30, "price": {"cents": 12000}})
            } else {
                json!({"code": format!("standing-{i}"), "name": format!("Standing {i}"), "kind": "general_admission",
                       "capacity": 5000, "price": {"cents": 8000}})
            }
        })
        .collect();
    let body = json!({
        "starts_at": "2030-09-10T20:00:00Z", "sale_starts_at": "2026-01-01T00:00:00Z",
        "sale_ends_at": "2030-09-10T18:00:00Z", "sectors": sectors
    })
    .to_string();
    let event_id = event.id.to_string();
    let req = request(
        Caller::Admin("organiser"),
        "POST /events/{id}/sessions",
        &[("id", &event_id)],
        &[],
        Some(&body),
    );
    let (status, session, _) = outcome(catalog::create_session(req, &stack.store).await);
    assert_eq!(status, 201, "{session}");
    let session = session["id"].as_str().unwrap().to_owned();
    let (store, meter) = Meter::store(&stack).await;
    let get = |route: &str, id: &str| {
        request(Caller::Admin("organiser"), route, &[("id", id)], &[], None)
    };
    let mut costs = Vec::new();
    let req = get("GET /sessions/{id}/sales", &session);
    assert_eq!(outcome(sales::get_sales(req, &store).await).0, 200);
    costs.push(("sales view", Cost::of(&meter.take())));
    let req = get("GET /sessions/{id}/sales/timeline", &session);
    assert_eq!(outcome(sales::get_timeline(req, &store).await).0, 200);
    costs.push(("timeline", Cost::of(&meter.take())));
    let req = get("GET /sessions/{id}/sales/queue", &session);
    let queue = KeptQueue::default();
    assert_eq!(
        outcome(requests::get_queue(req, &store, &queue).await).0,
        200
    );
    costs.push(("flash-sale line", Cost::of(&meter.take())));
    let req = get("GET /events/{id}/products", &event_id);
    assert_eq!(outcome(catalog::list_products(req, &store).await).0, 200);
    costs.push(("add-ons", Cost::of(&meter.take())));

    for (name, cost) in &costs {
        println!(
            "dashboard {name:<16} {} DynamoDB calls, {:.1} RCU: {}",
            cost.calls.len(),
            cost.rcu,
            cost.calls.join(", ")
        );
    }
    let calls: usize = costs.iter().map(|(_, c)| c.calls.len()).sum();
    let rcu: f64 = costs.iter().map(|(_, c)| c.rcu).sum();
    println!(
        "dashboard refresh, 10 sectors: 4 HTTP requests, {calls} DynamoDB calls, {rcu:.1} RCU, 1 SQS GetQueueAttributes"
    );
    let of = |name: &str| &costs.iter().find(|(n, _)| *n == name).unwrap().1.calls;
    assert_eq!(of("sales view"), &["GetItem", "BatchGetItem"]);
    // The session read by the sales view is kept by the process: the others do not read it again.
    assert_eq!(of("timeline"), &["Query"], "one Query a view");
    assert_eq!(
        of("flash-sale line"),
        &["Query"; 10],
        "one one-item Query a sector"
    );
    assert_eq!(of("add-ons"), &["GetItem", "Query"]);
    assert!(rcu > 0.0, "the reads report what they consume");
}
