//! Flash sales through the local stack: requests POSTed concurrently over HTTP, the real SQS FIFO
//! queue (ministack), the real consumer binary behind the queue mapping, and DynamoDB.

mod support;

use std::time::Duration;

use bilheteria::{
    domain::{RejectReason, RequestId, RequestRecord, RequestStatus, TicketRequest},
    store::Requests,
};
use futures::future::join_all;
use serde_json::json;
use support::sale::{Sale, check, holder, options, sale, served_in_order};

#[tokio::test]
async fn a_flash_sale_serves_two_thousand_requests_in_queue_order() {
    let (rows, per_row) = (15, 20);
    let capacity = rows * per_row;
    let sale = sale(rows, per_row, &[]).await;
    let (run, records) = sale.rush(2_000, 500).await;
    let fulfilled = check(&sale, &records, run.accepted, capacity).await;
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
    println!("{run}");
    support::audit(&sale.stack).await;
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
    // On a loaded machine a message may come back past its visibility timeout while its run is
    // still going, and reach the queue's maxReceiveCount: the dead-letter consumer decides it.
    let dead_lettered = records
        .iter()
        .filter(|r| r.reason == Some(bilheteria::domain::RejectReason::Failed))
        .count();
    assert!(
        consumer_calls + dead_lettered >= asks.len(),
        "the fault made the consumer run once per record: {consumer_calls} runs, {dead_lettered} dead-lettered"
    );
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

#[tokio::test]
async fn direct_holds_racing_the_queue_never_share_a_seat() {
    let (rows, per_row) = (4, 15);
    let sale = sale(rows, per_row, &[]).await;
    let queued = (0..100).map(|i| {
        let customer = format!("queue-{i}");
        let sale = &sale;
        async move { sale.request(&customer, 1 + i % 2).await }
    });
    let direct = (0..100u32).map(|i| {
        let customer = format!("direct-{i}");
        let seat = format!(
            "{}-{}",
            ["A", "B", "C", "D"][(i % 4) as usize],
            1 + (i * 7) % per_row
        );
        let sale = &sale;
        async move { sale.hold(&customer, &seat).await.0 }
    });
    let (queued, direct) = futures::join!(join_all(queued), join_all(direct));
    let accepted = support::sale::queued(queued.iter().map(|(s, b)| (*s, b)));
    assert!(direct.iter().all(|s| *s == 201 || *s == 409), "{direct:?}");
    let records = sale.decided(accepted, Duration::from_secs(120)).await;
    check(&sale, &records, accepted, rows * per_row).await;
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
    // The holds never wrote the sector's stock item: they counted on its seat counters.
    let client = aws_sdk_dynamodb::Client::new(sale.stack.dynamodb_sdk());
    let sector = format!("SESSION#{}#SECTOR#plateia", sale.session);
    let (mut on_item, mut counters) = (None, Vec::new());
    for item in support::items(&client).await {
        if item["PK"] == sector.as_str() && item["SK"] == "STOCK" {
            on_item = item["available"].as_i64();
        } else if item["PK"]
            .as_str()
            .is_some_and(|pk| pk.starts_with(&sector))
            && item["SK"] == "SHARD"
        {
            counters.push(item["available"].as_i64().unwrap());
        }
    }
    assert_eq!(
        on_item,
        Some(i64::from(rows * per_row)),
        "nothing came back"
    );
    assert_eq!(
        -counters.iter().sum::<i64>(),
        holders.len() as i64,
        "{counters:?}"
    );
    assert!(counters.len() > 1, "spread over the counters: {counters:?}");
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

#[tokio::test]
async fn a_request_retried_after_the_sale_closed_gets_its_first_answer() {
    let closes = chrono::Utc::now() + chrono::Duration::hours(1);
    let sale = Sale::start_until(options(&[]), 2, 5, &closes.to_rfc3339()).await;
    let path = format!("/sessions/{}/requests", sale.session);
    let ask = |quantity: u32, key: Option<&'static str>| {
        let body = json!({"sector": "plateia", "quantity": quantity});
        let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
        let (sale, path) = (&sale, &path);
        async move { sale.post(path, "late-fan", body, &headers).await }
    };
    let (status, _, first) = ask(2, Some("late-1")).await;
    assert_eq!(status, 202, "{first}");
    // The functions' clock jumps past the close: no waiting for it.
    sale.stack.set_clock(chrono::Duration::hours(2)).await;

    // The answer was lost on the way; the retry comes after the close.
    let (status, headers, again) = ask(2, Some("late-1")).await;
    assert_eq!(
        (status, &again),
        (202, &first),
        "the first answer, replayed"
    );
    assert_eq!(headers["idempotent-replayed"], "true");
    for (quantity, key) in [(2, Some("late-2")), (1, Some("late-1")), (2, None)] {
        let (status, _, problem) = ask(quantity, key).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (409, Some("SALE_CLOSED")),
            "{key:?}, {quantity}: a new request after the close"
        );
    }
    let records = sale.decided(1, Duration::from_secs(60)).await;
    assert_eq!(records.len(), 1, "one request, asked once");
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

/// Requests one after the other in `pista`, each waited for: the status and reason of each.
async fn served(sale: &Sale, asks: &[(&str, u32)]) -> Vec<(RequestStatus, Option<RejectReason>)> {
    let mut decided = Vec::new();
    for (customer, quantity) in asks {
        let (status, body) = sale.request_in("pista", customer, *quantity).await;
        assert_eq!(status, 202, "{body}");
        let record = sale.decision(body["request_id"].as_str().unwrap()).await;
        decided.push((record.status, record.reason));
    }
    decided
}

#[tokio::test]
async fn a_request_for_more_places_than_are_left_does_not_close_the_sector() {
    let sale = sale(1, 2, &[]).await;
    let places = |n: u32| json!({"places": [{"sector": "pista", "quantity": n}]});
    let holds = format!("/sessions/{}/holds", sale.session);
    let (status, _, direct) = sale.post(&holds, "direct", places(2), &[]).await;
    assert_eq!(status, 201, "{direct}");

    use RejectReason::{NotEnoughLeft, SoldOut};
    use RequestStatus::{Fulfilled, Rejected};
    assert_eq!(
        served(&sale, &[("ana", 4), ("bia", 1)]).await,
        [(Rejected, Some(NotEnoughLeft)), (Fulfilled, None)],
        "3 left: 4 is too many, 1 is served"
    );
    let (status, _, body) = sale.post(&holds, "direct-2", places(1), &[]).await;
    assert_eq!(status, 201, "the sector is still on sale: {body}");
    assert_eq!(
        served(&sale, &[("caio", 1), ("davi", 1)]).await,
        [(Fulfilled, None), (Rejected, Some(SoldOut))],
        "the last place, then nothing"
    );
    let url = format!(
        "{}/reservations/{}",
        sale.stack.api_url(),
        direct["id"].as_str().unwrap()
    );
    let token = sale.stack.token("direct", false);
    let (status, _, body) = support::call(
        &sale.http,
        url,
        reqwest::Method::DELETE,
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        served(&sale, &[("eva", 2)]).await,
        [(Fulfilled, None)],
        "places given back reopen the sector"
    );
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

#[tokio::test]
async fn a_request_the_queue_gives_up_on_is_rejected_as_failed_and_announced() {
    let sale = sale(1, 2, &[]).await;
    let request = TicketRequest {
        request_id: RequestId::generate(),
        customer: "ana".into(),
        session_id: sale.session.parse().unwrap(),
        sector: "plateia".to_string().try_into().unwrap(),
        quantity: 1,
        requested_at: sale.stack.now(),
        number: None,
    };
    sale.store
        .queue_request(RequestRecord::queued(request.clone()))
        .await
        .unwrap();
    // Where the queue's redrive puts a message after its fifth failed receive.
    let sqs = aws_sdk_sqs::Client::new(
        &local::dynamodb::sdk_config(sale.stack.queues_endpoint().unwrap()).await,
    );
    sqs.send_message()
        .queue_url(&sale.stack.queue_urls()["RequestsDeadLetterQueue"])
        .message_body(serde_json::to_string(&request).unwrap())
        .message_group_id(request.group())
        .message_deduplication_id(request.request_id.to_string())
        .send()
        .await
        .unwrap();
    let record = sale.decision(&request.request_id.to_string()).await;
    assert_eq!(
        (record.status, record.reason),
        (RequestStatus::Rejected, Some(RejectReason::Failed))
    );
    let (status, body) = sale
        .get(&format!("/requests/{}", request.request_id), "ana")
        .await;
    assert_eq!((status, &body["reason"]), (200, &json!("FAILED")), "{body}");
    let events = &sale.stack.queue_urls()["EventsQueue"];
    let mut announced = false;
    for _ in 0..20 {
        let out = sqs
            .receive_message()
            .queue_url(events)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        announced |= out.messages().iter().any(|m| {
            let event: serde_json::Value =
                serde_json::from_str(m.body().unwrap_or("null")).unwrap();
            event["detail-type"] == "RequestRejected" && event["detail"]["reason"] == "FAILED"
        });
        if announced {
            break;
        }
    }
    assert!(announced, "RequestRejected with reason FAILED on the bus");
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}
