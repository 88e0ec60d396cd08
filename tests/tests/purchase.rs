//! The purchase journey through the local stack, as customers drive it over HTTP against the
//! real function binaries: holds, add-ons, checkout, webhook, cancellation, and the races.

mod support;

use std::collections::{BTreeMap, HashMap};

use bilheteria::{
    domain::{ReservationStatus, SeatState, payment::webhook_signature},
    store::{Catalog, DynamoStore, Reservations, keys},
};
use futures::future::join_all;
use local::stack::{Options, Stack};
use reqwest::Method;
use serde_json::{Value, json};

struct Shop {
    stack: Stack,
    http: reqwest::Client,
    store: DynamoStore,
    session: String,
    popcorn: String,
    soda: String,
}

/// A stack with an event on sale: `plateia` (rows × seats), `pista` (general admission), a
/// per-customer limit, popcorn (stock 100) and soda (stock 10).
async fn shop(rows: u32, seats: u32, pista: u32, limit: u32, env: &[(&str, &str)]) -> Shop {
    let options = Options {
        max_instances: 6,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Options::default()
    };
    let stack = Stack::start(options).await.unwrap();
    let store = DynamoStore::new(stack.dynamodb_sdk(), "Table");
    // Tests compare the table before and after a checkout, whose process records this at start.
    support::publish_ticket_key(&stack, &store).await;
    let mut shop = Shop {
        http: reqwest::Client::new(),
        store,
        stack,
        session: String::new(),
        popcorn: String::new(),
        soda: String::new(),
    };
    let admin = shop.stack.token("organiser", true);
    let (_, event) = shop
        .send(
            Method::POST,
            "/events",
            Some(&admin),
            Some(json!({"name": "Show", "venue": "Arena", "category": "show"})),
            &[],
        )
        .await;
    let event = event["id"].as_str().unwrap().to_owned();
    let session = json!({
        "starts_at": "2030-09-10T20:00:00Z", "sale_starts_at": "2026-01-01T00:00:00Z", "sale_ends_at": "2030-09-10T18:00:00Z",
        "max_tickets_per_customer": limit,
        "sectors": [
            {"code": "plateia", "name": "Plateia", "kind": "numbered", "rows": rows, "seats_per_row": seats, "price": {"cents": 25000}},
            {"code": "pista", "name": "Pista", "kind": "general_admission", "capacity": pista, "price": {"cents": 18000}}
        ]
    });
    let (status, session) = shop
        .send(
            Method::POST,
            &format!("/events/{event}/sessions"),
            Some(&admin),
            Some(session),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{session}");
    shop.session = session["id"].as_str().unwrap().to_owned();
    for (name, category, cents, stock) in [
        ("Pipoca", "food", 2800, 100),
        ("Refrigerante", "drink", 900, 10),
    ] {
        let body =
            json!({"name": name, "category": category, "price": {"cents": cents}, "stock": stock});
        let (_, product) = shop
            .send(
                Method::POST,
                &format!("/events/{event}/products"),
                Some(&admin),
                Some(body),
                &[],
            )
            .await;
        let id = product["id"].as_str().unwrap().to_owned();
        if name == "Pipoca" {
            shop.popcorn = id
        } else {
            shop.soda = id
        }
    }
    shop
}

impl Shop {
    fn token(&self, sub: &str) -> String {
        self.stack.token(sub, false)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.stack.api_url());
        let (status, _, body) = support::call(&self.http, url, method, token, body, headers).await;
        (status, body)
    }

    async fn hold(&self, who: &str, seats: &[&str], places: u32) -> (u16, Value) {
        let body = support::hold_body(seats, places);
        self.send(
            Method::POST,
            &format!("/sessions/{}/holds", self.session),
            Some(&self.token(who)),
            Some(body),
            &[],
        )
        .await
    }

    async fn checkout(
        &self,
        who: &str,
        reservation: &str,
        key: &str,
        payment: Value,
    ) -> (u16, Value) {
        let path = format!("/reservations/{reservation}/checkout");
        self.send(
            Method::POST,
            &path,
            Some(&self.token(who)),
            Some(json!({"payment": payment})),
            &[("idempotency-key", key)],
        )
        .await
    }

    async fn session_available(&self) -> (u64, u64) {
        let (_, s) = self
            .send(
                Method::GET,
                &format!("/sessions/{}", self.session),
                None,
                None,
                &[],
            )
            .await;
        (
            s["sectors"][0]["available"].as_u64().unwrap(),
            s["sectors"][1]["available"].as_u64().unwrap(),
        )
    }

    async fn seat_states(&self) -> HashMap<String, SeatState> {
        support::seats_of(&self.store, &self.session, "plateia")
            .await
            .into_iter()
            .collect()
    }

    async fn product_stock(&self, id: &str) -> u64 {
        let event = self
            .store
            .session(self.session.parse().unwrap())
            .await
            .unwrap()
            .unwrap()
            .event_id;
        let products = self.store.products(event).await.unwrap();
        u64::from(
            products
                .iter()
                .find(|p| p.id.to_string() == id)
                .unwrap()
                .stock
                .unwrap(),
        )
    }

    /// The table's items but what the stream consumer derives from them (the reservations'
    /// history, the sessions' timelines, the sectors' seat maps): those follow each change in
    /// their own time and are checked in `domain_events` and `seat_map`.
    async fn items(&self) -> Vec<Value> {
        let mut items =
            support::items(&aws_sdk_dynamodb::Client::new(self.stack.dynamodb_sdk())).await;
        items.retain(|i| {
            let sk = i["SK"].as_str().unwrap_or("");
            !sk.starts_with(keys::HISTORY_PREFIX)
                && !sk.starts_with(keys::MINUTE_PREFIX)
                && !sk.starts_with(keys::MAP_BLOCK_PREFIX)
        });
        items
    }

    /// The table's items but the idempotency records, which a refused or failed request may
    /// leave.
    async fn items_but_keys(&self) -> Vec<Value> {
        let mut items = self.items().await;
        items.retain(|i| !i["PK"].as_str().unwrap_or("").starts_with("IDEMPOTENCY#"));
        items
    }

    /// `PUT /reservations/{id}/products` as `who`: `(product, quantity)` pairs.
    async fn add_ons(&self, who: &str, id: &str, items: &[(&str, u32)]) -> (u16, Value) {
        let items: Vec<Value> = items
            .iter()
            .map(|(product, quantity)| json!({"product_id": product, "quantity": quantity}))
            .collect();
        self.send(
            Method::PUT,
            &format!("/reservations/{id}/products"),
            Some(&self.token(who)),
            Some(json!({ "items": items })),
            &[],
        )
        .await
    }

    async fn status(&self, id: &str) -> ReservationStatus {
        support::status(&self.store, id).await
    }

    /// `GET path` as `who`.
    async fn get(&self, who: &str, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, Some(&self.token(who)), None, &[])
            .await
    }

    /// Moves the functions' clock past every hold made so far.
    async fn past_the_holds(&self) {
        self.stack.set_clock(chrono::Duration::seconds(700)).await;
    }

    /// The provider's signed notice that the PIX payment `pix` (a checkout's answer) was paid.
    async fn paid(&self, reservation: &str, pix: &Value) -> Value {
        let body = json!({"payment_id": pix["payment"]["id"], "reservation_id": reservation, "status": "paid"}).to_string();
        let (status, answer) = self.webhook(&body, &self.signed(&body)).await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// A held reservation of `seats` with `quantity` of `product`, paid by PIX and not yet
    /// settled: its id and the checkout's answer.
    async fn pending_pix(
        &self,
        who: &str,
        seats: &[&str],
        product: &str,
        quantity: u32,
    ) -> (String, Value) {
        let (status, held) = self.hold(who, seats, 0).await;
        assert_eq!(status, 201, "{held}");
        let id = held["id"].as_str().unwrap().to_owned();
        if quantity > 0 {
            let (status, body) = self.add_ons(who, &id, &[(product, quantity)]).await;
            assert_eq!(status, 200, "{body}");
        }
        let (status, pix) = self
            .checkout(who, &id, &format!("pix-{id}"), json!({"method": "pix"}))
            .await;
        assert_eq!(status, 202, "{pix}");
        (id, pix)
    }

    async fn sales(&self) -> Value {
        let admin = self.stack.token("organiser", true);
        let path = format!("/sessions/{}/sales", self.session);
        self.send(Method::GET, &path, Some(&admin), None, &[])
            .await
            .1
    }

    /// The provider's signature of `body`, now on the functions' clock.
    fn signed(&self, body: &str) -> String {
        webhook_signature(
            self.stack
                .secret("PaymentWebhookSecret")
                .unwrap()
                .as_bytes(),
            self.stack.now().timestamp(),
            body.as_bytes(),
        )
    }

    async fn webhook(&self, body: &str, signature: &str) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/payments/webhook", self.stack.api_url()))
            .header("content-type", "application/json")
            .header("x-bilheteria-signature", signature)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

const CARD: &str = "4111111111111111";

#[tokio::test]
async fn a_customer_holds_adds_popcorn_pays_by_card_and_gets_tickets() {
    let shop = shop(10, 10, 100, 6, &[]).await;
    let (status, held) = shop.hold("alice", &["C-4", "C-5"], 3).await;
    assert_eq!(status, 201, "{held}");
    assert_eq!(held["status"], "HELD");
    assert_eq!(held["total"]["cents"], 2 * 25_000 + 3 * 18_000);
    assert!(
        held["suggested_products"].as_array().unwrap().len() == 2,
        "{held}"
    );
    let id = held["id"].as_str().unwrap().to_owned();
    assert_eq!(shop.session_available().await, (98, 97));

    let (status, with_food) = shop
        .add_ons("alice", &id, &[(&shop.popcorn, 2), (&shop.soda, 1)])
        .await;
    assert_eq!(status, 200, "{with_food}");
    assert_eq!(
        (
            shop.product_stock(&shop.popcorn).await,
            shop.product_stock(&shop.soda).await
        ),
        (98, 9)
    );

    let (status, paid) = shop
        .checkout(
            "alice",
            &id,
            "k-1",
            json!({"method": "card", "number": CARD}),
        )
        .await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "CONFIRMED");
    let tickets = paid["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 5);
    let signer = bilheteria::domain::TicketSigner::new(
        shop.stack.secret("TicketSigningKey").unwrap().as_bytes(),
    );
    let door = bilheteria::domain::DoorKeys::new(signer.door_keys());
    for ticket in tickets {
        let ticket: bilheteria::domain::Ticket = serde_json::from_value(ticket.clone()).unwrap();
        let admits = door
            .verify(&ticket.code)
            .expect("every ticket code is signed");
        assert_eq!(
            (admits.ticket, admits.session, &admits.sector, admits.seat),
            (ticket.id, ticket.session_id, &ticket.sector, ticket.seat),
            "and admits its own seat"
        );
    }
    let states = shop.seat_states().await;
    assert!(
        matches!(states["C-4"], SeatState::Sold { .. })
            && matches!(states["C-5"], SeatState::Sold { .. })
    );

    let (status, invoice) = shop
        .get("alice", &format!("/reservations/{id}/invoice"))
        .await;
    assert_eq!(status, 200);
    let expected = 2 * 25_000 + 3 * 18_000 + 2 * 2_800 + 900;
    assert_eq!(invoice["total"]["cents"], expected);
    let sum: i64 = invoice["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["total"]["cents"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, expected, "lines add up to the total");

    let (_, mine) = shop.get("alice", "/me/tickets").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 5);
    let (_, mine) = shop.get("alice", "/me/reservations").await;
    assert_eq!(mine["items"][0]["id"], id.as_str());
    let (_, again) = shop.get("alice", &format!("/reservations/{id}")).await;
    assert_eq!(again["tickets"].as_array().unwrap().len(), 5);
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}

#[tokio::test]
async fn a_hundred_customers_racing_for_four_seats_one_wins() {
    let shop = shop(10, 10, 100, 6, &[]).await;
    let seats = ["E-5", "E-6", "E-7", "E-8"];
    let customers: Vec<String> = (0..100).map(|i| format!("fan-{i}")).collect();
    let results = join_all(customers.iter().map(|c| shop.hold(c, &seats, 0))).await;
    let winners: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b)
        .collect();
    let losers = results
        .iter()
        .filter(|(s, b)| *s == 409 && b["code"] == "SEATS_TAKEN")
        .count();
    assert_eq!(
        (winners.len(), losers),
        (1, 99),
        "{:?}",
        results.iter().map(|(s, _)| s).collect::<Vec<_>>()
    );
    let winner = winners[0]["id"].as_str().unwrap();
    let states = shop.seat_states().await;
    for seat in seats {
        match states[seat] {
            SeatState::Held { reservation, .. } => assert_eq!(reservation.to_string(), winner),
            other => panic!("{seat} is {other:?}"),
        }
    }
    assert_eq!(shop.session_available().await.0, 96);
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}

