//! The organiser console's routes against a DynamoDB emulator: the attendee export pages through
//! a stadium-sized session, every ticket once, each page bounded.

mod support;

use std::collections::HashSet;

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use bilheteria::{
    api::{requests, sales},
    domain::{
        RejectReason, RequestRecord, ReservationId, SeatLabel, SectorCode, Ticket, TicketId,
        TicketRequest,
    },
    store::{Requests, keys},
};
use chrono::Utc;
use futures::{StreamExt, TryStreamExt, stream};
use serde::Serialize;
use serde_json::Value;
use support::{Caller, KeptQueue, Stack, request};

#[derive(Serialize)]
struct Stored<'a> {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI2PK")]
    gsi2pk: String,
    #[serde(rename = "GSI2SK")]
    gsi2sk: String,
    #[serde(flatten)]
    ticket: &'a Ticket,
}

/// Writes tickets as a confirmation stores them (listed on GSI2 by sector).
async fn put_tickets(stack: &Stack, tickets: &[Ticket]) {
    let requests: Vec<WriteRequest> = tickets
        .iter()
        .map(|t| {
            let item = serde_dynamo::to_item(Stored {
                pk: keys::reservation(t.reservation_id),
                sk: keys::ticket_sk(t.id),
                gsi2pk: keys::sector_tickets(t.session_id, &t.sector),
                gsi2sk: keys::ticket_sk(t.id),
                ticket: t,
            })
            .unwrap();
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                .build()
        })
        .collect();
    let batches: Vec<Vec<WriteRequest>> = requests.chunks(25).map(<[_]>::to_vec).collect();
    stream::iter(batches)
        .map(|batch| async {
            let out = stack
                .client
                .batch_write_item()
                .request_items(support::TABLE, batch)
                .send()
                .await?;
            assert!(out.unprocessed_items.is_none_or(|u| u.is_empty()));
            Ok::<_, aws_sdk_dynamodb::Error>(())
        })
        .buffer_unordered(8)
        .try_collect::<Vec<()>>()
        .await
        .unwrap();
}

#[tokio::test]
async fn an_attendee_export_of_fifty_thousand_tickets_lists_each_once_in_bounded_pages() {
    let stack = Stack::start_streamed(false).await;
    let event = stack.seed_event("01JF000000000000000000EV01").await;
    let session = stack
        .seed_session(event.id, "01JF000000000000000000SE01", 10, 20)
        .await;
    let plateia: SectorCode = "plateia".to_owned().try_into().unwrap();
    let pista: SectorCode = "pista".to_owned().try_into().unwrap();
    let now = Utc::now();
    // 200 numbered seats, then 49,800 general-admission places, ten tickets a reservation.
    let tickets: Vec<Ticket> = (0..50_000u32)
        .map(|i| {
            let numbered = i < 200;
            Ticket {
                id: TicketId::generate(),
                reservation_id: ReservationId::from_ulid(ulid::Ulid(u128::from(i / 10) + 1)),
                event_id: event.id,
                session_id: session.id,
                customer: format!("fan-{}", i / 10),
                sector: if numbered {
                    plateia.clone()
                } else {
                    pista.clone()
                },
                seat: numbered.then(|| SeatLabel {
                    row: (i / 20) as u16,
                    number: (i % 20) as u16 + 1,
                }),
                code: format!("code-{i}"),
                issued_at: now,
            }
        })
        .collect();
    let started = std::time::Instant::now();
    put_tickets(&stack, &tickets).await;
    eprintln!("50,000 tickets written in {:?}", started.elapsed());

    let started = std::time::Instant::now();
    let mut next: Option<String> = None;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut pages = 0;
    let mut largest = 0;
    loop {
        let mut query = vec![("limit", "5000".to_owned())];
        if let Some(cursor) = &next {
            query.push(("next", cursor.clone()));
        }
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let req = request(
            Caller::Admin("organiser"),
            "GET /sessions/{id}/attendees",
            &[("id", &session.id.to_string())],
            &query,
            None,
        );
        let resp = sales::export_attendees(req, &stack.store).await.unwrap();
        assert_eq!(resp.status(), 200);
        let link = resp
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_owned());
        let body = std::str::from_utf8(resp.body().as_ref())
            .unwrap()
            .to_owned();
        largest = largest.max(body.len());
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(pages == 0)
            .from_reader(body.as_bytes());
        if pages == 0 {
            assert_eq!(
                reader.headers().unwrap().iter().collect::<Vec<_>>(),
                sales::ATTENDEE_COLUMNS
            );
        }
        let page: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        assert!(page.len() <= 5000, "a page holds at most `limit` tickets");
        rows.extend(page);
        pages += 1;
        match link {
            Some(link) => {
                let cursor = link
                    .split("next=")
                    .nth(1)
                    .and_then(|rest| rest.split('>').next())
                    .unwrap();
                next = Some(cursor.to_owned());
            }
            None => break,
        }
        assert!(pages <= 11, "the export ends");
    }
    eprintln!(
        "exported {} tickets in {pages} pages in {:?}; the largest page {largest} bytes",
        rows.len(),
        started.elapsed()
    );
    let listed: HashSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(rows.len(), 50_000, "every ticket");
    assert_eq!(listed.len(), 50_000, "each once");
    let numbered: Vec<&Vec<String>> = rows.iter().take(200).collect();
    assert!(
        numbered
            .iter()
            .all(|r| r[2] == "plateia" && !r[3].is_empty()),
        "the numbered sector first, with its seats"
    );
    assert!(
        rows[200..]
            .iter()
            .all(|r| r[2] == "pista" && r[3].is_empty()),
        "then general admission, without seats"
    );
}

