//! The organiser console's routes on the local stack: a scripted sale of 200 tickets reads the
//! same in the sales view, the timeline and the flash-sale line; a refund owed is marked done
//! once however many organisers race to do it; and every console route refuses a customer.

mod support;

use std::time::{Duration, Instant};

use bilheteria::{
    domain::{MethodKind, ReservationStatus, reservation::PaymentRecord},
    store::{Catalog, DynamoStore, Reservations},
};
use futures::future::join_all;
use local::stack::{Options, Stack};
use reqwest::{Method, header::HeaderMap};
use serde_json::{Value, json};

const CARD: &str = "4111111111111111";
/// How long a test waits for what the stream or the queue's consumer does in its own time.
const PATIENCE: Duration = Duration::from_secs(60);

struct Console {
    stack: Stack,
    http: reqwest::Client,
    session: String,
}

impl Console {
    /// A session of 100 numbered seats (10 rows of 10) and 300 general-admission places.
    async fn start() -> Self {
        let options = Options {
            max_instances: 6,
            ..Options::default()
        };
        let stack = Stack::start(options).await.unwrap();
        let mut console = Console {
            stack,
            http: reqwest::Client::new(),
            session: String::new(),
        };
        let event = json!({"name": "Show", "venue": "Arena", "category": "show"});
        let (status, _, event) = console
            .send(Method::POST, "/events", "organiser", Some(event))
            .await;
        assert_eq!(status, 201, "{event}");
        let session = json!({
            "starts_at": "2030-09-10T20:00:00Z", "sale_starts_at": "2026-01-01T00:00:00Z",
            "sale_ends_at": "2030-09-10T18:00:00Z", "max_tickets_per_customer": 10,
            "sectors": [
                {"code": "plateia", "name": "Plateia", "kind": "numbered", "rows": 10, "seats_per_row": 10, "price": {"cents": 25000}},
                {"code": "pista", "name": "Pista", "kind": "general_admission", "capacity": 300, "price": {"cents": 18000}}
            ]
        });
        let path = format!("/events/{}/sessions", event["id"].as_str().unwrap());
        let (status, _, session) = console
            .send(Method::POST, &path, "organiser", Some(session))
            .await;
        assert_eq!(status, 201, "{session}");
        console.session = session["id"].as_str().unwrap().to_owned();
        console
    }

    /// A call as `who`: `organiser` is in the admin group, anyone else is a customer.
    async fn send(
        &self,
        method: Method,
        path: &str,
        who: &str,
        body: Option<Value>,
    ) -> (u16, HeaderMap, Value) {
        let token = self.stack.token(who, who == "organiser");
        let key = format!("{who}-{method}-{path}");
        let headers: Vec<(&str, &str)> = if method == Method::POST {
            vec![("idempotency-key", key.as_str())]
        } else {
            vec![]
        };
        let url = format!("{}{path}", self.stack.api_url());
        support::call(&self.http, url, method, Some(&token), body, &headers).await
    }