#[tokio::test]
async fn fifty_customers_racing_for_the_last_five_places_five_win() {
    let shop = shop(2, 2, 5, 6, &[]).await;
    let customers: Vec<String> = (0..50).map(|i| format!("fan-{i}")).collect();
    let results = join_all(customers.iter().map(|c| shop.hold(c, &[], 1))).await;
    let won = results.iter().filter(|(s, _)| *s == 201).count();
    let sold_out = results
        .iter()
        .filter(|(s, b)| *s == 409 && b["code"] == "SOLD_OUT")
        .count();
    assert_eq!((won, sold_out), (5, 45));
    assert_eq!(shop.session_available().await.1, 0);
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}

#[tokio::test]
async fn one_customer_firing_ten_holds_gets_no_more_than_the_limit() {
    let shop = shop(10, 10, 100, 6, &[]).await;
    let seats: Vec<[String; 1]> = (1..=10).map(|n| [format!("A-{n}")]).collect();
    let seats: Vec<[&str; 1]> = seats.iter().map(|[s]| [s.as_str()]).collect();
    let results = join_all(seats.iter().map(|s| shop.hold("greedy", s, 0))).await;
    let won = results.iter().filter(|(s, _)| *s == 201).count();
    let refused = results
        .iter()
        .filter(|(s, b)| *s == 409 && b["code"] == "LIMIT_EXCEEDED")
        .count();
    assert_eq!((won, refused), (6, 4));
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}

