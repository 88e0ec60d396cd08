//! The waiting list on the local stack: thirty fans wait for a sold-out standing sector; five
//! holds expire and the first five in line get offers, in order, while the public cannot buy
//! those places; two offers lapse and the next two get them; nothing is sold twice and the
//! audit holds.

mod support;

use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use support::sale::{PISTA, Sale, options};

const HOLD_SECONDS: i64 = 600;
const OFFER_SECONDS: i64 = 1_800;

async fn sale() -> Sale {
    let env = [("HOLD_SECONDS", "600"), ("WAITLIST_OFFER_SECONDS", "1800")];
    Sale::start(options(&env), 4, 10).await
}

async fn send(
    sale: &Sale,
    method: Method,
    path: &str,
    who: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}{path}", sale.stack.api_url());
    let token = sale.stack.token(who, false);
    let (status, _, body) = support::call(&sale.http, url, method, Some(&token), body, &[]).await;
    (status, body)
}

/// A hold of `n` standing places by `who`.
async fn hold_places(sale: &Sale, who: &str, n: u32) -> (u16, Value) {
    let path = format!("/sessions/{}/holds", sale.session);
    let (status, _, body) = sale.post(&path, who, support::hold_body(&[], n), &[]).await;
    (status, body)
}

async fn entry(sale: &Sale, who: &str) -> Value {
    let (status, list) = send(
        sale,
        Method::GET,
        &format!("/sessions/{}/waitlist", sale.session),
        who,
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    list["items"][0].clone()
}

/// Waits (on the wall clock, generously) until `who`'s entry is offered: the event travels
/// stream → bus → queue → consumer.
async fn offered(sale: &Sale, who: &str) -> Value {
    let started = Instant::now();
    loop {
        let e = entry(sale, who).await;
        if e["status"] == "OFFERED" || started.elapsed() > Duration::from_secs(60) {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The standing sector's line as the organiser's sales view counts it: (waiting, kept, held).
async fn line_in_sales(sale: &Sale) -> (u64, u64, u64) {
    let admin = sale.stack.token("organiser", true);
    let (_, sales) = sale
        .get_as(&format!("/sessions/{}/sales", sale.session), &admin)
        .await;
    let pista = &sales["sectors"][1];
    (
        pista["waiting"].as_u64().unwrap(),
        pista["kept_for_waitlist"].as_u64().unwrap(),
        pista["held"].as_u64().unwrap(),
    )
}

async fn sweep(sale: &Sale) {
    match sale.stack.tick("ExpireHoldsFunction").await.unwrap() {
        local::lambda::Invoked::Response(_) => {}
        other => panic!("the sweep failed: {other:?}"),
    }
}

#[tokio::test]
async fn places_that_come_back_are_offered_in_line_and_a_lapsed_offer_passes_to_the_next() {
    let sale = sale().await;
    // Five fans hold the five standing places: sold out.
    let mut holders = Vec::new();
    for i in 0..PISTA {
        let (status, held) = hold_places(&sale, &format!("early-{i}"), 1).await;
        assert_eq!(status, 201, "{held}");
        holders.push(held["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(hold_places(&sale, "late", 1).await.0, 409);

    // Thirty fans join the line, one after another; a numbered sector has no line, a sector
    // with places has none either, and nobody is in one line twice.
    let path = format!("/sessions/{}/waitlist", sale.session);
    let fans: Vec<String> = (0..30).map(|i| format!("fan-{i:02}")).collect();
    for (i, fan) in fans.iter().enumerate() {
        let (status, joined) = send(
            &sale,
            Method::POST,
            &path,
            fan,
            Some(json!({"sector": "pista", "quantity": 1})),
        )
        .await;
        assert_eq!(status, 201, "{joined}");
        assert_eq!(joined["position"], i + 1, "{joined}");
    }
    let (status, again) = send(
        &sale,
        Method::POST,
        &path,
        "fan-00",
        Some(json!({"sector": "pista", "quantity": 1})),
    )
    .await;
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("ALREADY_WAITING"))
    );
    let (status, seats) = send(
        &sale,
        Method::POST,
        &path,
        "fan-00",
        Some(json!({"sector": "plateia", "quantity": 1})),
    )
    .await;
    assert_eq!(
        (status, seats["code"].as_str()),
        (409, Some("NOT_SOLD_OUT")),
        "{seats}"
    );

    assert_eq!(line_in_sales(&sale).await, (30, 0, 5));

    // The five holds lapse: their places go to the line, not on sale.
    sale.stack
        .advance_clock(chrono::Duration::seconds(HOLD_SECONDS + 1))
        .await;
    sweep(&sale).await;
    for fan in &fans[..5] {
        let e = offered(&sale, fan).await;
        assert_eq!(e["status"], "OFFERED", "{fan}: {e}");
    }
    let (status, _) = hold_places(&sale, "public", 1).await;
    assert_eq!(
        status, 409,
        "the public cannot take places offered to the line"
    );
    assert_eq!(line_in_sales(&sale).await, (25, 0, 5), "five offers held");
    for (i, fan) in fans[5..].iter().enumerate() {
        let e = entry(&sale, fan).await;
        assert_eq!(
            (e["status"].as_str(), e["position"].as_u64()),
            (Some("WAITING"), Some(i as u64 + 1)),
            "{fan}: {e}"
        );
    }

    // Each offer is a hold for its fan, for the offer's longer window; three of them pay.
    let mut offers = Vec::new();
    for fan in &fans[..5] {
        let id = entry(&sale, fan).await["offer"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, r) = sale.get(&format!("/reservations/{id}"), fan).await;
        assert_eq!(status, 200, "{r}");
        assert_eq!(
            (r["status"].as_str(), r["places"][0]["quantity"].as_u64()),
            (Some("HELD"), Some(1))
        );
        let held_for = chrono::DateTime::parse_from_rfc3339(r["expires_at"].as_str().unwrap())
            .unwrap()
            - chrono::DateTime::parse_from_rfc3339(r["created_at"].as_str().unwrap()).unwrap();
        assert_eq!(held_for.num_seconds(), OFFER_SECONDS, "{r}");
        offers.push(id);
    }
    for (fan, id) in fans[2..5].iter().zip(&offers[2..5]) {
        let (status, paid) = sale.pay(fan, id).await;
        assert_eq!(status, 200, "{paid}");
    }

    // The other two lapse: the next two in line get them.
    sale.stack
        .advance_clock(chrono::Duration::seconds(OFFER_SECONDS + 1))
        .await;
    sweep(&sale).await;
    for fan in &fans[5..7] {
        let e = offered(&sale, fan).await;
        assert_eq!(e["status"], "OFFERED", "{fan}: {e}");
    }
    assert_eq!(entry(&sale, &fans[7]).await["position"], 1);
    for fan in &fans[..2] {
        assert_eq!(
            entry(&sale, fan).await["status"],
            "OFFERED",
            "a lapsed offer is not made again"
        );
    }

    // A fan who leaves the line is out of it; the audit finds every place accounted for.
    let (status, left) = send(
        &sale,
        Method::DELETE,
        &format!("{path}/pista"),
        &fans[29],
        None,
    )
    .await;
    assert_eq!(
        (status, left["status"].as_str()),
        (200, Some("LEFT")),
        "{left}"
    );
    assert_eq!(entry(&sale, &fans[8]).await["position"], 2);
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

#[tokio::test]
async fn places_given_back_at_once_are_each_offered_once_in_order_and_never_sold_to_the_public() {
    const PLACES: usize = 20;
    let standing = json!({"sectors": [
        {"code": "plateia", "name": "Plateia", "kind": "numbered", "rows": 2, "seats_per_row": 5, "price": {"cents": 30000}},
        {"code": "pista", "name": "Pista", "kind": "general_admission", "capacity": PLACES, "price": {"cents": 18000}}
    ]});
    let env = [("HOLD_SECONDS", "600"), ("WAITLIST_OFFER_SECONDS", "1800")];
    let sale = Sale::start_with(options(&env), 2, 5, standing).await;
    let holders = join_all((0..PLACES).map(|i| {
        let sale = &sale;
        async move {
            let who = format!("holder-{i:02}");
            let (status, held) = hold_places(sale, &who, 1).await;
            assert_eq!(status, 201, "{held}");
            (who, held["id"].as_str().unwrap().to_owned())
        }
    }))
    .await;
    let path = format!("/sessions/{}/waitlist", sale.session);
    let fans: Vec<String> = (0..2 * PLACES).map(|i| format!("fan-{i:02}")).collect();
    for fan in &fans {
        let body = json!({"sector": "pista", "quantity": 1});
        assert_eq!(
            send(&sale, Method::POST, &path, fan, Some(body)).await.0,
            201
        );
    }

    // Every holder gives their place back at once, while the public tries to take them.
    let gave = join_all(holders.iter().map(|(who, id)| {
        let sale = &sale;
        async move {
            send(
                sale,
                Method::DELETE,
                &format!("/reservations/{id}"),
                who,
                None,
            )
            .await
            .0
        }
    }));
    let public = join_all((0..PLACES).map(|i| {
        let sale = &sale;
        async move { hold_places(sale, &format!("public-{i:02}"), 1).await.0 }
    }));
    let (gave, public) = futures::join!(gave, public);
    assert!(gave.iter().all(|s| *s == 200), "{gave:?}");
    assert!(
        public.iter().all(|s| *s == 409),
        "the public took a place: {public:?}"
    );

    // The first twenty in line have one offer each; the other twenty wait, in order.
    let mut offers = std::collections::HashSet::new();
    for fan in &fans[..PLACES] {
        let e = offered(&sale, fan).await;
        assert_eq!(e["status"], "OFFERED", "{fan}: {e}");
        assert!(
            offers.insert(e["offer"].as_str().unwrap().to_owned()),
            "{e}"
        );
    }
    for (i, fan) in fans[PLACES..].iter().enumerate() {
        let e = entry(&sale, fan).await;
        assert_eq!(e["position"], i + 1, "{fan}: {e}");
    }
    assert_eq!(
        line_in_sales(&sale).await,
        (PLACES as u64, 0, PLACES as u64)
    );
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

#[tokio::test]
async fn seats_that_come_back_are_kept_for_the_line_and_held_for_each_fan_in_turn() {
    let env = [("HOLD_SECONDS", "600"), ("WAITLIST_OFFER_SECONDS", "1800")];
    // Plateia has two seats, A-1 and A-2, both held.
    let sale = Sale::start(options(&env), 1, 2).await;
    let mut holds = Vec::new();
    for (who, seat) in [("holder-1", "A-1"), ("holder-2", "A-2")] {
        let (status, held) = sale.hold(who, seat).await;
        assert_eq!(status, 201, "{held}");
        holds.push((who, held["id"].as_str().unwrap().to_owned()));
    }
    let path = format!("/sessions/{}/waitlist", sale.session);
    let fans = ["fan-a", "fan-b", "fan-c"];
    for fan in fans {
        let body = json!({"sector": "plateia", "quantity": 1});
        assert_eq!(
            send(&sale, Method::POST, &path, fan, Some(body)).await.0,
            201
        );
    }

    // Both seats come back: they are held for the first two fans, one seat each.
    for (who, id) in &holds {
        let (status, body) = send(
            &sale,
            Method::DELETE,
            &format!("/reservations/{id}"),
            who,
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let mut offered_seats = Vec::new();
    for fan in &fans[..2] {
        let e = offered(&sale, fan).await;
        assert_eq!(e["status"], "OFFERED", "{fan}: {e}");
        let id = e["offer"].as_str().unwrap();
        let (_, r) = sale.get(&format!("/reservations/{id}"), fan).await;
        assert_eq!(r["status"], "HELD", "{r}");
        offered_seats.push(r["seats"][0]["seat"].as_str().unwrap().to_owned());
    }
    offered_seats.sort();
    assert_eq!(offered_seats, ["A-1", "A-2"]);
    assert_eq!(entry(&sale, fans[2]).await["position"], 1);
    let (status, _) = sale.hold("public", "A-1").await;
    assert_eq!(status, 409, "a seat offered to the line is not on sale");

    // fan-a pays; fan-b's offer lapses and its seat goes to fan-c.
    let (status, paid) = sale.pay(fans[0], &offer_of(&sale, fans[0]).await).await;
    assert_eq!(status, 200, "{paid}");
    sale.stack
        .advance_clock(chrono::Duration::seconds(OFFER_SECONDS + 1))
        .await;
    sweep(&sale).await;
    let e = offered(&sale, fans[2]).await;
    assert_eq!(e["status"], "OFFERED", "{e}");
    support::audit(&sale.stack).await;

    // fan-c gives it back with nobody left in line: the seat is on sale again.
    let id = offer_of(&sale, fans[2]).await;
    let (status, body) = send(
        &sale,
        Method::DELETE,
        &format!("/reservations/{id}"),
        fans[2],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, held) = sale
        .hold("public", offered_seats_of(&sale, fans[1]).await.as_str())
        .await;
    assert_eq!(status, 201, "{held}");
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

/// The reservation offered to `fan`.
async fn offer_of(sale: &Sale, fan: &str) -> String {
    entry(sale, fan).await["offer"].as_str().unwrap().to_owned()
}

/// The seat the reservation offered to `fan` held.
async fn offered_seats_of(sale: &Sale, fan: &str) -> String {
    let id = offer_of(sale, fan).await;
    let (_, r) = sale.get(&format!("/reservations/{id}"), fan).await;
    r["seats"][0]["seat"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_seat_taken_again_after_its_hold_lapsed_is_not_kept_for_the_line() {
    let env = [("HOLD_SECONDS", "600"), ("WAITLIST_OFFER_SECONDS", "1800")];
    let sale = Sale::start(options(&env), 1, 2).await;
    let path = format!("/sessions/{}/holds", sale.session);
    let (status, _, held) = sale
        .post(&path, "holder", support::hold_body(&["A-1", "A-2"], 0), &[])
        .await;
    assert_eq!(status, 201, "{held}");
    let line = format!("/sessions/{}/waitlist", sale.session);
    let body = json!({"sector": "plateia", "quantity": 1});
    assert_eq!(
        send(&sale, Method::POST, &line, "fan", Some(body)).await.0,
        201
    );

    // The hold lapses; before any sweep, someone holds A-1 (a lapsed hold frees its seats).
    sale.stack
        .advance_clock(chrono::Duration::seconds(HOLD_SECONDS + 1))
        .await;
    let (status, taken) = sale.hold("quick", "A-1").await;
    assert_eq!(status, 201, "{taken}");

    // The sweep releases what is still the holder's: A-2 goes to the fan, A-1 stays quick's.
    sweep(&sale).await;
    let e = offered(&sale, "fan").await;
    assert_eq!(e["status"], "OFFERED", "{e}");
    assert_eq!(offered_seats_of(&sale, "fan").await, "A-2");
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}
