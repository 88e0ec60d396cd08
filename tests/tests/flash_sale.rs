//! Flash sales through the local stack: requests POSTed concurrently over HTTP, the real SQS FIFO
//! queue (ministack), the real consumer binary behind the queue mapping, and DynamoDB.

mod support;

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use bilheteria::{
    domain::{RequestRecord, RequestStatus, SeatState, SectorCode},
    store::{Catalog, DynamoStore},
};
use futures::future::join_all;
use local::stack::{Options, Stack};
use serde_json::{Value, json};

struct Sale {
    stack: Stack,
    http: reqwest::Client,
    store: DynamoStore,
    session: String,
}

const LIMIT: u32 = 6;

async fn sale(rows: u32, seats: u32, env: &[(&str, &str)]) -> Sale {
    let options = Options {
        visibility_timeout: Some(2),
        max_instances: 8,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Options::default()
    };
    let stack = Stack::start(options)
        .await
        .expect("the stack starts with ministack");
    let http = reqwest::Client::new();
    let admin = stack.token("organiser", true);
    let api = stack.api_url().to_owned();
    let event: Value = http
        .post(format!("{api}/events"))
        .bearer_auth(&admin)
        .json(&json!({"name": "Flash", "venue": "Estádio", "category": "show"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let body = json!({
        "starts_at": "2030-09-10T20:00:00Z", "sale_starts_at": "2026-01-01T00:00:00Z", "sale_ends_at": "2030-09-10T18:00:00Z",
        "max_tickets_per_customer": LIMIT,
        "sectors": [{"code": "plateia", "name": "Plateia", "kind": "numbered", "rows": rows, "seats_per_row": seats, "price": {"cents": 30000}}]
    });
    let session: Value = http
        .post(format!(
            "{api}/events/{}/sessions",
            event["id"].as_str().unwrap()
        ))
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let store = DynamoStore::new(stack.dynamodb_sdk(), "Table");
    Sale {
        session: session["id"].as_str().unwrap().to_owned(),
        stack,
        http,
        store,
    }
}

impl Sale {
    async fn request(&self, customer: &str, quantity: u32) -> (u16, Value) {
        let resp = self
            .http
            .post(format!(
                "{}/sessions/{}/requests",
                self.stack.api_url(),
                self.session
            ))
            .bearer_auth(self.stack.token(customer, false))
            .json(&json!({"sector": "plateia", "quantity": quantity}))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn hold(&self, customer: &str, seat: &str) -> u16 {
        self.http
            .post(format!(
                "{}/sessions/{}/holds",
                self.stack.api_url(),
                self.session
            ))
            .bearer_auth(self.stack.token(customer, false))
            .json(&json!({"seats": [{"sector": "plateia", "seat": seat}]}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// Every request record, once none is QUEUED any more (or the deadline passes).
    async fn decided(&self, expected: usize, deadline: Duration) -> Vec<RequestRecord> {
        let started = Instant::now();
        loop {
            let records = self.records().await;
            let decided = records.iter().filter(|r| r.is_decided()).count();
            if decided >= expected || started.elapsed() > deadline {
                return records;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn records(&self) -> Vec<RequestRecord> {
        let client = aws_sdk_dynamodb::Client::new(self.stack.dynamodb_sdk());
        support::items(&client)
            .await
            .into_iter()
            .filter(|i| {
                i["PK"]
                    .as_str()
                    .is_some_and(|pk| pk.starts_with("REQUEST#"))
            })
            .map(|i| serde_json::from_value(i).unwrap())
            .collect()
    }

    async fn seats(&self) -> Vec<(String, SeatState)> {
        let plateia = SectorCode::try_from("plateia".to_string()).unwrap();
        let seats = self
            .store
            .seats(self.session.parse().unwrap(), &plateia)
            .await
            .unwrap();
        seats
            .into_iter()
            .map(|s| (s.label.to_string(), s.state))
            .collect()
    }
}

fn holder(state: &SeatState) -> Option<String> {
    match state {
        SeatState::Held { reservation, .. } | SeatState::Sold { reservation } => {
            Some(reservation.to_string())
        }
        SeatState::Free => None,
    }
}

/// What serving `records` strictly in queue order must give: each request fulfilled when enough
/// seats are left and its customer stays within the limit.
fn served_in_order(records: &[RequestRecord], capacity: u32) -> HashSet<String> {
    let mut ordered: Vec<&RequestRecord> = records.iter().collect();
    ordered.sort_by_key(|r| {
        r.sequence
            .as_deref()
            .and_then(|s| s.parse::<u128>().ok())
            .unwrap_or(u128::MAX)
    });
    let (mut left, mut per_customer) = (capacity, HashMap::<&str, u32>::new());
    let mut fulfilled = HashSet::new();
    for r in ordered {
        let had = per_customer.entry(r.request.customer.as_str()).or_default();
        if r.request.quantity <= left && *had + r.request.quantity <= LIMIT {
            left -= r.request.quantity;
            *had += r.request.quantity;
            fulfilled.insert(r.request.request_id.to_string());
        }
    }
    fulfilled
}

/// The checks every sale must pass; returns the fulfilled request ids.
async fn check(
    sale: &Sale,
    records: &[RequestRecord],
    sent: usize,
    capacity: u32,
) -> HashSet<String> {
    assert_eq!(records.len(), sent, "every accepted request has a record");
    let queued: Vec<_> = records
        .iter()
        .filter(|r| r.status == RequestStatus::Queued)
        .map(|r| r.request.request_id)
        .collect();
    assert!(queued.is_empty(), "none stuck QUEUED: {queued:?}");
    assert!(
        records.iter().all(|r| r.sequence.is_some()),
        "every decision names its queue sequence"
    );

    let fulfilled: HashSet<String> = records
        .iter()
        .filter(|r| r.status == RequestStatus::Fulfilled)
        .map(|r| r.request.request_id.to_string())
        .collect();
    let seats = sale.seats().await;
    let mut seats_per_reservation: HashMap<String, u32> = HashMap::new();
    for (_, state) in &seats {
        if let Some(reservation) = holder(state) {
            *seats_per_reservation.entry(reservation).or_default() += 1;
        }
    }
    let queued_reservations: HashSet<&String> = seats_per_reservation
        .keys()
        .filter(|r| fulfilled.contains(*r))
        .collect();
    assert_eq!(
        queued_reservations.len(),
        fulfilled.len(),
        "each fulfilled request holds seats, once"
    );
    for r in records
        .iter()
        .filter(|r| r.status == RequestStatus::Fulfilled)
    {
        assert_eq!(
            seats_per_reservation[&r.request.request_id.to_string()],
            r.request.quantity,
            "the seats asked for, no more"
        );
    }
    let mut per_customer: HashMap<&str, u32> = HashMap::new();
    for r in records
        .iter()
        .filter(|r| r.status == RequestStatus::Fulfilled)
    {
        *per_customer.entry(&r.request.customer).or_default() += r.request.quantity;
    }
    assert!(
        per_customer.values().all(|n| *n <= LIMIT),
        "every customer within the limit"
    );
    let taken = seats.iter().filter(|(_, s)| holder(s).is_some()).count() as u32;
    assert!(taken <= capacity);
    fulfilled
}

#[tokio::test]
async fn a_flash_sale_serves_two_thousand_requests_in_queue_order() {
    let (rows, per_row) = (15, 20);
    let capacity = rows * per_row;
    let sale = sale(rows, per_row, &[]).await;
    let customers: Vec<String> = (0..500).map(|i| format!("fan-{i:03}")).collect();
    let asks: Vec<(&str, u32)> = (0..2_000)
        .map(|i| (customers[i % 500].as_str(), 1 + (i as u32 * 7) % 3))
        .collect();

    let started = Instant::now();
    let answers = join_all(asks.iter().map(|(c, q)| sale.request(c, *q))).await;
    let posted = started.elapsed();
    assert!(
        answers.iter().all(|(s, _)| *s == 202),
        "every request is accepted: {:?}",
        answers.iter().find(|(s, _)| *s != 202)
    );
    let records = sale.decided(2_000, Duration::from_secs(240)).await;
    let finished = started.elapsed();

    let fulfilled = check(&sale, &records, 2_000, capacity).await;
    let taken = sale
        .seats()
        .await
        .iter()
        .filter(|(_, s)| holder(s).is_some())
        .count() as u32;
    assert_eq!(
        taken, capacity,
        "demand far above capacity sells every seat"
    );
    assert_eq!(
        fulfilled,
        served_in_order(&records, capacity),
        "the fulfilled requests are the earliest that could be served"
    );

    let mut latencies: Vec<i64> = records
        .iter()
        .filter_map(|r| Some((r.decided_at? - r.request.requested_at).num_milliseconds()))
        .collect();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "flash sale: 2000 requests, {} fulfilled, posted in {:.1} s, all decided in {:.1} s = {:.0} requests/s end to end; POST→decision p50 {} ms, p99 {} ms",
        fulfilled.len(),
        posted.as_secs_f64(),
        finished.as_secs_f64(),
        2_000.0 / finished.as_secs_f64(),
        pct(0.5),
        pct(0.99)
    );
    sale.stack.stop().await;
}

#[tokio::test]
async fn a_consumer_failing_mid_batch_is_retried_in_order_with_the_same_outcome() {
    let (rows, per_row) = (2, 2);
    let sale = sale(rows, per_row, &[("FAULT_FAIL_AFTER_FIRST_RECORD", "1")]).await;
    // Five, so that the last one's fifth receive (the queue's maxReceiveCount) is its turn.
    let asks: Vec<(String, u32)> = [("ana", 2), ("bia", 1), ("ana", 2), ("caio", 1), ("bia", 3)]
        .iter()
        .map(|(c, q)| (c.to_string(), *q))
        .collect();
    for (customer, quantity) in &asks {
        // One after the other, so that they share batches.
        assert_eq!(sale.request(customer, *quantity).await.0, 202);
    }
    let records = sale.decided(asks.len(), Duration::from_secs(120)).await;
    let fulfilled = check(&sale, &records, asks.len(), rows * per_row).await;
    assert_eq!(
        fulfilled,
        served_in_order(&records, rows * per_row),
        "as a fault-free run would decide"
    );
    let reports = sale.stack.lambda().reports();
    let consumer_calls = reports
        .iter()
        .filter(|r| r.function == "ProcessRequestsFunction")
        .count();
    assert!(
        consumer_calls >= asks.len(),
        "the fault made the consumer run once per record: {consumer_calls}"
    );
    sale.stack.stop().await;
}

#[tokio::test]
async fn direct_holds_racing_the_queue_never_share_a_seat() {
    let (rows, per_row) = (4, 15);
    let sale = sale(rows, per_row, &[]).await;
    let queued = (0..100).map(|i| {
        let customer = format!("queue-{i}");
        let sale = &sale;
        async move { sale.request(&customer, 1 + i % 2).await.0 }
    });
    let direct = (0..100u32).map(|i| {
        let customer = format!("direct-{i}");
        let seat = format!(
            "{}-{}",
            ["A", "B", "C", "D"][(i % 4) as usize],
            1 + (i * 7) % per_row
        );
        let sale = &sale;
        async move { sale.hold(&customer, &seat).await }
    });
    let (queued, direct) = futures::join!(join_all(queued), join_all(direct));
    assert!(queued.iter().all(|s| *s == 202));
    assert!(direct.iter().all(|s| *s == 201 || *s == 409), "{direct:?}");
    let records = sale.decided(100, Duration::from_secs(120)).await;
    check(&sale, &records, 100, rows * per_row).await;
    let seats = sale.seats().await;
    let holders: Vec<String> = seats.iter().filter_map(|(_, s)| holder(s)).collect();
    let direct_won = direct.iter().filter(|s| **s == 201).count();
    let fulfilled_seats: u32 = records
        .iter()
        .filter(|r| r.status == RequestStatus::Fulfilled)
        .map(|r| r.request.quantity)
        .sum();
    assert_eq!(
        holders.len(),
        direct_won + fulfilled_seats as usize,
        "every seat held once, by a winner"
    );
    sale.stack.stop().await;
}