#[tokio::test]
async fn the_same_checkout_sent_ten_times_charges_once() {
    let shop = shop(10, 10, 100, 6, &[]).await;
    let (_, held) = shop.hold("alice", &["B-1", "B-2"], 0).await;
    let id = held["id"].as_str().unwrap().to_owned();
    let results = join_all((0..10).map(|_| {
        shop.checkout(
            "alice",
            &id,
            "same-key",
            json!({"method": "card", "number": CARD}),
        )
    }))
    .await;
    let first = &results[0];
    assert_eq!(first.0, 200, "{}", first.1);
    for result in &results {
        assert_eq!(result, first, "every replay answers the same");
    }
    let tickets = shop.store.tickets(id.parse().unwrap()).await.unwrap();
    assert_eq!(tickets.len(), 2, "one set of tickets");
    let (status, problem) = shop
        .checkout("alice", &id, "same-key", json!({"method": "pix"}))
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("INVALID_INPUT")),
        "same key, other body"
    );
    let (status, problem) = shop
        .checkout(
            "alice",
            &id,
            "other-key",
            json!({"method": "card", "number": CARD}),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("WRONG_STATE")),
        "already paid"
    );
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}

#[tokio::test]
async fn paying_while_cancelling_never_keeps_money_for_a_cancelled_reservation() {
    let shop = shop(10, 10, 100, 6, &[]).await;
    let fans: Vec<String> = (0..40).map(|i| format!("fan-{i}")).collect();
    let mut reservations = Vec::new();
    for (i, fan) in fans.iter().enumerate() {
        let seat = format!("{}-{}", (b'A' + (i / 10) as u8) as char, i % 10 + 1);
        let (status, held) = shop.hold(fan, &[&seat], 0).await;
        assert_eq!(status, 201, "{held}");
        reservations.push(held["id"].as_str().unwrap().to_owned());
    }
    let card = json!({"method": "card", "number": CARD});
    let racing = &shop;
    let races = join_all(fans.iter().zip(&reservations).map(|(fan, id)| {
        let card = card.clone();
        async move {
            let token = racing.token(fan);
            let path = format!("/reservations/{id}");
            tokio::join!(
                racing.checkout(fan, id, "pay", card),
                racing.send(Method::DELETE, &path, Some(&token), None, &[])
            )
        }
    }))
    .await;
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for (id, ((paid, payment), (cancelled, cancellation))) in reservations.iter().zip(&races) {
        let reservation = shop
            .store
            .reservation(id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        let status = reservation.status;
        let charged = matches!(paid, 200 | 202);
        assert!(
            matches!(
                (paid, cancelled),
                (200 | 202, 409) | (409, 200) | (202, 200)
            ),
            "{id}: checkout {paid} {payment}, cancel {cancelled} {cancellation}"
        );
        match status {
            ReservationStatus::Confirmed => assert_eq!((*paid, *cancelled), (200, 409)),
            ReservationStatus::Cancelled => {
                assert!(
                    !charged,
                    "{id}: charged and cancelled without a refund: {payment}"
                );
                assert!(reservation.payment.is_none());
            }
            ReservationStatus::RefundRequired => {
                assert_eq!(
                    (*paid, payment["status"].as_str()),
                    (202, Some("REFUND_REQUIRED"))
                );
                assert!(reservation.payment.is_some() && reservation.refund_reason.is_some());
            }
            other => panic!("{id} ended {other:?}"),
        }
        *outcomes.entry(format!("{status:?}")).or_default() += 1;
    }
    println!("paying while cancelling, 40 races: {outcomes:?}");
    let states = shop.seat_states().await;
    let sold = states
        .values()
        .filter(|s| matches!(s, SeatState::Sold { .. }))
        .count();
    assert_eq!(sold, outcomes.get("Confirmed").copied().unwrap_or(0));
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}

#[tokio::test]
async fn pix_waits_for_the_signed_webhook_and_replays_change_nothing() {
    let shop = shop(10, 10, 100, 6, &[]).await;
    let (_, held) = shop.hold("alice", &["D-1"], 1).await;
    let id = held["id"].as_str().unwrap().to_owned();
    let (status, pending) = shop
        .checkout("alice", &id, "pix-1", json!({"method": "pix"}))
        .await;
    assert_eq!(status, 202, "{pending}");
    assert_eq!(pending["status"], "PENDING_PAYMENT");
    assert!(
        pending["payment"]["instructions"]
            .as_str()
            .unwrap()
            .starts_with("000201")
    );
    let payment_id = pending["payment"]["id"].as_str().unwrap().to_owned();

    let body =
        json!({"payment_id": payment_id, "reservation_id": id, "status": "paid"}).to_string();
    let before = shop.items().await;
    let (status, _) = shop.webhook(&body, "sha256=00").await;
    assert_eq!(status, 401, "a bad signature is refused");
    let forged = webhook_signature(
        b"not-the-secret",
        shop.stack.now().timestamp(),
        body.as_bytes(),
    );
    assert_eq!(shop.webhook(&body, &forged).await.0, 401);
    assert_eq!(shop.items().await, before, "and changes nothing");

    let signature = shop.signed(&body);
    let results = join_all((0..5).map(|_| shop.webhook(&body, &signature))).await;
    for (status, answer) in &results {
        assert_eq!(
            (*status, answer["status"].as_str()),
            (200, Some("CONFIRMED")),
            "{answer}"
        );
    }
    assert_eq!(
        shop.store.tickets(id.parse().unwrap()).await.unwrap().len(),
        2,
        "one confirmation"
    );
    let (_, read) = shop.get("alice", &format!("/reservations/{id}")).await;
    assert_eq!(read["status"], "CONFIRMED");
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}

#[tokio::test]
async fn a_declined_card_keeps_the_hold_and_cancelling_gives_everything_back() {
    let shop = shop(10, 10, 100, 6, &[]).await;
    let (_, held) = shop.hold("alice", &["F-1", "F-2"], 2).await;
    let id = held["id"].as_str().unwrap().to_owned();
    let items = json!({"items": [{"product_id": shop.popcorn, "quantity": 3}]});
    shop.send(
        Method::PUT,
        &format!("/reservations/{id}/products"),
        Some(&shop.token("alice")),
        Some(items),
        &[],
    )
    .await;
    let declined_card = json!({"method": "card", "number": "4000000000000002"});
    let (status, problem) = shop
        .checkout("alice", &id, "d-1", declined_card.clone())
        .await;
    assert_eq!(
        (status, problem["code"].as_str(), problem["reason"].as_str()),
        (402, Some("PAYMENT_DECLINED"), Some("card_declined"))
    );
    // The same request again gets the same answer.
    let replayed = shop.checkout("alice", &id, "d-1", declined_card).await;
    assert_eq!(
        replayed,
        (402, problem.clone()),
        "a refusal replays as it was"
    );
    let (_, read) = shop.get("alice", &format!("/reservations/{id}")).await;
    assert_eq!(read["status"], "HELD");

    let (status, cancelled) = shop
        .send(
            Method::DELETE,
            &format!("/reservations/{id}"),
            Some(&shop.token("alice")),
            None,
            &[],
        )
        .await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (200, Some("CANCELLED"))
    );
    assert_eq!(shop.session_available().await, (100, 100));
    assert_eq!(shop.product_stock(&shop.popcorn).await, 100);
    assert!(matches!(shop.seat_states().await["F-1"], SeatState::Free));
    let (status, _) = shop
        .hold("alice", &["F-1", "F-2", "F-3", "F-4", "F-5", "F-6"], 0)
        .await;
    assert_eq!(status, 201, "the customer's count went back too");
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}

