//! Holds expire: lazily (an expired hold's seats can be held by others at once) and by the
//! scheduled sweep, which gives everything back; safe against checkouts in flight and against a
//! second sweep running at the same time. Through the local stack with two-second holds.

mod support;

use std::{collections::HashMap, time::Duration};

use bilheteria::{
    domain::{ReservationStatus, SeatState},
    store::{Catalog, DynamoStore, Reservations},
};
use futures::future::join_all;
use local::{
    lambda::Invoked,
    stack::{Options, Stack},
};
use reqwest::Method;
use serde_json::{Value, json};

const HOLD_SECONDS: u64 = 2;

struct Venue {
    stack: Stack,
    http: reqwest::Client,
    store: DynamoStore,
    session: String,
    popcorn: String,
}

async fn venue() -> Venue {
    let options = Options {
        env: vec![("HOLD_SECONDS".into(), HOLD_SECONDS.to_string())],
        ..Options::default()
    };
    let stack = Stack::start(options).await.unwrap();
    let http = reqwest::Client::new();
    let mut venue = Venue {
        store: DynamoStore::new(stack.dynamodb_sdk(), "Table"),
        stack,
        http,
        session: String::new(),
        popcorn: String::new(),
    };
    let admin = venue.stack.token("organiser", true);
    let (_, event) = venue
        .send(
            Method::POST,
            "/events",
            &admin,
            Some(json!({"name": "Show", "venue": "Arena", "category": "show"})),
        )
        .await;
    let event = event["id"].as_str().unwrap().to_owned();
    let body = json!({
        "starts_at": "2030-09-10T20:00:00Z", "sale_starts_at": "2026-01-01T00:00:00Z", "sale_ends_at": "2030-09-10T18:00:00Z",
        "max_tickets_per_customer": 6,
        "sectors": [
            {"code": "plateia", "name": "Plateia", "kind": "numbered", "rows": 10, "seats_per_row": 10, "price": {"cents": 10000}},
            {"code": "pista", "name": "Pista", "kind": "general_admission", "capacity": 200, "price": {"cents": 5000}}
        ]
    });
    let (_, session) = venue
        .send(
            Method::POST,
            &format!("/events/{event}/sessions"),
            &admin,
            Some(body),
        )
        .await;
    venue.session = session["id"].as_str().unwrap().to_owned();
    let popcorn =
        json!({"name": "Pipoca", "category": "food", "price": {"cents": 2000}, "stock": 100});
    let (_, product) = venue
        .send(
            Method::POST,
            &format!("/events/{event}/products"),
            &admin,
            Some(popcorn),
        )
        .await;
    venue.popcorn = product["id"].as_str().unwrap().to_owned();
    venue
}

impl Venue {
    async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.stack.api_url());
        let (status, _, body) =
            support::call(&self.http, url, method, Some(token), body, &[]).await;
        (status, body)
    }

    async fn hold(&self, who: &str, seats: &[&str], places: u32) -> (u16, Value) {
        self.send(
            Method::POST,
            &format!("/sessions/{}/holds", self.session),
            &self.stack.token(who, false),
            Some(support::hold_body(seats, places)),
        )
        .await
    }

    async fn checkout(&self, who: &str, reservation: &str) -> (u16, Value) {
        let resp = self
            .http
            .post(format!(
                "{}/reservations/{reservation}/checkout",
                self.stack.api_url()
            ))
            .bearer_auth(self.stack.token(who, false))
            .header("idempotency-key", format!("pay-{reservation}"))
            .json(&json!({"payment": {"method": "card", "number": "4111111111111111"}}))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Moves the functions' clock past every hold made so far.
    async fn past_the_hold(&self) {
        let hold = chrono::Duration::seconds(HOLD_SECONDS as i64 + 1);
        self.stack.advance_clock(hold).await;
    }

    async fn tick(&self) -> Value {
        match self.stack.tick("ExpireHoldsFunction").await.unwrap() {
            Invoked::Response(body) => serde_json::from_slice(&body).unwrap(),
            other => panic!("the sweep failed: {other:?}"),
        }
    }

    async fn available(&self) -> (u64, u64) {
        let (_, s) = self
            .send(
                Method::GET,
                &format!("/sessions/{}", self.session),
                &self.stack.token("x", false),
                None,
            )
            .await;
        (
            s["sectors"][0]["available"].as_u64().unwrap(),
            s["sectors"][1]["available"].as_u64().unwrap(),
        )
    }

    async fn seats(&self) -> HashMap<String, SeatState> {
        support::seats_of(&self.store, &self.session, "plateia")
            .await
            .into_iter()
            .collect()
    }

    async fn status(&self, id: &str) -> ReservationStatus {
        support::status(&self.store, id).await
    }

    async fn popcorn_stock(&self, event: bilheteria::domain::EventId) -> Option<u32> {
        let products = self.store.products(event).await.unwrap();
        products
            .iter()
            .find(|p| p.id.to_string() == self.popcorn)
            .and_then(|p| p.stock)
    }
}