#[tokio::test]
async fn the_line_names_the_longest_waiting_request_until_it_is_decided() {
    let stack = Stack::start().await;
    let event = stack.seed_event("01JF000000000000000000EV01").await;
    let session = stack
        .seed_session(event.id, "01JF000000000000000000SE01", 10, 20)
        .await;
    let now = Utc::now();
    let plateia: SectorCode = "plateia".to_owned().try_into().unwrap();
    let asked = |id: &str, seconds_ago: i64| TicketRequest {
        request_id: id.parse().unwrap(),
        customer: format!("fan-{id}"),
        session_id: session.id,
        sector: plateia.clone(),
        quantity: 1,
        requested_at: now - chrono::Duration::seconds(seconds_ago),
        number: None,
    };
    let waiting = [
        asked("01JF000000000000000000RQ01", 30),
        asked("01JF000000000000000000RQ02", 90),
        asked("01JF000000000000000000RQ03", 10),
    ];
    for request in &waiting {
        stack
            .store
            .queue_request(RequestRecord::queued(request.clone()))
            .await
            .unwrap();
    }
    let line = || async {
        let req = request(
            Caller::Admin("organiser"),
            "GET /sessions/{id}/sales/queue",
            &[("id", &session.id.to_string())],
            &[],
            None,
        );
        let queue = KeptQueue::default();
        let resp = requests::get_queue(req, &stack.store, &queue)
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        serde_json::from_slice::<Value>(resp.body().as_ref()).unwrap()
    };
    let when = |r: &TicketRequest| {
        r.requested_at
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    };
    let first = line().await;
    let at = |line: &Value, sector: usize| line["sectors"][sector]["oldest_requested_at"].clone();
    assert_eq!(at(&first, 0), when(&waiting[1]).as_str(), "{first}");
    assert_eq!(at(&first, 1), Value::Null, "nobody waits for pista");
    assert!(
        first["oldest_age_seconds"].as_i64().unwrap() >= 90,
        "{first}"
    );

    // The longest-waiting one is decided: the next in line is the oldest.
    let decided = RequestRecord::rejected(waiting[1].clone(), RejectReason::SoldOut, None, now);
    assert!(stack.store.reject(&decided).await.unwrap());
    let second = line().await;
    assert_eq!(at(&second, 0), when(&waiting[0]).as_str(), "{second}");
    let decided = RequestRecord::rejected(waiting[0].clone(), RejectReason::SoldOut, None, now);
    assert!(stack.store.reject(&decided).await.unwrap());
    let third = line().await;
    assert_eq!(at(&third, 0), when(&waiting[2]).as_str(), "{third}");
}