#[tokio::test]
async fn an_acquirer_that_does_not_answer_is_503_and_the_hold_waits_for_a_retry() {
    let shop = shop(10, 10, 100, 6, &[]).await;
    let (_, held) = shop.hold("alice", &["C-1", "C-2"], 0).await;
    let id = held["id"].as_str().unwrap().to_owned();
    let unanswered = json!({"payment": {"method": "card", "number": "4000000000000119"}});
    let (http, token) = (&shop.http, shop.token("alice"));
    let url = format!("{}/reservations/{id}/checkout", shop.stack.api_url());
    let checkout = |key: &'static str, body: Value| {
        let (url, token) = (url.clone(), token.clone());
        async move {
            let headers = [("idempotency-key", key)];
            support::call(http, url, Method::POST, Some(&token), Some(body), &headers).await
        }
    };
    let before = shop.items_but_keys().await;
    for attempt in 0..2 {
        let (status, headers, problem) = checkout("slow-1", unanswered.clone()).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (503, Some("UNAVAILABLE")),
            "attempt {attempt}: {problem}"
        );
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(headers["retry-after"], "1");
        assert!(
            headers.get("idempotent-replayed").is_none(),
            "a fault is not replayed"
        );
    }
    // The reservation went CHARGING and back to HELD: only its version moved, and it keeps the
    // attempt, free to run again.
    let unchanged = shop.items_but_keys().await;
    let kept = unchanged
        .iter()
        .find_map(|i| i.get("checkout"))
        .cloned()
        .expect("the reservation keeps the attempt");
    assert_eq!(
        (&kept["key"], &kept["retry"], kept.get("refusal")),
        (&json!("slow-1"), &json!(true), None),
        "{kept}"
    );
    let without_versions = |mut items: Vec<Value>| {
        items.iter_mut().for_each(|i| {
            let i = i.as_object_mut().unwrap();
            i.remove("version");
            i.remove("checkout");
        });
        items
    };
    assert_eq!(
        without_versions(unchanged),
        without_versions(before),
        "nothing charged, nothing written but the reservation's version and attempt"
    );
    // Another card under the same key is another request; under a new key it pays.
    let card = json!({"payment": {"method": "card", "number": CARD}});
    let (status, _, problem) = checkout("slow-1", card.clone()).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("INVALID_INPUT")),
        "{problem}"
    );
    let (status, _, paid) = checkout("slow-2", card).await;
    assert_eq!(
        (status, paid["status"].as_str()),
        (200, Some("CONFIRMED")),
        "{paid}"
    );
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}