#[tokio::test]
async fn the_sweep_expires_a_lapsed_hold_and_gives_everything_back() {
    let venue = venue().await;
    let (status, held) = venue.hold("alice", &["A-1", "A-2"], 3).await;
    assert_eq!(status, 201, "{held}");
    let id = held["id"].as_str().unwrap().to_owned();
    let items = json!({"items": [{"product_id": venue.popcorn, "quantity": 4}]});
    venue
        .send(
            Method::PUT,
            &format!("/reservations/{id}/products"),
            &venue.stack.token("alice", false),
            Some(items),
        )
        .await;
    let event = venue
        .store
        .reservation(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .event_id;
    assert_eq!(
        (venue.available().await, venue.popcorn_stock(event).await),
        ((98, 197), Some(96))
    );

    venue.past_the_hold().await;
    let swept = venue.tick().await;
    assert_eq!(swept["expired"], 1, "{swept}");
    assert_eq!(venue.status(&id).await, ReservationStatus::Expired);
    assert!(matches!(venue.seats().await["A-1"], SeatState::Free));
    assert_eq!(
        (venue.available().await, venue.popcorn_stock(event).await),
        ((100, 200), Some(100))
    );
    let (status, _) = venue
        .hold("alice", &["B-1", "B-2", "B-3", "B-4", "B-5", "B-6"], 0)
        .await;
    assert_eq!(status, 201, "the customer's count came back");
    assert_eq!(venue.tick().await["expired"], 0, "nothing is expired twice");
    support::audit(&venue.stack).await;
    venue.stack.stop().await;
}

#[tokio::test]
async fn an_expired_hold_frees_its_seats_before_any_sweep_and_cannot_be_paid() {
    let venue = venue().await;
    let (_, held) = venue.hold("alice", &["C-5"], 0).await;
    let id = held["id"].as_str().unwrap().to_owned();
    venue.past_the_hold().await;
    let (status, taken) = venue.hold("bob", &["C-5"], 0).await;
    assert_eq!(status, 201, "held by someone else at once: {taken}");
    let (status, problem) = venue.checkout("alice", &id).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("HOLD_EXPIRED"))
    );
    venue.tick().await;
    assert_eq!(venue.status(&id).await, ReservationStatus::Expired);
    match venue.seats().await["C-5"] {
        SeatState::Held { reservation, .. } => assert_eq!(
            reservation.to_string(),
            taken["id"].as_str().unwrap(),
            "the sweep left bob's seat alone"
        ),
        other => panic!("C-5 is {other:?}"),
    }
    assert_eq!(
        venue.available().await.0,
        99,
        "alice's count came back, bob's stays"
    );
    support::audit(&venue.stack).await;
    venue.stack.stop().await;
}

