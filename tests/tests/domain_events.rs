//! Every state change of the journey is announced as one domain event on the EventBridge bus,
//! derived from the table's stream; the template's rule routes the bus to the events queue, where
//! these tests read them. A change committed while the bus is down is announced once it is back,
//! and a batch the bus refuses is delivered again from its first unpublished change.

mod support;

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use bilheteria::store::Timeline;
use local::{
    dynamodb::sdk_config,
    stack::{Options, Stack},
};
use reqwest::Method;
use serde_json::{Value, json};

async fn call(
    stack: &Stack,
    method: Method,
    path: &str,
    who: &str,
    body: Value,
    key: Option<&str>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", stack.api_url()))
        .bearer_auth(stack.token(who, who == "organiser"))
        .json(&body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let resp = request.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A new event's session on sale now, with one sector; its id.
async fn session_of(stack: &Stack, sector: Value) -> String {
    let (_, event) = call(
        stack,
        Method::POST,
        "/events",
        "organiser",
        json!({"name": "Show", "venue": "Arena", "category": "show"}),
        None,
    )
    .await;
    let body = json!({
        "starts_at": "2030-09-10T20:00:00Z", "sale_starts_at": "2026-01-01T00:00:00Z",
        "sale_ends_at": "2030-09-10T18:00:00Z", "sectors": [sector]
    });
    let (_, session) = call(
        stack,
        Method::POST,
        &format!("/events/{}/sessions", event["id"].as_str().unwrap()),
        "organiser",
        body,
        None,
    )
    .await;
    session["id"].as_str().unwrap().to_owned()
}

/// Every event on the events queue so far, by detail-type, with their details.
async fn drain(sqs: &aws_sdk_sqs::Client, queue: &str, seen: &mut Vec<Value>) {
    loop {
        let out = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return;
        }
        for m in messages {
            seen.push(serde_json::from_str(m.body().unwrap_or("null")).unwrap());
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn every_state_change_is_announced_once_as_an_event_of_its_type() {
    let stack = Stack::start(Options {
        env: vec![("HOLD_SECONDS".into(), "2".into())],
        ..Options::default()
    })
    .await
    .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk_config(stack.queues_endpoint().unwrap()).await);
    let queue = stack
        .resource("EventsQueue")
        .expect("the events queue is provisioned");

    let session = session_of(
        &stack,
        json!({"code": "plateia", "name": "Plateia", "kind": "numbered", "rows": 1, "seats_per_row": 4, "price": {"cents": 10000}}),
    )
    .await;
    let hold = |who: &'static str, seat: &'static str| {
        let (stack, session) = (&stack, session.clone());
        async move {
            call(
                stack,
                Method::POST,
                &format!("/sessions/{session}/holds"),
                who,
                json!({"seats": [{"sector": "plateia", "seat": seat}]}),
                None,
            )
            .await
        }
    };

    let (_, paid) = hold("alice", "A-1").await;
    let paid = paid["id"].as_str().unwrap().to_owned();
    let (status, _) = call(
        &stack,
        Method::POST,
        &format!("/reservations/{paid}/checkout"),
        "alice",
        json!({"payment": {"method": "card", "number": "4111111111111111"}}),
        Some("k1"),
    )
    .await;
    assert_eq!(status, 200);
    call(
        &stack,
        Method::POST,
        &format!("/reservations/{paid}/checkout"),
        "alice",
        json!({"payment": {"method": "card", "number": "4111111111111111"}}),
        Some("k1"),
    )
    .await;
    let (_, cancelled) = hold("bob", "A-2").await;
    let cancelled = cancelled["id"].as_str().unwrap().to_owned();
    assert_eq!(
        call(
            &stack,
            Method::DELETE,
            &format!("/reservations/{cancelled}"),
            "bob",
            Value::Null,
            None
        )
        .await
        .0,
        200
    );
    let (_, lapsed) = hold("carol", "A-3").await;
    let lapsed = lapsed["id"].as_str().unwrap().to_owned();
    stack.advance_clock(chrono::Duration::seconds(3)).await;
    stack.tick("ExpireHoldsFunction").await.unwrap();
    stack.tick("ExpireHoldsFunction").await.unwrap();
    // The queue: dave takes the last free seats; erin finds the sector sold out.
    let (_, first) = call(
        &stack,
        Method::POST,
        &format!("/sessions/{session}/requests"),
        "dave",
        json!({"sector": "plateia", "quantity": 3}),
        None,
    )
    .await;
    let (_, second) = call(
        &stack,
        Method::POST,
        &format!("/sessions/{session}/requests"),
        "erin",
        json!({"sector": "plateia", "quantity": 1}),
        None,
    )
    .await;

    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while seen.len() < 7 && std::time::Instant::now() < deadline {
        drain(&sqs, &queue, &mut seen).await;
    }
    drain(&sqs, &queue, &mut seen).await;
    let mut by_type: HashMap<String, Vec<Value>> = HashMap::new();
    for e in &seen {
        assert_eq!(e["source"], "bilheteria");
        assert_eq!(e["detail"]["version"], 1);
        by_type
            .entry(e["detail-type"].as_str().unwrap().to_owned())
            .or_default()
            .push(e["detail"].clone());
    }
    let ids = |kind: &str| -> Vec<String> {
        by_type
            .get(kind)
            .into_iter()
            .flatten()
            .map(|d| {
                d["reservation_id"]
                    .as_str()
                    .or(d["request_id"].as_str())
                    .or(d["sector"].as_str())
                    .unwrap_or("")
                    .to_owned()
            })
            .collect()
    };
    let dave = first["request_id"].as_str().unwrap().to_owned();
    assert_eq!(
        ids("ReservationHeld").len(),
        4,
        "alice, bob, carol and dave's queued request: {seen:#?}"
    );
    assert!(
        ids("ReservationHeld").contains(&dave),
        "a fulfilled request's reservation shares its id"
    );
    assert_eq!(
        ids("ReservationConfirmed"),
        std::slice::from_ref(&paid),
        "one confirmation, the replayed checkout adds none"
    );
    assert_eq!(ids("ReservationCancelled"), [cancelled]);
    assert_eq!(
        ids("ReservationExpired"),
        [lapsed],
        "two sweeps, one expiry"
    );
    assert_eq!(
        ids("RequestRejected"),
        [second["request_id"].as_str().unwrap().to_owned()]
    );
    assert_eq!(ids("SectorSoldOut"), ["plateia"]);
    assert_eq!(seen.len(), 9, "nothing else: {seen:#?}");
    let ids: HashSet<&str> = seen
        .iter()
        .filter_map(|e| e["detail"]["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 9, "each change its own id: {seen:#?}");
    let order: Vec<&str> = seen
        .iter()
        .filter(|e| e["detail"]["reservation_id"] == paid.as_str())
        .map(|e| e["detail-type"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["ReservationHeld", "ReservationConfirmed"],
        "in the order they were written"
    );
    support::audit(&stack).await;
    stack.stop().await;
}

/// Waits until the events queue has given `n` events (or a minute has passed), then takes what
/// else arrived.
async fn wait_for(sqs: &aws_sdk_sqs::Client, queue: &str, n: usize) -> Vec<Value> {
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while seen.len() < n && std::time::Instant::now() < deadline {
        drain(sqs, queue, &mut seen).await;
    }
    drain(sqs, queue, &mut seen).await;
    seen
}

#[tokio::test]
async fn changes_committed_while_the_bus_is_down_are_announced_when_it_is_back() {
    let mut stack = Stack::start(Options::default()).await.unwrap();
    let session = session_of(
        &stack,
        json!({"code": "pista", "name": "Pista", "kind": "general_admission", "capacity": 10, "price": {"cents": 5000}}),
    )
    .await;

    // EventBridge and SQS are gone: the sale goes on, and nothing can be published.
    let port = stack.stop_queues().await.unwrap();
    let (status, held) = call(
        &stack,
        Method::POST,
        &format!("/sessions/{session}/holds"),
        "alice",
        json!({"places": [{"sector": "pista", "quantity": 2}]}),
        None,
    )
    .await;
    assert_eq!(status, 201, "{held}");
    let held = held["id"].as_str().unwrap().to_owned();
    let (status, _) = call(
        &stack,
        Method::DELETE,
        &format!("/reservations/{held}"),
        "alice",
        Value::Null,
        None,
    )
    .await;
    assert_eq!(status, 200);

    stack.start_queues(port).await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk_config(stack.queues_endpoint().unwrap()).await);
    let queue = stack.resource("EventsQueue").unwrap();
    let seen = wait_for(&sqs, &queue, 2).await;
    let announced: Vec<(&str, &str)> = seen
        .iter()
        .map(|e| {
            (
                e["detail-type"].as_str().unwrap(),
                e["detail"]["reservation_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        announced,
        [
            ("ReservationHeld", held.as_str()),
            ("ReservationCancelled", held.as_str())
        ],
        "both changes, in order, once each: {seen:#?}"
    );
    support::audit(&stack).await;
    stack.stop().await;
}

#[tokio::test]
async fn a_batch_the_bus_refuses_is_delivered_again_from_its_first_unpublished_change() {
    let records: Value =
        serde_json::from_str(&support::event_file("announce-changes", "")).unwrap();
    let batch = |from: usize| {
        let mut event = records.clone();
        let rest = event["Records"].as_array().unwrap()[from..].to_vec();
        event["Records"] = Value::from(rest);
        serde_json::from_value(event).unwrap()
    };
    let stack = support::Stack::start().await;
    // The bus takes two events, then refuses.
    let bus = support::KeptEvents::refusing_from(2);
    let response = bilheteria::announce::announce_batch(batch(0), &stack.store, &bus).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap_or_default())
        .collect();
    let sequence = |i: usize| {
        records["Records"][i]["dynamodb"]["SequenceNumber"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        failed,
        [sequence(4)],
        "the record of the third event: the request's rejection"
    );

    // Delivered again from that record, to a bus that takes everything, and then once more.
    let again = support::KeptEvents::default();
    for _ in 0..2 {
        let response = bilheteria::announce::announce_batch(batch(4), &stack.store, &again).await;
        assert!(response.batch_item_failures.is_empty());
    }
    let first: Vec<String> = bus.events().iter().map(|e| e.id().to_owned()).collect();
    let second: Vec<String> = again.events().iter().map(|e| e.id().to_owned()).collect();
    assert_eq!(first.len(), 2);
    assert_eq!(
        second[..2],
        second[2..],
        "the same change announced again carries the same id"
    );
    let all: HashSet<&String> = first.iter().chain(&second).collect();
    assert_eq!(
        all.len(),
        4,
        "held, confirmed, rejected, sold out: nothing lost, duplicates by id"
    );

    // The whole batch once more: the reservation's steps are recorded once.
    let response = bilheteria::announce::announce_batch(
        batch(0),
        &stack.store,
        &support::KeptEvents::default(),
    )
    .await;
    assert!(response.batch_item_failures.is_empty());
    let reservation = "01JF000000000000000000RS01".parse().unwrap();
    let history: Vec<(String, u32)> = stack
        .store
        .history(reservation)
        .await
        .unwrap()
        .iter()
        .map(|e| (format!("{:?}", e.status), e.version))
        .collect();
    assert_eq!(
        history,
        [
            ("Held".to_owned(), 1),
            ("Charging".to_owned(), 2),
            ("Confirmed".to_owned(), 3)
        ]
    );
    let session = "01JF000000000000000000SE01".parse().unwrap();
    let minute = |text: &str| text.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let timeline = stack
        .store
        .timeline(
            session,
            minute("2026-11-10T13:00:00Z"),
            minute("2026-11-10T15:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        timeline,
        [(
            minute("2026-11-10T14:03:00Z"),
            bilheteria::domain::Tally {
                sold: 3,
                expiring: 0
            }
        )],
        "two seats and a place sold once, in the minute they were confirmed; the hold's minute back to nothing"
    );
}