#[tokio::test]
async fn another_customer_cannot_see_change_cancel_or_pay_my_reservation() {
    let shop = shop(10, 10, 100, 6, &[]).await;
    let (_, held) = shop.hold("alice", &["G-1"], 0).await;
    let id = held["id"].as_str().unwrap().to_owned();
    let before = shop.items().await;
    let bob = shop.token("bob");
    let attempts = [
        (Method::GET, format!("/reservations/{id}"), None),
        (Method::GET, format!("/reservations/{id}/invoice"), None),
        (
            Method::PUT,
            format!("/reservations/{id}/products"),
            Some(json!({"items": []})),
        ),
        (Method::DELETE, format!("/reservations/{id}"), None),
    ];
    for (method, path, body) in attempts {
        let (status, problem) = shop
            .send(method.clone(), &path, Some(&bob), body, &[])
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (404, Some("NOT_FOUND")),
            "{method} {path}"
        );
    }
    let (status, _) = shop
        .checkout("bob", &id, "b-1", json!({"method": "card", "number": CARD}))
        .await;
    assert_eq!(status, 404);
    let after = shop.items_but_keys().await;
    assert_eq!(after, before, "nothing of alice's changed");
    let (_, mine) = shop
        .send(Method::GET, "/me/reservations", Some(&bob), None, &[])
        .await;
    assert!(mine["items"].as_array().unwrap().is_empty());
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}