#[tokio::test]
async fn fifty_holds_expiring_while_their_owners_pay_end_in_exactly_one_state() {
    let venue = venue().await;
    let rows = ["A", "B", "C", "D", "E"];
    let mut ids = Vec::new();
    for i in 0..50 {
        let seat = format!("{}-{}", rows[i / 10], 1 + i % 10);
        let (status, held) = venue.hold(&format!("fan-{i}"), &[seat.as_str()], 0).await;
        assert_eq!(status, 201);
        ids.push(held["id"].as_str().unwrap().to_owned());
    }
    // Aim at the moment the holds lapse: some checkouts land before, some after.
    tokio::time::sleep(Duration::from_millis(HOLD_SECONDS * 1000 - 600)).await;
    let checkouts = join_all(ids.iter().enumerate().map(|(i, id)| {
        let venue = &venue;
        async move {
            tokio::time::sleep(Duration::from_millis(25 * i as u64)).await;
            venue.checkout(&format!("fan-{i}"), id).await.0
        }
    }));
    let sweeps = join_all((0..4).map(|i| {
        let venue = &venue;
        async move {
            tokio::time::sleep(Duration::from_millis(300 * i as u64 + 500)).await;
            venue.tick().await
        }
    }));
    let (paid, _) = futures::join!(checkouts, sweeps);
    venue.tick().await;

    let seats = venue.seats().await;
    let (mut confirmed, mut expired) = (0, 0);
    for (i, id) in ids.iter().enumerate() {
        let status = venue.status(id).await;
        let seat = format!("{}-{}", rows[i / 10], 1 + i % 10);
        match status {
            ReservationStatus::Confirmed => {
                confirmed += 1;
                assert_eq!(paid[i], 200, "{id} confirmed, so its checkout answered 200");
                assert!(matches!(seats[&seat], SeatState::Sold { .. }));
            }
            ReservationStatus::Expired => {
                expired += 1;
                assert_ne!(
                    paid[i], 200,
                    "{id} expired, so its checkout did not succeed"
                );
                assert!(
                    matches!(seats[&seat], SeatState::Free),
                    "no SOLD seat on an expired reservation"
                );
            }
            other => panic!("{id} ended {other:?}"),
        }
    }
    assert_eq!(confirmed + expired, 50);
    let admin = venue.stack.token("organiser", true);
    let (status, sales) = venue
        .send(
            Method::GET,
            &format!("/sessions/{}/sales", venue.session),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 200, "{sales}");
    let plateia = &sales["sectors"][0];
    assert_eq!(
        (
            plateia["sold"].as_u64(),
            plateia["expired"].as_u64(),
            plateia["held"].as_u64()
        ),
        (Some(confirmed), Some(expired), Some(0)),
        "{sales}"
    );
    assert_eq!(
        sales["revenue"][0]["cents"].as_u64(),
        Some(confirmed * 10_000)
    );
    let (status, _) = venue
        .send(
            Method::GET,
            &format!("/sessions/{}/sales", venue.session),
            &venue.stack.token("fan-1", false),
            None,
        )
        .await;
    assert_eq!(status, 403, "sales are for organisers");
    assert_eq!(
        venue.available().await.0,
        100 - confirmed,
        "counts add up: {confirmed} sold, {expired} back on sale"
    );
    println!("race: {confirmed} confirmed, {expired} expired");
    support::audit(&venue.stack).await;
    venue.stack.stop().await;
}

#[tokio::test]
async fn two_sweeps_at_once_end_as_one_would() {
    let venue = venue().await;
    for i in 0..20 {
        let seat = format!("F-{}", 1 + i % 10);
        let seat = if i < 10 {
            seat
        } else {
            format!("G-{}", 1 + i % 10)
        };
        assert_eq!(
            venue.hold(&format!("fan-{i}"), &[seat.as_str()], 2).await.0,
            201
        );
    }
    assert_eq!(venue.available().await, (80, 160));
    venue.past_the_hold().await;
    let (a, b) = futures::join!(venue.tick(), venue.tick());
    let expired = a["expired"].as_u64().unwrap() + b["expired"].as_u64().unwrap();
    assert_eq!(
        expired, 20,
        "each hold expired once between the two: {a} {b}"
    );
    assert_eq!(
        venue.available().await,
        (100, 200),
        "everything back exactly once"
    );
    support::audit(&venue.stack).await;
    venue.stack.stop().await;
}