    async fn admin_get(&self, path: &str) -> Value {
        let (status, _, body) = self.send(Method::GET, path, "organiser", None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    async fn pay(&self, who: &str, reservation: &str) {
        let path = format!("/reservations/{reservation}/checkout");
        let payment = json!({"payment": {"method": "card", "number": CARD}});
        let (status, _, paid) = self.send(Method::POST, &path, who, Some(payment)).await;
        assert_eq!(status, 200, "{who} pays: {paid}");
    }

    /// Asks `GET path` as the organiser until `done` holds for the answer, within `PATIENCE`.
    async fn until(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let body = self.admin_get(path).await;
            if done(&body) || Instant::now() > deadline {
                return body;
            }
            tokio::task::yield_now().await;
        }
    }
}

/// Seat `k` (0-based) of a 10 × 10 sector: rows A to J.
fn seat(k: usize) -> String {
    format!("{}-{}", char::from(b'A' + (k / 10) as u8), k % 10 + 1)
}

#[tokio::test]
async fn a_scripted_sale_of_two_hundred_tickets_reads_the_same_in_every_view() {
    let console = Console::start().await;
    let session = console.session.clone();

    // 25 fans hold 4 seats each and pay: 100 numbered tickets.
    let direct = join_all((0..25).map(|i| {
        let console = &console;
        let session = &session;
        async move {
            let who = format!("seated-{i}");
            let seats: Vec<Value> = (4 * i..4 * i + 4)
                .map(|k| json!({"sector": "plateia", "seat": seat(k)}))
                .collect();
            let path = format!("/sessions/{session}/holds");
            let (status, _, held) = console
                .send(Method::POST, &path, &who, Some(json!({ "seats": seats })))
                .await;
            assert_eq!(status, 201, "{who}: {held}");
            console.pay(&who, held["id"].as_str().unwrap()).await;
        }
    }));
    // 25 fans ask the queue for 4 standing places each, then pay: 100 more.
    let queued = join_all((0..25).map(|i| {
        let console = &console;
        let session = &session;
        async move {
            let who = format!("queued-{i}");
            let path = format!("/sessions/{session}/requests");
            let ask = json!({"sector": "pista", "quantity": 4});
            let (status, _, request) = console.send(Method::POST, &path, &who, Some(ask)).await;
            assert_eq!(status, 202, "{who}: {request}");
            let status_url = request["status_url"].as_str().unwrap().to_owned();
            let deadline = Instant::now() + PATIENCE;
            let decided = loop {
                let (_, _, now) = console.send(Method::GET, &status_url, &who, None).await;
                if now["status"] != "QUEUED" || Instant::now() > deadline {
                    break now;
                }
                tokio::task::yield_now().await;
            };
            assert_eq!(decided["status"], "FULFILLED", "{who}: {decided}");
            console
                .pay(&who, decided["reservation_id"].as_str().unwrap())
                .await;
        }
    }));
    tokio::join!(direct, queued);
    // Three holds left unpaid, two given back.
    for i in 0..5 {
        let who = format!("undecided-{i}");
        let path = format!("/sessions/{session}/holds");
        let places = json!({"places": [{"sector": "pista", "quantity": 2}]});
        let (status, _, held) = console.send(Method::POST, &path, &who, Some(places)).await;
        assert_eq!(status, 201, "{held}");
        if i >= 3 {
            let path = format!("/reservations/{}", held["id"].as_str().unwrap());
            let (status, _, _) = console.send(Method::DELETE, &path, &who, None).await;
            assert_eq!(status, 200);
        }
    }

    let sales = console
        .admin_get(&format!("/sessions/{session}/sales"))
        .await;
    assert_eq!(
        (&sales["sold"], &sales["held"], &sales["cancelled"]),
        (&json!(200), &json!(6), &json!(4)),
        "{sales}"
    );
    // The timeline follows the stream: it agrees once the stream is read.
    let path = format!("/sessions/{session}/sales/timeline");
    let expiring = |t: &Value| -> i64 {
        t["expiring"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["tickets"].as_i64().unwrap())
            .sum()
    };
    let timeline = console
        .until(&path, |t| t["sold_in_window"] == 200 && expiring(t) == 6)
        .await;
    assert_eq!(timeline["sold_in_window"], sales["sold"], "{timeline}");
    let per_minute: i64 = timeline["sold"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["tickets"].as_i64().unwrap())
        .sum();
    assert_eq!(per_minute, 200, "the minutes add up: {timeline}");
    assert_eq!(
        expiring(&timeline),
        sales["held"].as_i64().unwrap(),
        "the held tickets all end within the next 15 minutes: {timeline}"
    );
    assert_eq!(timeline["lapsed"], 0);
    // Every request was decided: nothing waits, in SQS or in the sectors' lines.
    let path = format!("/sessions/{session}/sales/queue");
    let line = console
        .until(&path, |q| {
            q["queue"]["waiting"] == 0 && q["queue"]["in_flight"] == 0
        })
        .await;
    assert_eq!(line["queue"]["waiting"], 0, "{line}");
    assert_eq!(line["queue"]["in_flight"], 0, "{line}");
    assert_eq!(line["oldest_age_seconds"], Value::Null, "{line}");
    let sectors: Vec<&str> = line["sectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sector"].as_str().unwrap())
        .collect();
    assert_eq!(sectors, ["plateia", "pista"]);
    support::audit(&console.stack).await;
    console.stack.stop().await;
}