#[tokio::test]
async fn bad_purchase_input_is_refused_and_changes_nothing() {
    let shop = shop(10, 10, 100, 6, &[]).await;
    let (_, held) = shop.hold("alice", &["H-1"], 0).await;
    let id = held["id"].as_str().unwrap().to_owned();
    let before = shop.items().await;
    let alice = shop.token("alice");
    let holds = format!("/sessions/{}/holds", shop.session);
    let products = format!("/reservations/{id}/products");
    let raw = |path: String, body: &str| {
        let request = shop
            .http
            .post(format!("{}{path}", shop.stack.api_url()))
            .bearer_auth(&alice)
            .header("content-type", "application/json")
            .body(body.to_owned());
        async move {
            let resp = request.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let cases: Vec<(u16, &str, (u16, Value))> = vec![
        (400, "MALFORMED_REQUEST", raw(holds.clone(), "{\"seats\": [").await),
        (400, "MALFORMED_REQUEST", shop.send(Method::POST, &holds, Some(&alice), Some(json!({"seats": "A-1"})), &[]).await),
        (422, "INVALID_INPUT", shop.hold("alice", &["Z-99"], 0).await),
        (422, "INVALID_INPUT", shop.hold("alice", &["H-5", "H-5"], 0).await),
        (422, "INVALID_INPUT", shop.send(Method::POST, &holds, Some(&alice), Some(json!({"places": [{"sector": "pista", "quantity": 0}]})), &[]).await),
        (422, "INVALID_INPUT", shop.send(Method::POST, &holds, Some(&alice), Some(json!({"places": [{"sector": "pista", "quantity": -3}]})), &[]).await),
        (422, "INVALID_INPUT", shop.send(Method::POST, &holds, Some(&alice), Some(json!({"places": [{"sector": "pista", "quantity": 11}]})), &[]).await),
        (422, "INVALID_INPUT", shop.send(Method::POST, &holds, Some(&alice), Some(json!({})), &[]).await),
        (413, "PAYLOAD_TOO_LARGE", raw(holds.clone(), &format!("{{\"seats\": [], \"x\": \"{}\"}}", "x".repeat(70_000))).await),
        (422, "INVALID_INPUT", shop.send(Method::PUT, &products, Some(&alice), Some(json!({"items": [{"product_id": "01JF0000000000000000000000", "quantity": 1}]})), &[]).await),
        (422, "INVALID_INPUT", shop.send(Method::PUT, &products, Some(&alice), Some(json!({"items": [{"product_id": shop.popcorn, "quantity": -1}]})), &[]).await),
        (409, "OUT_OF_STOCK", shop.send(Method::PUT, &products, Some(&alice), Some(json!({"items": [{"product_id": shop.soda, "quantity": 20}, {"product_id": shop.popcorn, "quantity": 1}]})), &[]).await),
        (400, "MALFORMED_REQUEST", shop.send(Method::POST, &format!("/reservations/{id}/checkout"), Some(&alice), Some(json!({"payment": {"method": "pix"}})), &[]).await),
        (422, "INVALID_INPUT", shop.checkout("alice", &id, "k-bad", json!({"method": "card", "number": "1234"})).await),
        (400, "MALFORMED_REQUEST", shop.checkout("alice", &id, "k-bad2", json!({"method": "cheque"})).await),
        (400, "MALFORMED_REQUEST", shop.checkout("alice", &id, "k-bad3", json!({"method": "pix", "bank": "x"})).await),
        (400, "MALFORMED_REQUEST", shop.checkout("alice", &id, "k\tbad", json!({"method": "pix"})).await),
        (400, "MALFORMED_REQUEST", shop.checkout("alice", &id, &"k".repeat(129), json!({"method": "pix"})).await),
        (404, "NOT_FOUND", shop.send(Method::POST, "/sessions/01JF0000000000000000000000/holds", Some(&alice), Some(json!({"places": [{"sector": "pista", "quantity": 1}]})), &[]).await),
        (401, "", shop.send(Method::POST, &holds, None, Some(json!({"places": [{"sector": "pista", "quantity": 1}]})), &[]).await),
    ];
    for (i, (status, code, (got, body))) in cases.into_iter().enumerate() {
        assert_eq!(got, status, "case {i}: {body}");
        if !code.is_empty() {
            assert_eq!(body["code"], code, "case {i}: {body}");
        }
    }
    let sodas = json!({"items": [{"product_id": shop.soda, "quantity": 10}]});
    let (status, _) = shop
        .send(Method::PUT, &products, Some(&alice), Some(sodas), &[])
        .await;
    assert_eq!(status, 200, "all ten sodas left is fine");
    let after: Vec<Value> = shop.items().await;
    let changed: Vec<&Value> = after.iter().filter(|i| !before.contains(i)).collect();
    assert!(
        changed
            .iter()
            .all(|i| i["SK"] == "RESERVATION"
                || i["PK"].as_str().unwrap_or("").starts_with("PRODUCT#")),
        "only the accepted change wrote: {changed:?}"
    );
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}

#[tokio::test]
async fn a_late_payment_gets_its_seats_back_or_a_refund() {
    let shop = shop(10, 10, 100, 6, &[]).await;
    let (_, kept) = shop.hold("alice", &["J-1"], 0).await;
    let (_, lost) = shop.hold("carol", &["J-2"], 0).await;
    let (kept, lost) = (
        kept["id"].as_str().unwrap().to_owned(),
        lost["id"].as_str().unwrap().to_owned(),
    );
    let (_, kept_pix) = shop
        .checkout("alice", &kept, "a", json!({"method": "pix"}))
        .await;
    let (_, lost_pix) = shop
        .checkout("carol", &lost, "c", json!({"method": "pix"}))
        .await;
    shop.past_the_holds().await;

    let (status, problem) = shop
        .checkout(
            "carol",
            &lost,
            "c2",
            json!({"method": "card", "number": CARD}),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("PAYMENT_IN_PROGRESS")),
        "her PIX is still waiting to be paid: {problem}"
    );
    let (status, taken) = shop.hold("dave", &["J-2"], 0).await;
    assert_eq!(
        status, 201,
        "an expired hold's seat can be held by someone else: {taken}"
    );

    assert_eq!(
        shop.paid(&kept, &kept_pix).await["status"],
        "CONFIRMED",
        "nobody took J-1"
    );
    assert_eq!(
        shop.paid(&lost, &lost_pix).await["status"],
        "REFUND_REQUIRED",
        "dave has J-2 now"
    );
    let (_, read) = shop.get("carol", &format!("/reservations/{lost}")).await;
    assert!(read["refund_reason"].as_str().is_some(), "{read}");
    let states = shop.seat_states().await;
    assert!(matches!(states["J-1"], SeatState::Sold { .. }));
    match states["J-2"] {
        SeatState::Held { reservation, .. } => {
            assert_eq!(reservation.to_string(), taken["id"].as_str().unwrap())
        }
        other => panic!("J-2 is {other:?}"),
    }
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}

#[tokio::test]
async fn a_late_payment_whose_seat_was_taken_gives_back_everything_it_held() {
    let shop = shop(1, 10, 100, 4, &[]).await;
    let (late, pix) = shop
        .pending_pix("carol", &["A-1", "A-2"], &shop.popcorn, 2)
        .await;
    assert_eq!(shop.product_stock(&shop.popcorn).await, 98);
    shop.past_the_holds().await;
    let (status, taken) = shop.hold("dave", &["A-2"], 0).await;
    assert_eq!(status, 201, "{taken}");

    assert_eq!(shop.paid(&late, &pix).await["status"], "REFUND_REQUIRED");
    let map_free = shop
        .seat_states()
        .await
        .values()
        .filter(|s| matches!(s, SeatState::Free))
        .count();
    assert_eq!(
        (shop.session_available().await.0, map_free),
        (9, 9),
        "A-1 is on sale again, and counted so"
    );
    assert_eq!(
        shop.product_stock(&shop.popcorn).await,
        100,
        "the popcorn is back in stock"
    );
    let (status, body) = shop.hold("carol", &["A-3", "A-4", "A-5", "A-6"], 0).await;
    assert_eq!(status, 201, "carol's count went back to 0: {body}");
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}

#[tokio::test]
async fn late_payments_after_the_sweep_take_back_stock_and_count_within_the_limit() {
    let shop = shop(1, 10, 100, 2, &[]).await;
    let admin = shop.stack.token("organiser", true);
    let event = shop
        .store
        .session(shop.session.parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .event_id;
    let body =
        json!({"name": "Chocolate", "category": "food", "price": {"cents": 1200}, "stock": 2});
    let (status, chocolate) = shop
        .send(
            Method::POST,
            &format!("/events/{event}/products"),
            Some(&admin),
            Some(body),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{chocolate}");
    let chocolate = chocolate["id"].as_str().unwrap().to_owned();
    let first = shop.pending_pix("alice", &["A-1"], &chocolate, 1).await;
    let second = shop.pending_pix("alice", &["A-2"], &chocolate, 1).await;
    let kept = shop.pending_pix("bob", &["A-9"], &shop.popcorn, 1).await;
    shop.past_the_holds().await;
    let swept = shop.stack.tick("ExpireHoldsFunction").await.unwrap();
    assert!(
        matches!(&swept, local::lambda::Invoked::Response(body) if serde_json::from_slice::<Value>(body).unwrap()["expired"] == 3),
        "{swept:?}"
    );
    assert_eq!(shop.product_stock(&chocolate).await, 2);

    let (status, held) = shop.hold("alice", &["A-3", "A-4"], 0).await;
    assert_eq!(status, 201, "{held}");
    let id = held["id"].as_str().unwrap();
    let (status, body) = shop.add_ons("alice", id, &[(&chocolate, 2)]).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = shop
        .checkout(
            "alice",
            id,
            "card",
            json!({"method": "card", "number": CARD}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    for (late, pix) in [&first, &second] {
        let settled = shop.paid(late, pix).await;
        assert_eq!(
            settled["status"], "REFUND_REQUIRED",
            "alice is at her limit of 2 and the chocolate is gone"
        );
    }
    assert_eq!(
        shop.paid(&kept.0, &kept.1).await["status"],
        "CONFIRMED",
        "nothing bob had was taken"
    );
    let (_, tickets) = shop.get("alice", "/me/tickets").await;
    assert_eq!(tickets["items"].as_array().unwrap().len(), 2, "{tickets}");
    assert_eq!(shop.product_stock(&chocolate).await, 0);
    let sales = shop.sales().await;
    assert_eq!(
        (&sales["sold"], &sales["expired"]),
        (&json!(3), &json!(0)),
        "a hold paid late is no longer counted as expired: {sales}"
    );
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}

#[tokio::test]
async fn an_old_payment_notice_replayed_changes_nothing_and_the_new_attempt_is_paid() {
    let shop = shop(10, 10, 100, 6, &[]).await;
    let (id, first) = shop.pending_pix("ana", &["C-1"], &shop.popcorn, 0).await;
    let failed =
        json!({"payment_id": first["payment"]["id"], "reservation_id": id, "status": "failed"})
            .to_string();
    let failed_signature = shop.signed(&failed);
    let (status, answer) = shop.webhook(&failed, &failed_signature).await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("HELD")),
        "{answer}"
    );

    // The failed payment's key does not run again; a new key does.
    let (status, problem) = shop
        .checkout("ana", &id, &format!("pix-{id}"), json!({"method": "pix"}))
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("RESERVATION_CHANGED")),
        "{problem}"
    );
    let (status, second) = shop
        .checkout("ana", &id, "pix-again", json!({"method": "pix"}))
        .await;
    assert_eq!(status, 202, "{second}");
    assert_ne!(
        second["payment"]["id"], first["payment"]["id"],
        "a new attempt, a new payment"
    );
    let (status, answer) = shop.webhook(&failed, &failed_signature).await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("PENDING_PAYMENT")),
        "the old notice replayed is a no-op: {answer}"
    );
    shop.stack.set_clock(chrono::Duration::seconds(301)).await;
    let (status, _) = shop.webhook(&failed, &failed_signature).await;
    assert_eq!(
        status, 401,
        "a notice signed over five minutes ago is refused"
    );

    assert_eq!(shop.paid(&id, &second).await["status"], "CONFIRMED");
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}

