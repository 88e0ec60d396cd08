//! A big general-admission sector, its places spread over stock shards, under a rush of direct
//! holds through the local stack: it sells exactly its capacity.

mod support;

use std::collections::HashMap;

use futures::{StreamExt, stream};
use serde_json::json;
use support::sale::{Sale, options};

#[tokio::test]
async fn a_sharded_sector_sells_exactly_its_capacity_under_two_thousand_concurrent_holds() {
    // Two shards of 1,000 places.
    let capacity = 2_000;
    let sectors = json!({"sectors": [
        {"code": "plateia", "name": "Plateia", "kind": "numbered", "rows": 1, "seats_per_row": 2, "price": {"cents": 30000}},
        {"code": "pista", "name": "Pista", "kind": "general_admission", "capacity": capacity, "price": {"cents": 18000}}
    ]});
    let sale = Sale::start_with(options(&[]), 1, 2, sectors).await;
    let path = format!("/sessions/{}/holds", sale.session);
    // One to three places each, two holds a customer (within the limit of 6): twice the places.
    let asks: Vec<(String, u32)> = (0..2_000)
        .map(|i| (format!("fan-{:04}", i % 1_000), 1 + i as u32 % 3))
        .collect();
    let answers: Vec<(u32, u16, serde_json::Value)> = stream::iter(asks.iter())
        .map(|(customer, quantity)| {
            let (sale, path) = (&sale, &path);
            async move {
                let body = json!({"places": [{"sector": "pista", "quantity": quantity}]});
                let (status, _, body) = sale.post(path, customer, body, &[]).await;
                (*quantity, status, body)
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;

    let mut by_status: HashMap<u16, u32> = HashMap::new();
    for (_, status, _) in &answers {
        *by_status.entry(*status).or_default() += 1;
    }
    let held: u32 = answers
        .iter()
        .filter(|(_, s, _)| *s == 201)
        .map(|(q, _, _)| q)
        .sum();
    let refused: Vec<&(u32, u16, serde_json::Value)> =
        answers.iter().filter(|(_, s, _)| *s == 409).collect();
    assert_eq!(
        by_status.values().sum::<u32>(),
        2_000,
        "every hold answered: {by_status:?}"
    );
    assert!(
        by_status.keys().all(|s| *s == 201 || *s == 409),
        "{by_status:?}"
    );
    assert!(
        refused.iter().all(|(_, _, p)| p["code"] == "SOLD_OUT"),
        "{:?}",
        refused.iter().find(|(_, _, p)| p["code"] != "SOLD_OUT")
    );
    assert_eq!(held, capacity, "no place sold twice, none left unsold");
    assert!(
        refused.iter().any(|(q, _, _)| *q == 1),
        "a one-place hold refused: nothing was left"
    );
    let (_, session) = sale
        .get(&format!("/sessions/{}", sale.session), "fan-0000")
        .await;
    let pista = session["sectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "pista")
        .unwrap();
    assert_eq!(pista["available"], 0, "{pista}");
    println!(
        "{} holds for {capacity} places: {} held {held} places, {} refused",
        answers.len(),
        by_status.get(&201).unwrap_or(&0),
        refused.len()
    );
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

#[tokio::test]
async fn a_session_from_before_the_shards_sells_its_places_from_its_stock_item() {
    use bilheteria::store::Catalog;
    let sale = Sale::start(options(&[]), 1, 2).await;
    // The same session as one stored before places were sharded: no shard items, the places on
    // the sector's stock item.
    let mut old = sale.stored_session().await;
    old.id = bilheteria::domain::SessionId::generate();
    old.sharded = false;
    sale.store.put_session(&old).await.unwrap();
    let path = format!("/sessions/{}/holds", old.id);
    let capacity = support::sale::PISTA;
    let answers: Vec<u16> = stream::iter(0..4 * capacity)
        .map(|i| {
            let (sale, path) = (&sale, &path);
            async move {
                let body = json!({"places": [{"sector": "pista", "quantity": 1}]});
                sale.post(path, &format!("fan-{i}"), body, &[]).await.0
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let held = answers.iter().filter(|s| **s == 201).count() as u32;
    assert_eq!(held, capacity, "{answers:?}");
    assert!(
        answers.iter().all(|s| *s == 201 || *s == 409),
        "{answers:?}"
    );
    assert_eq!(on_sale(&sale, old.id).await, 0);
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

#[tokio::test]
async fn a_card_charge_that_loses_to_the_sweep_takes_its_places_again_from_the_shards() {
    use bilheteria::{domain::ReservationStatus, payments::SLOW_CARD};
    let sectors = json!({"sectors": [
        {"code": "pista", "name": "Pista", "kind": "general_admission", "capacity": 2_000, "price": {"cents": 18000}}
    ]});
    let sale = Sale::start_with(options(&[]), 1, 2, sectors).await;
    let path = format!("/sessions/{}/holds", sale.session);
    let body = json!({"places": [{"sector": "pista", "quantity": 3}]});
    let (status, _, held) = sale.post(&path, "ana", body, &[]).await;
    assert_eq!(status, 201, "{held}");
    let id: bilheteria::domain::ReservationId = held["id"].as_str().unwrap().parse().unwrap();
    let checkout = format!("/reservations/{id}/checkout");
    let card = json!({"payment": {"method": "card", "number": SLOW_CARD}});
    let paying = sale.post(&checkout, "ana", card, &[("idempotency-key", "slow")]);
    let sweep = async {
        // The hold lapses while the acquirer takes its time, and the sweep gives its places back.
        let status = || async {
            use bilheteria::store::Reservations;
            sale.store.reservation(id).await.unwrap().unwrap().status
        };
        while status().await != ReservationStatus::Charging {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        sale.stack.set_clock(chrono::Duration::minutes(30)).await;
        sale.stack.tick("ExpireHoldsFunction").await.unwrap();
        assert_eq!(status().await, ReservationStatus::Expired);
    };
    let ((status, _, paid), ()) = futures::join!(paying, sweep);
    assert_eq!(
        (status, &paid["status"]),
        (200, &json!("CONFIRMED")),
        "paid, and its places were still there to take again: {paid}"
    );
    assert_eq!(on_sale(&sale, sale.session.parse().unwrap()).await, 1_997);
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

/// The session's general-admission places on sale, as the sales figures add them up.
async fn on_sale(sale: &Sale, session: bilheteria::domain::SessionId) -> u32 {
    use bilheteria::store::Catalog;
    let stock = sale.store.session_stock(session).await.unwrap().unwrap();
    stock
        .available
        .iter()
        .find(|(code, _)| code.as_str() == "pista")
        .map(|(_, n)| *n)
        .unwrap()
}

#[tokio::test]
async fn a_hold_whose_shard_ran_out_takes_its_places_from_the_others() {
    use bilheteria::{
        domain::{Reservation, ReservationId, stock},
        store::Reservations,
    };
    // Two shards of 1,000 places.
    let sectors = json!({"sectors": [
        {"code": "pista", "name": "Pista", "kind": "general_admission", "capacity": 2_000, "price": {"cents": 18000}}
    ]});
    let sale = Sale::start_with(options(&[]), 1, 2, sectors).await;
    let session = sale.stored_session().await;
    let now = chrono::Utc::now();
    // A hold of `quantity` places whose first shard is shard 0.
    let on_first_shard = |customer: &str, quantity: i64| {
        let mut reservation = Reservation::plan_hold(
            &session,
            customer,
            Vec::new(),
            vec![("pista".into(), quantity)],
            now,
            chrono::Duration::minutes(10),
        )
        .unwrap();
        reservation.id = std::iter::repeat_with(ReservationId::generate)
            .find(|id| stock::first_shard(id.spread(), 2) == 0)
            .unwrap();
        reservation
    };
    let limit = session.max_tickets_per_customer;
    for i in 0..200 {
        let reservation = on_first_shard(&format!("fan-{i}"), 5);
        sale.store.hold(&reservation, limit, now).await.unwrap();
    }
    assert_eq!(
        on_sale(&sale, session.id).await,
        1_000,
        "shard 0 is empty, shard 1 full"
    );
    let late = on_first_shard("late", 3);
    sale.store.hold(&late, limit, now).await.expect(
        "a hold whose first shard has nothing left takes its places from another, not SOLD_OUT",
    );
    assert_eq!(on_sale(&sale, session.id).await, 997);
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}
