//! A big sector's seat map through the local stack: a few items, about a byte a seat, cached for
//! two seconds, and following holds, payments and cancellations through the table's stream.

mod support;

use std::time::{Duration, Instant};

use bilheteria::store::Catalog;
use serde_json::{Value, json};
use support::sale::{Sale, options};

/// The row `row` of the sector's map, fetched until `done` holds for it (the stream draws the
/// map a moment after the seats change), or the deadline passes.
async fn row_until(sale: &Sale, row: usize, done: impl Fn(&str) -> bool) -> String {
    let path = format!("/sessions/{}/sectors/plateia/seats", sale.session);
    let started = Instant::now();
    loop {
        let (status, map) = sale.get(&path, "fan").await;
        assert_eq!(status, 200, "{map}");
        let seats = map["map"][row]["seats"].as_str().unwrap().to_owned();
        if done(&seats) || started.elapsed() > Duration::from_secs(60) {
            return seats;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_seat_map_is_a_few_items_of_a_byte_a_seat_and_follows_the_seats() {
    // Rows of 50: 40 rows a block, two blocks.
    let (rows, per_row) = (80, 50);
    let sectors = json!({"sectors": [
        {"code": "plateia", "name": "Arquibancada", "kind": "numbered", "rows": rows, "seats_per_row": per_row, "price": {"cents": 30000}},
    ]});
    let sale = Sale::start_with(options(&[]), rows, per_row, sectors).await;

    let url = format!(
        "{}/sessions/{}/sectors/plateia/seats",
        sale.stack.api_url(),
        sale.session
    );
    let resp = reqwest::get(&url).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["cache-control"].to_str().unwrap(),
        "public, max-age=2"
    );
    let body = resp.bytes().await.unwrap();
    let map: Value = serde_json::from_slice(&body).unwrap();
    let rows = map["map"].as_array().unwrap();
    let seats = (rows.len() * per_row as usize) as f64;
    assert_eq!(rows.len(), 80);
    assert!(rows.iter().all(|r| r["seats"] == "F".repeat(50)));
    let session = sale.stored_session().await;
    let blocks = sale
        .store
        .seat_map(&session, session.sector("plateia").unwrap())
        .await
        .unwrap();
    println!(
        "seat map of 4,000 seats: {} bytes ({:.2} a seat), {} items",
        body.len(),
        body.len() as f64 / seats,
        blocks.len()
    );
    // A byte a seat, about 30 a row and the sector's own fields: 20,000 seats in rows of 100
    // would be about 27 KB.
    let most = seats as usize + 30 * rows.len() + 1_000;
    assert!(body.len() <= most, "{} bytes, more than {most}", body.len());
    assert_eq!(blocks.len(), 2);

    // A-25 held then paid, A-26 held then cancelled.
    let (status, paid) = sale.hold("ana", "A-25").await;
    assert_eq!(status, 201, "{paid}");
    let (status, cancelled) = sale.hold("bia", "A-26").await;
    assert_eq!(status, 201, "{cancelled}");
    let at = |seats: &str, n: usize| seats.chars().nth(n - 1).unwrap();
    let row = row_until(&sale, 0, |s| at(s, 25) == 'H' && at(s, 26) == 'H').await;
    assert_eq!((at(&row, 25), at(&row, 26)), ('H', 'H'), "{row}");

    let (status, body) = sale.pay("ana", paid["id"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let path = format!("/reservations/{}", cancelled["id"].as_str().unwrap());
    let url = format!("{}{path}", sale.stack.api_url());
    let resp = reqwest::Client::new()
        .delete(url)
        .bearer_auth(sale.stack.token("bia", false))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let row = row_until(&sale, 0, |s| at(s, 25) == 'S' && at(s, 26) == 'F').await;
    assert_eq!((at(&row, 25), at(&row, 26)), ('S', 'F'), "{row}");
    assert_eq!(row.matches('F').count(), 49, "nothing else moved: {row}");
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

#[tokio::test]
async fn a_session_from_before_the_blocks_keeps_its_seats_in_the_sector_partition() {
    let sale = Sale::start(options(&[]), 2, 10).await;
    // The same session as one stored before seats were kept by row block: every seat written at
    // creation, under the sector's own partition.
    let mut old = sale.stored_session().await;
    old.id = bilheteria::domain::SessionId::generate();
    old.seat_blocks = false;
    sale.store.put_session(&old).await.unwrap();
    let sector = old.sector("plateia").unwrap();
    assert_eq!(sale.store.seats(&old, sector).await.unwrap().len(), 20);

    let path = format!("/sessions/{}/holds", old.id);
    let hold = |customer: &'static str, seat: &'static str| {
        let (sale, path) = (&sale, &path);
        async move {
            let body = json!({"seats": [{"sector": "plateia", "seat": seat}]});
            let (status, _, body) = sale.post(path, customer, body, &[]).await;
            (status, body)
        }
    };
    let (status, held) = hold("ana", "B-10").await;
    assert_eq!(status, 201, "{held}");
    let (status, refused) = hold("bia", "B-10").await;
    assert_eq!(status, 409, "{refused}");
    let (status, body) = sale.pay("ana", held["id"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let seats = sale.store.seats(&old, sector).await.unwrap();
    let b10 = seats
        .iter()
        .find(|s| s.label.to_string() == "B-10")
        .unwrap();
    assert!(
        matches!(b10.state, bilheteria::domain::SeatState::Sold { .. }),
        "{:?}",
        b10.state
    );
    // Only the sector partition holds seats: the hold wrote no block item beside it.
    assert_eq!(seats.len(), 20);
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

#[tokio::test]
async fn a_fifty_thousand_seat_session_is_created_within_the_function_timeout_and_sells_its_last_seat()
 {
    let mut sale = Sale::start(options(&[]), 1, 1).await;
    // The local stack answers 201 only if the function finished within its timeout (30 s).
    let (status, created, took) = sale.add_session(support::sale::stadium()).await;
    assert_eq!(status, 201, "{created}");
    println!("a 50,000-seat session created in {took:?}");
    sale.session = created["id"].as_str().unwrap().to_owned();
    let session = sale.stored_session().await;
    let blocks = |code: &'static str| {
        let (sale, session) = (&sale, &session);
        async move {
            let sector = session.sector(code).unwrap();
            sale.store.seat_map(session, sector).await.unwrap().len()
        }
    };
    // Blocks of about 2,000 seats: 20 rows of 100, 13 rows of 150.
    assert_eq!((blocks("plateia").await, blocks("norte").await), (10, 16));

    let url = format!(
        "{}/sessions/{}/sectors/plateia/seats",
        sale.stack.api_url(),
        sale.session
    );
    let body = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    println!("seat map of 20,000 seats: {} bytes", body.len());
    assert!(body.len() <= 100_000, "{} bytes", body.len());
    let map: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(map["map"].as_array().unwrap().len(), 200);

    // The last seat of the larger sector, in its last block.
    let last = bilheteria::domain::SeatLabel::new(199, 150).to_string();
    let path = format!("/sessions/{}/holds", sale.session);
    let body = json!({"seats": [{"sector": "norte", "seat": last}]});
    let (status, _, held) = sale.post(&path, "ana", body, &[]).await;
    assert_eq!(status, 201, "{held}");
    let (status, body) = sale.pay("ana", held["id"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let norte = sale
        .store
        .seats(&session, session.sector("norte").unwrap())
        .await
        .unwrap();
    assert_eq!(norte.len(), 30_000);
    let taken: Vec<_> = norte
        .iter()
        .filter(|s| !matches!(s.state, bilheteria::domain::SeatState::Free))
        .map(|s| s.label.to_string())
        .collect();
    assert_eq!(taken, [last]);
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}
