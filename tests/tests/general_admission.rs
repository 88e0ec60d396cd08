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
