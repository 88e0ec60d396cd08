//! A fair line through the local stack: a `queue` sale refuses direct holds, a waiting fan sees
//! their place go down as the line moves and an estimated wait, and a customer cannot fill a line.

mod support;

use std::time::Duration;

use bilheteria::{
    domain::{Line, RequestStatus},
    store::Requests,
};
use futures::future::join_all;
use serde_json::{Value, json};
use support::sale::{Sale, options};

const CONSUMER: &str = "ProcessRequestsFunction";

async fn queue_sale(rows: u32, seats: u32, extra: Value) -> Sale {
    let mut session = json!({"sale_mode": "queue"});
    if let (Some(session), Some(extra)) = (session.as_object_mut(), extra.as_object()) {
        session.extend(extra.clone());
    }
    Sale::start_with(options(&[]), rows, seats, session).await
}

#[tokio::test]
async fn a_queue_sale_refuses_direct_holds_and_serves_its_line() {
    let sale = queue_sale(2, 5, json!({})).await;
    let (status, session) = sale
        .get(&format!("/sessions/{}", sale.session), "ana")
        .await;
    assert_eq!(
        (status, session["sale_mode"].as_str()),
        (200, Some("queue"))
    );

    let (status, problem) = sale.hold("ana", "A-3").await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("USE_QUEUE")));
    assert!(
        sale.seats()
            .await
            .iter()
            .all(|(_, s)| support::sale::holder(s).is_none()),
        "the refused hold took nothing"
    );

    let (status, request) = sale.request("ana", 2).await;
    assert_eq!(status, 202, "{request}");
    assert!(request["number"].as_u64().is_some(), "{request}");
    assert_eq!(request["place"], 1, "first in an empty line: {request}");
    let decided = sale.decision(request["request_id"].as_str().unwrap()).await;
    assert_eq!(decided.status, RequestStatus::Fulfilled);
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

#[tokio::test]
async fn a_place_in_line_only_goes_down_as_the_line_moves() {
    let sale = queue_sale(10, 10, json!({})).await;
    // The consumer is off while the line forms: nothing is decided before the late fan joins.
    sale.stack.enable_mapping(CONSUMER, false).await;
    for i in 0..60 {
        let (status, body) = sale.request(&format!("early-{i:02}"), 1).await;
        assert_eq!(status, 202, "{body}");
    }
    let (status, late) = sale.request("late", 1).await;
    assert_eq!(status, 202, "{late}");
    let id = late["request_id"].as_str().unwrap().to_owned();
    let joined_at = late["place"].as_u64().unwrap();
    assert_eq!(joined_at, 61, "sixty joined before, one at a time");
    assert!(
        late.get("estimated_wait_seconds").is_none(),
        "no pace yet: {late}"
    );

    // A pace measured by the consumer gives the wait: the line as two batches left it.
    let session = sale.session.parse().unwrap();
    let sector = "plateia".to_owned().try_into().unwrap();
    let first = Line::advanced(None, 0, 10, sale.stack.now());
    let paced = Line::advanced(Some(&first), 0, 10, first.at + chrono::Duration::seconds(2));
    sale.store
        .advance_line(session, &sector, &paced)
        .await
        .unwrap();
    // A process that has not read the line yet (a warm one shows it as read within a second).
    sale.stack.lambda().retire_idle().await;
    let (_, waiting) = sale.get(&format!("/requests/{id}"), "late").await;
    let expected = (joined_at as f64 / paced.pace).ceil() as u64;
    assert_eq!(
        (
            waiting["place"].as_u64(),
            waiting["estimated_wait_seconds"].as_u64()
        ),
        (Some(joined_at), Some(expected)),
        "{waiting}"
    );

    // The line moves: the consumer decides one batch, then another, and the fan looks each time
    // (from a process that has not read the line before).
    let mut places = vec![joined_at];
    for _ in 0..2 {
        sale.stack.step_mapping(CONSUMER, 1).await;
        sale.stack.lambda().retire_idle().await;
        let (_, waiting) = sale.get(&format!("/requests/{id}"), "late").await;
        let place = waiting["place"].as_u64().unwrap();
        assert!(
            place < *places.last().unwrap(),
            "a batch was decided: {places:?} then {place}"
        );
        places.push(place);
    }
    sale.stack.enable_mapping(CONSUMER, true).await;
    let status = loop {
        let (status, body) = sale.get(&format!("/requests/{id}"), "late").await;
        assert_eq!(status, 200, "{body}");
        if body["status"] != "QUEUED" {
            assert!(
                body.get("place").is_none(),
                "a decided request has no place"
            );
            break body["status"].clone();
        }
        places.push(body["place"].as_u64().unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, "FULFILLED");
    println!("places seen while waiting: {places:?}");
    assert!(
        places.windows(2).all(|w| w[1] <= w[0]),
        "the place never grows: {places:?}"
    );
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

#[tokio::test]
async fn one_customer_cannot_have_more_requests_waiting_than_the_session_allows() {
    let sale = queue_sale(4, 10, json!({"max_waiting_per_customer": 2})).await;
    sale.stack.enable_mapping(CONSUMER, false).await;
    let raced = join_all((0..12).map(|_| sale.request("bot", 1))).await;
    let accepted: Vec<&Value> = raced
        .iter()
        .filter(|(s, _)| *s == 202)
        .map(|(_, b)| b)
        .collect();
    let refused: Vec<&Value> = raced
        .iter()
        .filter(|(s, _)| *s == 409)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(
        (accepted.len(), refused.len()),
        (2, 10),
        "{:?}",
        raced.iter().map(|(s, _)| s).collect::<Vec<_>>()
    );
    assert!(
        refused.iter().all(|p| p["code"] == "TOO_MANY_WAITING"),
        "{refused:?}"
    );
    assert_eq!(
        sale.request("fan", 1).await.0,
        202,
        "another customer is not held back"
    );

    sale.stack.enable_mapping(CONSUMER, true).await;
    for request in &accepted {
        let decided = sale.decision(request["request_id"].as_str().unwrap()).await;
        assert_eq!(decided.status, RequestStatus::Fulfilled);
    }
    let (status, body) = sale.request("bot", 1).await;
    assert_eq!(status, 202, "a decided request frees its place: {body}");
    let records = sale.decided(4, Duration::from_secs(60)).await;
    assert_eq!(
        records
            .iter()
            .filter(|r| r.request.customer == "bot")
            .count(),
        3,
        "the refused requests were never queued"
    );
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}