#[tokio::test]
async fn while_a_card_is_charged_nothing_else_changes_what_is_paid_for() {
    let shop = shop(10, 10, 100, 6, &[]).await;
    let (status, held) = shop.hold("ana", &["D-1", "D-2"], 0).await;
    assert_eq!(status, 201, "{held}");
    let id = held["id"].as_str().unwrap().to_owned();
    let (status, body) = shop.add_ons("ana", &id, &[(&shop.popcorn, 2)]).await;
    assert_eq!(status, 200, "{body}");
    let slow = json!({"method": "card", "number": bilheteria::payments::SLOW_CARD});
    let paying = shop.checkout("ana", &id, "slow", slow);
    let meanwhile = async {
        // Once the charge has started, everything else that would change it is refused.
        while shop.status(&id).await != ReservationStatus::Charging {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let token = shop.token("ana");
        let more = [(shop.popcorn.as_str(), 5)];
        let path = format!("/reservations/{id}");
        let (add_on, cancel, card, pix) = futures::join!(
            shop.add_ons("ana", &id, &more),
            shop.send(Method::DELETE, &path, Some(&token), None, &[]),
            shop.checkout(
                "ana",
                &id,
                "other",
                json!({"method": "card", "number": CARD})
            ),
            shop.checkout("ana", &id, "pix", json!({"method": "pix"})),
        );
        let still = shop.status(&id).await;
        (add_on, cancel, card, pix, still)
    };
    let ((status, paid), (add_on, cancel, card, pix, still)) = futures::join!(paying, meanwhile);
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "CONFIRMED");
    for (what, (status, problem)) in [
        ("add-on", add_on),
        ("cancel", cancel),
        ("card", card),
        ("pix", pix),
    ] {
        assert_eq!(status, 409, "{what}: {problem}");
        if still == ReservationStatus::Charging && what != "add-on" && what != "cancel" {
            assert_eq!(problem["code"], "PAYMENT_IN_PROGRESS", "{what}");
        }
    }
    let invoice = shop
        .get("ana", &format!("/reservations/{id}/invoice"))
        .await
        .1;
    assert_eq!(invoice["total"], paid["payment"]["amount"], "{invoice}");
    assert_eq!(
        paid["products"][0]["quantity"], 2,
        "the add-ons that were paid for"
    );
    assert_eq!(shop.product_stock(&shop.popcorn).await, 98);
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}