#[tokio::test]
async fn an_unreadable_item_in_the_expiry_index_is_counted_and_skipped_and_its_minute_passed() {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    use bilheteria::{
        expiry::sweep,
        store::{Expiries, keys},
    };
    let stack = support::Stack::start().await;
    let seeder = support::Seeder(&stack.store);
    let event = seeder.event(support::EVENT_ID).await;
    let session = seeder.session(event.id, support::SESSION_ID, 2, 5).await;
    let held = seeder
        .held(
            &session,
            support::RESERVATION_ID,
            "ana",
            &[("plateia", "A-1")],
            &[("pista", 2)],
        )
        .await;
    // Beside it in its expiry bucket, something that is not a reservation.
    let expires = held.expires_at.timestamp();
    let (bucket, _) = keys::expiry(expires, held.id);
    let broken = [
        ("PK", S("RESERVATION#broken".into())),
        ("SK", S("RESERVATION".into())),
        ("GSI2PK", S(bucket)),
        ("GSI2SK", S(format!("{expires:012}#broken"))),
        ("status", S("HELD".into())),
    ];
    stack
        .client
        .put_item()
        .table_name(support::TABLE)
        .set_item(Some(
            broken.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        ))
        .send()
        .await
        .unwrap();

    let later = held.expires_at + chrono::Duration::seconds(90);
    let swept = sweep(&stack.store, later, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(
        (swept.expired, swept.unreadable, swept.finished),
        (1, 1, true),
        "{swept:?}"
    );
    assert_eq!(
        stack
            .store
            .reservation(held.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ReservationStatus::Expired
    );
    assert!(
        stack.store.sweep_from().await.unwrap().unwrap() > expires / 60,
        "the minute is passed: later runs do not stop at it"
    );
    stack
        .client
        .delete_item()
        .table_name(support::TABLE)
        .key("PK", S("RESERVATION#broken".into()))
        .key("SK", S("RESERVATION".into()))
        .send()
        .await
        .unwrap();
    let audit = stack.store.audit(later).await.unwrap();
    assert!(audit.violations.is_empty(), "{audit}");
}

#[tokio::test]
async fn holds_that_change_while_the_sweep_runs_are_still_expired_by_it() {
    let venue = venue().await;
    let mut pending = Vec::new();
    for i in 0..40 {
        let who = format!("fan-{i}");
        let (status, held) = venue.hold(&who, &[], 1).await;
        assert_eq!(status, 201, "{held}");
        let id = held["id"].as_str().unwrap().to_owned();
        let resp = venue
            .http
            .post(format!(
                "{}/reservations/{id}/checkout",
                venue.stack.api_url()
            ))
            .bearer_auth(venue.stack.token(&who, false))
            .header("idempotency-key", format!("pix-{id}"))
            .json(&json!({"payment": {"method": "pix"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 202);
        let pix: Value = resp.json().await.unwrap();
        pending.push((id, pix["payment"]["id"].as_str().unwrap().to_owned()));
    }
    venue.stack.set_clock(chrono::Duration::seconds(120)).await;
    // The provider reports every PIX failed (each reservation HELD again, at a new version)
    // while sweeps read and expire the same reservations.
    let failed = join_all(pending.iter().map(|(id, payment)| {
        let venue = &venue;
        async move {
            let body = json!({"payment_id": payment, "reservation_id": id, "status": "failed"})
                .to_string();
            let signature = bilheteria::domain::payment::webhook_signature(
                venue
                    .stack
                    .secret("PaymentWebhookSecret")
                    .unwrap()
                    .as_bytes(),
                venue.stack.now().timestamp(),
                body.as_bytes(),
            );
            venue
                .http
                .post(format!("{}/payments/webhook", venue.stack.api_url()))
                .header("content-type", "application/json")
                .header("x-bilheteria-signature", signature)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    }));
    let sweeps = join_all((0..3).map(|_| venue.tick()));
    let (failed, _) = futures::join!(failed, sweeps);
    assert!(failed.iter().all(|s| *s == 200), "{failed:?}");
    venue.tick().await;
    for (id, _) in &pending {
        assert_eq!(
            venue.status(id).await,
            ReservationStatus::Expired,
            "{id}: a hold changed under the sweep is expired all the same"
        );
    }
    assert_eq!(
        venue.available().await.1,
        200,
        "every place is back on sale"
    );
    support::audit(&venue.stack).await;
    venue.stack.stop().await;
}

#[tokio::test]
async fn a_hold_read_stale_from_the_index_is_still_expired_at_its_new_version() {
    use bilheteria::{
        expiry::{Outcome, expire_one},
        store::Catalog,
    };
    let stack = support::Stack::start().await;
    let seeder = support::Seeder(&stack.store);
    let event = seeder.event(support::EVENT_ID).await;
    let session = seeder.session(event.id, support::SESSION_ID, 2, 5).await;
    let popcorn = seeder
        .product(event.id, support::PRODUCT_ID, Some(10))
        .await;
    let indexed = seeder
        .held(
            &session,
            support::RESERVATION_ID,
            "ana",
            &[("plateia", "A-1")],
            &[],
        )
        .await;
    // Changed after the index was read: an add-on (one more version).
    let lines = indexed
        .with_products(vec![(popcorn.id, 2)], std::slice::from_ref(&popcorn))
        .unwrap();
    let counted = [popcorn.id].into_iter().collect();
    stack
        .store
        .set_products(&indexed, lines, &counted, chrono::Utc::now())
        .await
        .unwrap();
    let later = indexed.expires_at + chrono::Duration::seconds(1);
    let outcome = expire_one(&stack.store, indexed.clone(), &counted, later)
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Expired);
    assert_eq!(
        stack
            .store
            .reservation(indexed.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ReservationStatus::Expired
    );
    let products = stack.store.products(event.id).await.unwrap();
    assert_eq!(products[0].stock, Some(10), "its add-ons went back too");
    let audit = stack.store.audit(later).await.unwrap();
    assert!(audit.violations.is_empty(), "{audit}");
}
