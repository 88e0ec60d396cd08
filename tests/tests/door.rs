//! The door on the local stack: tickets bought by card are let in once however many gates scan
//! them at once, offline scans uploaded twice change nothing and a ticket let in by two offline
//! gates is kept as a conflict, forged and altered codes are refused, and the counts reach the
//! sales view.

mod support;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use futures::future::join_all;
use serde_json::{Value, json};
use support::sale::{Sale, options};

/// A card purchase of `seats` in `plateia` by `customer`: its tickets' ids and codes.
async fn tickets(sale: &Sale, customer: &str, seats: &[&str]) -> Vec<(String, String)> {
    let path = format!("/sessions/{}/holds", sale.session);
    let body = support::hold_body(seats, 0);
    let (status, _, held) = sale.post(&path, customer, body, &[]).await;
    assert_eq!(status, 201, "{held}");
    let (status, paid) = sale.pay(customer, held["id"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{paid}");
    paid["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_owned(),
                t["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The session's sales view, as its organiser reads it.
async fn sales_view(sale: &Sale) -> Value {
    let admin = sale.stack.token("organiser", true);
    let path = format!("/sessions/{}/sales", sale.session);
    sale.get_as(&path, &admin).await.1
}

/// `POST /checkins` as the staff member at `gate`.
async fn scan(sale: &Sale, gate: &str, body: Value) -> (u16, reqwest::header::HeaderMap, Value) {
    let token = sale.stack.token_in(gate, &["staff"]);
    let url = format!("{}/checkins", sale.stack.api_url());
    support::call(
        &sale.http,
        url,
        reqwest::Method::POST,
        Some(&token),
        Some(body),
        &[],
    )
    .await
}

fn scan_of(sale: &Sale, code: &str, gate: &str) -> Value {
    json!({"session_id": sale.session, "code": code, "gate": gate})
}

#[tokio::test]
async fn a_ticket_scanned_at_four_gates_at_once_lets_one_holder_in() {
    let sale = Sale::start(options(&[]), 4, 10).await;
    let bought = tickets(&sale, "alice", &["A-1", "A-2"]).await;
    let (ticket, code) = &bought[0];

    let gates: Vec<String> = (0..4).map(|g| format!("Gate {g}")).collect();
    let answers = join_all(
        gates
            .iter()
            .map(|gate| scan(&sale, gate, scan_of(&sale, code, gate))),
    )
    .await;
    let admitted: Vec<&Value> = answers
        .iter()
        .filter(|(s, _, _)| *s == 201)
        .map(|(_, _, b)| b)
        .collect();
    assert_eq!(admitted.len(), 1, "{answers:?}");
    assert_eq!(admitted[0]["ticket"], ticket.as_str());
    assert!(
        ["A-1", "A-2"].contains(&admitted[0]["seat"].as_str().unwrap()),
        "{}",
        admitted[0]
    );
    for (status, _, body) in answers.iter().filter(|(s, _, _)| *s != 201) {
        assert_eq!(*status, 409, "{body}");
        assert_eq!(body["code"], "ALREADY_CHECKED_IN");
        assert_eq!(
            body["entry"]["gate"], admitted[0]["gate"],
            "names the gate that let them in"
        );
        assert_eq!(body["conflict"], false);
    }

    // The sales view counts the entry; the other ticket is still outside.
    let sales = sales_view(&sale).await;
    assert_eq!(sales["checked_in"], 1, "{sales}");
    assert_eq!(sales["sectors"][0]["checked_in"], 1, "{sales}");

    // A customer is not door staff.
    let token = sale.stack.token("alice", false);
    let url = format!("{}/checkins", sale.stack.api_url());
    let (status, _, _) = support::call(
        &sale.http,
        url,
        reqwest::Method::POST,
        Some(&token),
        Some(scan_of(&sale, &bought[1].1, "Gate 0")),
        &[],
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn offline_scans_uploaded_twice_change_nothing_and_a_double_entry_is_a_conflict() {
    let sale = Sale::start(options(&[]), 4, 10).await;
    let bought = tickets(&sale, "bob", &["B-1", "B-2"]).await;
    let earlier = (chrono::Utc::now() - chrono::Duration::minutes(20)).to_rfc3339();
    let offline = |code: &str, gate: &str, nonce: &str| json!({"session_id": sale.session, "code": code, "gate": gate, "nonce": nonce, "scanned_at": earlier});

    // Gate A was offline: it let B-1 in, then uploads its scan, twice.
    let first = offline(&bought[0].1, "Gate A", "gate-a-scan-0001");
    let (status, _, entry) = scan(&sale, "gate-a", first.clone()).await;
    assert_eq!(status, 201, "{entry}");
    assert_eq!(entry["offline"], true);
    let (status, headers, again) = scan(&sale, "gate-a", first).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(again, entry, "the upload again answers the same entry");

    // Gate C, offline too, let the same ticket in: a conflict, kept once however often sent.
    let second = offline(&bought[0].1, "Gate C", "gate-c-scan-0001");
    for _ in 0..2 {
        let (status, _, body) = scan(&sale, "gate-c", second.clone()).await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["code"], "ALREADY_CHECKED_IN");
        assert_eq!(body["conflict"], true);
        assert_eq!(body["entry"]["gate"], "Gate A");
    }
    let admin = sale.stack.token("organiser", true);
    let path = format!("/sessions/{}/checkins/conflicts", sale.session);
    let (status, conflicts) = sale.get_as(&path, &admin).await;
    assert_eq!(status, 200, "{conflicts}");
    let items = conflicts["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "kept once: {conflicts}");
    assert_eq!(items[0]["first"]["gate"], "Gate A");
    assert_eq!(items[0]["second"]["gate"], "Gate C");

    // An online second scan is refused, not a conflict.
    let (status, _, body) = scan(&sale, "gate-b", scan_of(&sale, &bought[0].1, "Gate B")).await;
    assert_eq!(
        (status, body["conflict"].clone()),
        (409, json!(false)),
        "{body}"
    );
    let sales = sales_view(&sale).await;
    assert_eq!(sales["checked_in"], 1, "one entry for one ticket: {sales}");
}

#[tokio::test]
async fn forged_altered_and_foreign_codes_are_refused_and_let_no_one_in() {
    let sale = Sale::start(options(&[]), 4, 10).await;
    let bought = tickets(&sale, "carol", &["C-1"]).await;
    let code = &bought[0].1;

    // The seat changed in the code (the byte before the signature).
    let mut bytes = URL_SAFE_NO_PAD.decode(code).unwrap();
    let at = bytes.len() - 65;
    bytes[at] ^= 1;
    let altered = URL_SAFE_NO_PAD.encode(&bytes);
    // Signed with a key that is not the box office's.
    let forged = bilheteria::domain::TicketSigner::new(b"someone else's key").code(
        &bilheteria::domain::Admission {
            ticket: bilheteria::domain::TicketId::generate(),
            session: sale.session.parse().unwrap(),
            sector: bilheteria::domain::SectorCode::try_from("plateia".to_string()).unwrap(),
            seat: Some("C-2".parse().unwrap()),
            issued_at: chrono::Utc::now(),
            key_id: String::new(),
        },
    );
    for bad in [altered.as_str(), forged.as_str(), "not a code", &code[..60]] {
        let (status, _, body) = scan(&sale, "gate-a", scan_of(&sale, bad, "Gate A")).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert_eq!(body["field"], "code");
    }
    // The right code for another session.
    let other = json!({"session_id": bilheteria::domain::SessionId::generate(), "code": code, "gate": "Gate A"});
    let (status, _, body) = scan(&sale, "gate-a", other).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("WRONG_SESSION")),
        "{body}"
    );
    // Malformed input.
    let (status, _, body) = scan(
        &sale,
        "gate-a",
        json!({"session_id": sale.session, "code": code, "gate": ""}),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("gate")),
        "{body}"
    );

    // None of that let anyone in: the real code still opens the door.
    let (status, _, body) = scan(&sale, "gate-a", scan_of(&sale, code, "Gate A")).await;
    assert_eq!(status, 201, "{body}");

    // The kit: the public keys the code verifies with offline.
    let token = sale.stack.token_in("gate-a", &["staff"]);
    let path = format!("/sessions/{}/checkin-kit", sale.session);
    let (status, kit) = sale.get_as(&path, &token).await;
    assert_eq!(status, 200, "{kit}");
    let keys: Vec<bilheteria::domain::DoorKey> =
        serde_json::from_value(kit["keys"].clone()).unwrap();
    let admits = bilheteria::domain::DoorKeys::new(keys)
        .verify(code)
        .unwrap();
    assert_eq!(admits.ticket.to_string(), bought[0].0);
    assert_eq!(kit["revoked"], json!([]));
}

/// `POST /reservations/{id}/cancellation` as the organiser.
async fn cancel_sale(sale: &Sale, reservation: &str) -> (u16, Value) {
    let admin = sale.stack.token("organiser", true);
    let url = format!(
        "{}/reservations/{reservation}/cancellation",
        sale.stack.api_url()
    );
    let body = json!({"reason": "the show moved to a smaller venue"});
    let (status, _, body) = support::call(
        &sale.http,
        url,
        reqwest::Method::POST,
        Some(&admin),
        Some(body),
        &[],
    )
    .await;
    (status, body)
}

/// A card purchase of `seats`: the reservation's id and its tickets' codes.
async fn purchase(sale: &Sale, customer: &str, seats: &[&str]) -> (String, Vec<String>) {
    let path = format!("/sessions/{}/holds", sale.session);
    let (status, _, held) = sale
        .post(&path, customer, support::hold_body(seats, 0), &[])
        .await;
    assert_eq!(status, 201, "{held}");
    let id = held["id"].as_str().unwrap().to_owned();
    let (status, paid) = sale.pay(customer, &id).await;
    assert_eq!(status, 200, "{paid}");
    let codes = paid["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap().to_owned())
        .collect();
    (id, codes)
}

#[tokio::test]
async fn a_sale_the_organiser_cancels_revokes_its_tickets_and_puts_its_seats_back_on_sale() {
    let sale = Sale::start(options(&[]), 4, 10).await;
    // Two seats, a standing place and two popcorns, paid by card.
    let admin = sale.stack.token("organiser", true);
    let event = sale.stored_session().await.event_id;
    let api = |path: &str| format!("{}{path}", sale.stack.api_url());
    let popcorn =
        json!({"name": "Pipoca", "category": "food", "price": {"cents": 2800}, "stock": 10});
    let (status, _, popcorn) = support::call(
        &sale.http,
        api(&format!("/events/{event}/products")),
        reqwest::Method::POST,
        Some(&admin),
        Some(popcorn),
        &[],
    )
    .await;
    assert_eq!(status, 201, "{popcorn}");
    let path = format!("/sessions/{}/holds", sale.session);
    let (status, _, held) = sale
        .post(&path, "dora", support::hold_body(&["D-1", "D-2"], 1), &[])
        .await;
    assert_eq!(status, 201, "{held}");
    let id = held["id"].as_str().unwrap().to_owned();
    let (status, _, with_food) = support::call(
        &sale.http,
        api(&format!("/reservations/{id}/products")),
        reqwest::Method::PUT,
        Some(&sale.stack.token("dora", false)),
        Some(json!({"items": [{"product_id": popcorn["id"], "quantity": 2}]})),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{with_food}");
    let (status, paid) = sale.pay("dora", &id).await;
    assert_eq!(status, 200, "{paid}");
    let codes: Vec<String> = paid["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 3);

    let (status, cancelled) = cancel_sale(&sale, &id).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "REFUND_REQUIRED");
    assert_eq!(
        cancelled["refund_reason"],
        "the show moved to a smaller venue"
    );
    let (status, again) = cancel_sale(&sale, &id).await;
    assert_eq!((status, again["code"].as_str()), (409, Some("WRONG_STATE")));

    for code in &codes {
        let (status, _, body) = scan(&sale, "gate-a", scan_of(&sale, code, "Gate A")).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("TICKET_REVOKED")),
            "{body}"
        );
    }
    let token = sale.stack.token_in("gate-a", &["staff"]);
    let path = format!("/sessions/{}/checkin-kit", sale.session);
    let (_, kit) = sale.get_as(&path, &token).await;
    assert_eq!(kit["revoked"].as_array().unwrap().len(), 3, "{kit}");
    let (_, tickets) = sale.get("/me/tickets", "dora").await;
    assert_eq!(tickets["items"], json!([]), "{tickets}");

    // The seats, the place and the popcorn are on sale again, and everything still adds up.
    let (status, held) = sale.hold("erin", "D-1").await;
    assert_eq!(status, 201, "{held}");
    let sales = sales_view(&sale).await;
    assert_eq!(sales["sold"], 0, "{sales}");
    assert_eq!(sales["sectors"][1]["available"], 5, "{sales}");
    let product = format!(
        "/events/{event}/products/{}",
        popcorn["id"].as_str().unwrap()
    );
    let (_, popcorn) = sale.get(&product, "erin").await;
    assert_eq!(
        (popcorn["stock"].clone(), popcorn["sold"].clone()),
        (json!(10), json!(0)),
        "{popcorn}"
    );
    support::audit(&sale.stack).await;
}

#[tokio::test]
async fn a_scan_racing_the_organisers_cancellation_either_lets_in_or_revokes_never_both() {
    let sale = Sale::start(options(&[]), 4, 10).await;
    let mut purchases = Vec::new();
    for (i, seat) in ["A-1", "A-2", "A-3", "A-4", "A-5", "A-6"]
        .iter()
        .enumerate()
    {
        purchases.push(purchase(&sale, &format!("fan-{i}"), &[seat]).await);
    }
    let races = join_all(purchases.iter().map(|(id, codes)| async {
        let (scanned, cancelled) = tokio::join!(
            scan(&sale, "gate-a", scan_of(&sale, &codes[0], "Gate A")),
            cancel_sale(&sale, id)
        );
        (scanned.0, scanned.2, cancelled.0, cancelled.1)
    }))
    .await;
    for (scanned, scan_body, cancelled, cancel_body) in &races {
        match (scanned, cancelled) {
            (201, 409) => assert_eq!(cancel_body["code"], "ALREADY_CHECKED_IN"),
            (409, 200) => assert_eq!(scan_body["code"], "TICKET_REVOKED"),
            other => panic!("{other:?}: {scan_body} {cancel_body}"),
        }
    }
    let sales = sales_view(&sale).await;
    let entered = races.iter().filter(|r| r.0 == 201).count();
    assert_eq!(sales["checked_in"], entered, "{sales}");
    assert_eq!(
        sales["sold"], entered,
        "a ticket let in stays sold: {sales}"
    );
    support::audit(&sale.stack).await;
}

/// Scans a second `gates` sustain, each gate scanning its share of `codes` one after another.
async fn scan_rate(sale: &Sale, codes: &[String], gates: usize) -> f64 {
    let started = std::time::Instant::now();
    let shares: Vec<Vec<&String>> = (0..gates)
        .map(|g| codes.iter().skip(g).step_by(gates).collect())
        .collect();
    let answers = join_all(shares.iter().enumerate().map(|(g, share)| async move {
        let gate = format!("Gate {g}");
        let mut statuses = Vec::new();
        for code in share {
            statuses.push(scan(sale, &gate, scan_of(sale, code, &gate)).await.0);
        }
        statuses
    }))
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    let statuses: Vec<u16> = answers.into_iter().flatten().collect();
    assert_eq!(statuses.len(), codes.len());
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    codes.len() as f64 / elapsed
}

/// Measures (prints; asserts no time): scans a second at one gate and at ten gates at once, each
/// gate scanning tickets one after another through the local stack
/// (`cargo nextest run -p bilheteria-tests --test door --no-capture`).
#[tokio::test]
async fn check_in_rate_at_one_gate_and_at_ten_gates() {
    let sale = Sale::start(options(&[]), 20, 20).await;
    let seats: Vec<String> = (0..20u8)
        .flat_map(|row| (1..=20).map(move |n| format!("{}-{n}", (b'A' + row) as char)))
        .collect();
    // Six seats a customer (the session's limit), bought side by side.
    let sale = &sale;
    let bought = join_all(seats.chunks(6).enumerate().map(|(i, chunk)| {
        let seats: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let customer = format!("fan-{i:03}");
        async move { purchase(sale, &customer, &seats).await.1 }
    }))
    .await;
    let codes: Vec<String> = bought.into_iter().flatten().collect();
    assert_eq!(codes.len(), 400);
    let one = scan_rate(sale, &codes[..200], 1).await;
    let ten = scan_rate(sale, &codes[200..], 10).await;
    println!("check-in: {one:.0} scans/s at one gate, {ten:.0} scans/s at ten gates");
    let sales = sales_view(sale).await;
    assert_eq!(sales["checked_in"], 400, "{sales}");
}