#[tokio::test]
async fn a_hold_retried_under_its_key_is_held_once_even_after_its_attempt_stopped() {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    let shop = shop(10, 10, 100, 6, &[]).await;
    let path = format!("/sessions/{}/holds", shop.session);
    let body = support::hold_body(&["E-1", "E-2"], 1);
    let token = shop.token("ana");
    let key = [("idempotency-key", "hold-1")];
    let hold = || shop.send(Method::POST, &path, Some(&token), Some(body.clone()), &key);
    let (status, first) = hold().await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(
        hold().await,
        (201, first.clone()),
        "the same answer, replayed"
    );
    let url = format!("{}{path}", shop.stack.api_url());
    let (_, headers, _) = support::call(
        &shop.http,
        url,
        Method::POST,
        Some(&token),
        Some(body.clone()),
        &key,
    )
    .await;
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(
        headers["location"],
        format!("/reservations/{}", first["id"].as_str().unwrap()).as_str(),
        "a replayed 201 names what it created, as the first answer did"
    );

    // The attempt stopped after the hold was written and before its answer was kept.
    aws_sdk_dynamodb::Client::new(shop.stack.dynamodb_sdk())
        .update_item()
        .table_name(support::TABLE)
        .key("PK", S("IDEMPOTENCY#ana#hold-1".into()))
        .key("SK", S("IDEMPOTENCY".into()))
        .update_expression("SET #state = :in_flight REMOVE #response")
        .expression_attribute_names("#state", "state")
        .expression_attribute_names("#response", "response")
        .expression_attribute_values(":in_flight", S("IN_FLIGHT".into()))
        .send()
        .await
        .unwrap();
    let lease = bilheteria::store::CLAIM_LEASE_SECONDS + 1;
    shop.stack.set_clock(chrono::Duration::seconds(lease)).await;
    let (status, retried) = hold().await;
    assert_eq!(
        status, 201,
        "the retry finds its hold, not a conflict: {retried}"
    );
    assert_eq!(retried["id"], first["id"]);
    let (_, mine) = shop
        .send(Method::GET, "/me/reservations", Some(&token), None, &[])
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    support::audit(&shop.stack).await;
    shop.stack.stop().await;
}
