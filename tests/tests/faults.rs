//! Faults in the middle of a sale, each through the local stack and the real binaries: the
//! consumer killed mid-batch, request-tickets killed mid-request, the whole stack stopped and
//! started again on its persistent file, and SQS going away and coming back. After each, every request ends in a known state: nothing
//! lost, nothing done twice, nothing half-written.

mod support;

use std::{
    path::PathBuf,
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use bilheteria::{domain::RequestStatus, store::CLAIM_LEASE_SECONDS};
use futures::future::join_all;
use local::{
    dynamodb::{Storage, sdk_config},
    stack::{Options, Stack},
};
use serde_json::json;
use support::sale::{self, Sale, check, holder, served_in_order};

const CONSUMER: &str = "ProcessRequestsFunction";
const REQUEST_TICKETS: &str = "RequestTicketsFunction";

/// A folder of this test's own for the persistent files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bilheteria-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A sale's options on a persistent DynamoDB file (and ministack state beside it).
fn persistent(dir: &std::path::Path) -> Options {
    Options {
        storage: Storage::File(dir.join("dynamodb.sqlite")),
        issuer_key: Some(dir.join("issuer.key")),
        ..sale::options(&[])
    }
}

fn port(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

/// Messages waiting in the requests' dead-letter queue.
async fn dead_letters(stack: &Stack) -> u64 {
    let sqs = aws_sdk_sqs::Client::new(&sdk_config(stack.queues_endpoint().unwrap()).await);
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&stack.queue_urls()["RequestsDeadLetterQueue"])
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let count = |name| {
        attributes
            .attributes()
            .and_then(|a| a.get(&name))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    count(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        + count(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
}

/// `n` requests from `n / 3` customers, one to three seats each, all at once; the statuses.
/// Requests `from..from + n` posted at once: how many were queued (the rest turned away at the
/// door, sold out).
async fn requests(sale: &Sale, from: usize, n: usize) -> usize {
    let asks = (from..from + n).map(|i| {
        let customer = format!("fan-{:03}", i / 3);
        async move { sale.request(&customer, 1 + (i as u32 % 3)).await }
    });
    let answers = join_all(asks).await;
    sale::queued(answers.iter().map(|(s, b)| (*s, b)))
}

#[tokio::test]
async fn a_consumer_killed_mid_batch_loses_no_request_and_books_no_seat_twice() {
    let (rows, per_row) = (8, 10);
    let sale = sale::sale(rows, per_row, &[]).await;
    let n = 240;
    // Kills spaced wider than the two-second visibility, and three at most, so that no message is
    // received the five times that send it to the dead-letter queue.
    let killer = async {
        let (started, mut kills) = (Instant::now(), 0);
        while kills < 3 && started.elapsed() < Duration::from_secs(60) {
            let killed = sale.stack.lambda().kill_busy(CONSUMER);
            if killed > 0 {
                kills += killed;
                tokio::time::sleep(Duration::from_millis(2_500)).await;
            } else {
                tokio::time::sleep(Duration::from_millis(60)).await;
            }
        }
        kills
    };
    let (queued, kills) = futures::join!(requests(&sale, 0, n), killer);
    assert!(kills > 0, "the consumer was killed mid-batch");

    let records = sale.decided(queued, Duration::from_secs(180)).await;
    let capacity = rows * per_row;
    let fulfilled = check(&sale, &records, queued, capacity).await;
    assert_eq!(
        fulfilled,
        served_in_order(&records, capacity),
        "redelivered in order: the outcome of a run without faults"
    );
    assert_eq!(
        dead_letters(&sale.stack).await,
        0,
        "no request dead-lettered"
    );
    let killed = sale
        .stack
        .lambda()
        .reports()
        .iter()
        .filter(|r| r.function == CONSUMER && r.outcome != "success")
        .count();
    println!(
        "{kills} consumer processes killed mid-batch ({killed} failed invocations); {} fulfilled of {n}, none lost",
        fulfilled.len()
    );
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

#[tokio::test]
async fn the_stack_stopped_and_started_mid_sale_keeps_every_sale_and_hold_and_sells_on() {
    let dir = scratch("restart");
    let (rows, per_row) = (6, 10);
    let sale = Sale::start(persistent(&dir), rows, per_row).await;

    // Row A paid for, row B held; and a queue of requests, some still waiting when it stops.
    let mut paid = Vec::new();
    for seat in 1..=per_row {
        let customer = format!("payer-{seat}");
        let (status, held) = sale.hold(&customer, &format!("A-{seat}")).await;
        assert_eq!(status, 201, "{held}");
        let id = held["id"].as_str().unwrap().to_owned();
        assert_eq!(sale.pay(&customer, &id).await.0, 200);
        paid.push((customer, id));
    }
    let mut held = Vec::new();
    for seat in 1..=per_row {
        let customer = format!("holder-{seat}");
        let (status, hold) = sale.hold(&customer, &format!("B-{seat}")).await;
        assert_eq!(status, 201, "{hold}");
        held.push((customer, hold["id"].as_str().unwrap().to_owned()));
    }
    let before = requests(&sale, 0, 60).await;

    let options = Options {
        api_port: port(sale.stack.api_url()),
        dynamodb_port: port(sale.stack.dynamodb_endpoint()),
        queues_port: port(sale.stack.queues_endpoint().unwrap()),
        ..persistent(&dir)
    };
    let sale = sale.restart(options).await;

    for (customer, id) in &paid {
        let (status, reservation) = sale.get(&format!("/reservations/{id}"), customer).await;
        assert_eq!(status, 200, "{reservation}");
        assert_eq!(reservation["status"], "CONFIRMED");
        assert_eq!(reservation["tickets"].as_array().unwrap().len(), 1);
    }
    for (customer, id) in &held {
        let (status, reservation) = sale.get(&format!("/reservations/{id}"), customer).await;
        assert_eq!(status, 200, "{reservation}");
        assert_eq!(reservation["status"], "HELD", "{reservation}");
    }
    // The sale goes on: the holds are paid, the seats sold stay sold, more requests queue.
    for (customer, id) in &held {
        assert_eq!(sale.pay(customer, id).await.0, 200);
    }
    assert_eq!(
        sale.hold("late", "A-1").await.0,
        409,
        "a sold seat stays sold"
    );
    let after = requests(&sale, 60, 30).await;

    let records = sale.decided(before + after, Duration::from_secs(180)).await;
    check(&sale, &records, before + after, rows * per_row).await;
    let seats = sale.seats().await;
    let sold_or_held = seats.iter().filter(|(_, s)| holder(s).is_some()).count();
    let fulfilled: u32 = records
        .iter()
        .filter(|r| r.status == RequestStatus::Fulfilled)
        .map(|r| r.request.quantity)
        .sum();
    assert_eq!(
        sold_or_held as u32,
        2 * per_row + fulfilled,
        "rows A and B and the fulfilled requests, each seat once"
    );
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn while_sqs_is_down_requests_get_503_with_retry_after_and_nothing_half_written() {
    let dir = scratch("sqs-outage");
    // Room for every request (about 70 seats asked) and the walk-in's seat in the last row, which
    // front-first allocation never reaches: no outcome here depends on timing.
    let (rows, per_row) = (10, 10);
    let mut sale = Sale::start(persistent(&dir), rows, per_row).await;
    assert_eq!(requests(&sale, 0, 30).await, 30, "room for every request");

    let port = sale.stack.stop_queues().await.unwrap();
    let path = format!("/sessions/{}/requests", sale.session);
    for i in 0..10 {
        let body = json!({"sector": "plateia", "quantity": 1});
        let key = format!("outage-{i}");
        let customer = format!("patient-{i}");
        let (status, headers, problem) = sale
            .post(&path, &customer, body, &[("idempotency-key", &key)])
            .await;
        assert_eq!(status, 503, "{problem}");
        assert_eq!(
            headers["content-type"], "application/problem+json",
            "{problem}"
        );
        let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(retry_after >= 1, "Retry-After: {retry_after}");
    }
    // Direct holds need only DynamoDB: they go on (their events are counted as unpublished).
    assert_eq!(sale.hold("walk-in", "J-10").await.0, 201);
    let records = sale.records().await;
    assert_eq!(
        records.len(),
        30,
        "no record for a request the queue never took"
    );

    sale.stack.start_queues(port).await.unwrap();
    // The same requests again, by the same keys: taken now.
    for i in 0..10 {
        let body = json!({"sector": "plateia", "quantity": 1});
        let key = format!("outage-{i}");
        let customer = format!("patient-{i}");
        let (status, _, body) = sale
            .post(&path, &customer, body, &[("idempotency-key", &key)])
            .await;
        assert_eq!(status, 202, "{body}");
    }
    // The thirty taken before the outage were kept by the queue through its restart.
    let records = sale.decided(40, Duration::from_secs(180)).await;
    check(&sale, &records, 40, rows * per_row).await;
    assert_eq!(
        dead_letters(&sale.stack).await,
        0,
        "no request dead-lettered"
    );
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn request_tickets_killed_mid_request_and_retried_by_key_asks_once() {
    let (rows, per_row) = (10, 10);
    let sale = sale::sale(rows, per_row, &[]).await;
    let path = format!("/sessions/{}/requests", sale.session);
    let n = 60;
    let ask = |i: usize| {
        let (sale, path) = (&sale, &path);
        async move {
            let body = json!({"sector": "plateia", "quantity": 1});
            let (key, customer) = (format!("ask-{i}"), format!("fan-{i:03}"));
            let (status, _, body) = sale
                .post(path, &customer, body, &[("idempotency-key", &key)])
                .await;
            (status, body)
        }
    };
    // Processes of request-tickets are killed while they work, whatever step they are at
    // (claimed, sent, recorded, settled), until every first attempt has an answer.
    let finished = AtomicBool::new(false);
    let asks = async {
        let answers = join_all((0..n).map(ask)).await;
        finished.store(true, Ordering::SeqCst);
        answers
    };
    let killer = async {
        let (mut kills, mut rounds) = (0, 0);
        while !finished.load(Ordering::SeqCst) && rounds < 4 {
            let killed = sale.stack.lambda().kill_busy(REQUEST_TICKETS);
            if killed > 0 {
                kills += killed;
                rounds += 1;
                tokio::time::sleep(Duration::from_millis(150)).await;
            } else {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        kills
    };
    let (answers, kills) = futures::join!(asks, killer);
    let lost = answers.iter().filter(|(status, _)| *status != 202).count();
    assert!(
        kills > 0 && lost > 0,
        "{kills} processes killed, {lost} answers lost"
    );
    println!("{kills} processes killed, {lost} of {n} first answers lost");

    // Past the claims' lease (the functions' clock jumps there), every customer asks again with
    // the same key.
    sale.stack
        .set_clock(chrono::Duration::seconds(CLAIM_LEASE_SECONDS + 1))
        .await;
    let retried = join_all((0..n).map(ask)).await;
    let mut found_decided = 0;
    for (i, ((first, first_body), (status, body))) in answers.iter().zip(&retried).enumerate() {
        assert_eq!(*status, 202, "retry {i}: {body}");
        if *first == 202 {
            assert_eq!(body["request_id"], first_body["request_id"], "retry {i}");
        } else if body["status"] != "QUEUED" {
            // Killed after sending: the retry finds the request the consumer already decided.
            found_decided += 1;
        }
    }
    println!("{found_decided} retries of a lost answer found their request already decided");
    let records = sale.decided(n, Duration::from_secs(120)).await;
    assert_eq!(
        records.len(),
        n,
        "one request per key, however often it was tried"
    );
    check(&sale, &records, n, rows * per_row).await;
    assert_eq!(
        dead_letters(&sale.stack).await,
        0,
        "no request dead-lettered"
    );
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}