#[tokio::test]
async fn a_refund_owed_is_marked_done_once_by_one_of_many_organisers() {
    let console = Console::start().await;
    let store = DynamoStore::new(console.stack.dynamodb_sdk(), support::TABLE);
    let session = store
        .session(console.session.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let held = support::Seeder(&store)
        .held(
            &session,
            "01JF000000000000000000RS01",
            "late-payer",
            &[("plateia", "A-1")],
            &[],
        )
        .await;
    let payment = PaymentRecord {
        id: "pay_late".into(),
        method: MethodKind::Card,
        amount: held.total().unwrap(),
        instructions: None,
    };
    store
        .refund_required(
            &held,
            payment,
            "paid after the seat was sold again",
            &Default::default(),
        )
        .await
        .unwrap();
    let id = held.id.to_string();

    // The customer who paid sees it too, and cannot mark it.
    let refund = format!("/reservations/{id}/refund");
    let (status, _, problem) = console
        .send(Method::POST, &refund, "late-payer", Some(json!({})))
        .await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("FORBIDDEN")));

    // Eight organisers press the button at once.
    let marks = join_all((0..8).map(|i| {
        let (console, refund) = (&console, &refund);
        async move {
            let token = console.stack.token(&format!("organiser-{i}"), true);
            let url = format!("{}{refund}", console.stack.api_url());
            let body = json!({"reference": format!("re_{i}")});
            support::call(
                &console.http,
                url,
                Method::POST,
                Some(&token),
                Some(body),
                &[],
            )
            .await
        }
    }))
    .await;
    let won: Vec<&Value> = marks
        .iter()
        .filter(|(status, _, _)| *status == 200)
        .map(|(_, _, body)| body)
        .collect();
    assert_eq!(won.len(), 1, "one mark: {marks:?}");
    for (status, _, problem) in marks.iter().filter(|(s, _, _)| *s != 200) {
        assert_eq!(
            (*status, problem["code"].as_str()),
            (409, Some("ALREADY_REFUNDED")),
            "{problem}"
        );
    }
    let refunded = won[0];
    assert_eq!(refunded["status"], "REFUNDED");
    let by = refunded["refunded_by"].as_str().unwrap().to_owned();
    assert!(by.starts_with("organiser-"), "{refunded}");
    let stored = store.reservation(held.id).await.unwrap().unwrap();
    assert_eq!(stored.status, ReservationStatus::Refunded);
    assert_eq!(stored.refunded_by.as_deref(), Some(by.as_str()));
    assert_eq!(
        stored.refund_reference.as_deref(),
        refunded["refund_reference"].as_str()
    );

    // The history shows every step, the last with who marked it.
    let history = console
        .until(&format!("/reservations/{id}/history"), |h| {
            h["history"].as_array().unwrap().len() == 3
        })
        .await;
    let steps: Vec<(&str, Option<&str>)> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["status"].as_str().unwrap(), s["by"].as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("HELD", None),
            ("REFUND_REQUIRED", None),
            ("REFUNDED", Some(by.as_str()))
        ],
        "{history}"
    );
    // Looked up by customer, it is there.
    let mine = console
        .admin_get("/customers/late-payer/reservations")
        .await;
    assert_eq!(mine["items"][0]["id"], id.as_str(), "{mine}");
    // Anything but a refund owed is refused.
    let (status, _, problem) = console
        .send(Method::POST, &refund, "organiser", Some(json!({})))
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("ALREADY_REFUNDED"))
    );
    support::audit(&console.stack).await;
    console.stack.stop().await;
}

#[tokio::test]
async fn every_console_route_refuses_a_customer() {
    let console = Console::start().await;
    let s = &console.session;
    let r = "01JF000000000000000000RS01";
    let routes = [
        (Method::GET, format!("/sessions/{s}/sales")),
        (Method::GET, format!("/sessions/{s}/sales/timeline")),
        (Method::GET, format!("/sessions/{s}/sales/queue")),
        (Method::GET, format!("/sessions/{s}/attendees")),
        (Method::GET, "/customers/fan/reservations".to_owned()),
        (Method::GET, format!("/reservations/{r}/history")),
        (Method::POST, format!("/reservations/{r}/refund")),
    ];
    for (method, path) in routes {
        let body = (method == Method::POST).then(|| json!({}));
        let (status, headers, problem) = console.send(method.clone(), &path, "fan", body).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (403, Some("FORBIDDEN")),
            "{method} {path}"
        );
        assert_eq!(headers["content-type"], "application/problem+json");
    }
    console.stack.stop().await;
}
