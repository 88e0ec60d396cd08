//! The DynamoDB store (catalog, idempotency claims) against the embedded emulator, a fresh table
//! per test.

mod support;

use bilheteria::{
    domain::{Event, EventCategory, EventId, NewEvent, SectorCode, SessionId, seat::SeatStatus},
    store::{Catalog, StoreError},
};
use chrono::{DateTime, Utc};
use support::Stack;

fn event(name: &str) -> Event {
    let new = NewEvent {
        name: name.into(),
        venue: "Allianz Parque".into(),
        category: EventCategory::Show,
        description: None,
    };
    Event::create(new, Utc::now()).unwrap()
}

#[tokio::test]
async fn events_list_newest_first_in_pages_that_cover_every_event() {
    let stack = Stack::start().await;
    let mut created = Vec::new();
    for i in 0..7 {
        let e = event(&format!("Show {i}"));
        stack.store.put_event(&e).await.unwrap();
        created.push(e.id);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = stack.store.events(3, cursor.as_deref()).await.unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|e| e.id));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    created.reverse();
    assert_eq!(seen, created, "newest first, each event once");
}

#[tokio::test]
async fn an_event_id_is_written_once() {
    let stack = Stack::start().await;
    let e = event("Show");
    stack.store.put_event(&e).await.unwrap();
    assert_eq!(stack.store.event(e.id).await.unwrap(), Some(e.clone()));
    let again = Event {
        name: "Other".into(),
        ..e.clone()
    };
    assert!(matches!(
        stack.store.put_event(&again).await,
        Err(StoreError::ConditionFailed)
    ));
    assert_eq!(stack.store.event(e.id).await.unwrap().unwrap().name, "Show");
}

#[tokio::test]
async fn a_cursor_from_elsewhere_is_refused() {
    let stack = Stack::start().await;
    assert!(matches!(
        stack.store.events(3, Some("eyJQSyI6IngifQ")).await,
        Err(StoreError::BadCursor)
    ));
    assert!(matches!(
        stack.store.events(3, Some("%%%")).await,
        Err(StoreError::BadCursor)
    ));
}

#[tokio::test]
async fn a_session_stores_its_sectors_and_every_seat_free() {
    let stack = Stack::start().await;
    let e = stack.seed_event(&EventId::generate().to_string()).await;
    let session = stack
        .seed_session(e.id, &SessionId::generate().to_string(), 12, 25)
        .await;

    let stock = stack
        .store
        .session_stock(session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stock.session, session);
    let plateia = SectorCode::try_from("plateia".to_string()).unwrap();
    let pista = SectorCode::try_from("pista".to_string()).unwrap();
    assert_eq!(stock.available[&plateia], 300);
    assert_eq!(stock.available[&pista], 2_000);

    let seats = stack
        .store
        .seats(&session, session.sector("plateia").unwrap())
        .await
        .unwrap();
    assert_eq!(seats.len(), 300);
    assert_eq!(seats[0].label.to_string(), "A-1");
    assert_eq!(seats[299].label.to_string(), "L-25");
    assert!(
        seats
            .iter()
            .all(|s| s.state.status_at(Utc::now()) == SeatStatus::Free)
    );
    assert!(
        stack
            .store
            .seats(&session, session.sector("pista").unwrap())
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(stack.store.sessions_of(e.id).await.unwrap(), vec![session]);
    assert!(
        stack
            .store
            .session_stock(SessionId::generate())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_twenty_thousand_seat_session_reads_every_seat_in_order() {
    let stack = Stack::start().await;
    let e = stack.seed_event(&EventId::generate().to_string()).await;
    let started = std::time::Instant::now();
    let session = stack
        .seed_session(e.id, &SessionId::generate().to_string(), 200, 100)
        .await;
    eprintln!("a 20,000-seat session stored in {:?}", started.elapsed());
    let seats = stack
        .store
        .seats(&session, session.sector("plateia").unwrap())
        .await
        .unwrap();
    assert_eq!(seats.len(), 20_000);
    let mut labels: Vec<_> = seats.iter().map(|s| s.label).collect();
    labels.dedup();
    assert_eq!(labels.len(), 20_000, "each seat once, in order");
}

/// Of two claims racing for one key, exactly one goes ahead: the first claim time it was given.
fn one_taker(
    first: &Result<bilheteria::store::Claim, bilheteria::store::StoreError>,
    second: &Result<bilheteria::store::Claim, bilheteria::store::StoreError>,
) -> DateTime<Utc> {
    use bilheteria::store::Claim;
    let taken: Vec<DateTime<Utc>> = [first, second]
        .into_iter()
        .filter_map(|c| match c {
            Ok(Claim::Fresh { first_claimed }) => Some(*first_claimed),
            _ => None,
        })
        .collect();
    assert_eq!(taken.len(), 1, "{first:?} {second:?}");
    taken[0]
}

#[tokio::test]
async fn an_idempotency_claim_left_by_a_stopped_request_is_taken_over_after_its_lease() {
    use bilheteria::store::{Claim, Reservations, StoredResponse};
    let stack = Stack::start().await;
    let store = &stack.store;
    let start = Utc::now();
    let at = |seconds: i64| start + chrono::Duration::seconds(seconds);
    let Ok(Claim::Fresh { first_claimed }) = store.claim("ana", "k", "h", at(0)).await else {
        panic!("a new key is fresh");
    };
    assert_eq!(first_claimed.timestamp(), start.timestamp());
    // Its process was stopped: no settle, no release. Within the lease it is still in flight.
    assert!(matches!(
        store.claim("ana", "k", "h", at(30)).await,
        Ok(Claim::InFlight)
    ));
    assert!(matches!(
        store.claim("ana", "k", "other", at(90)).await,
        Ok(Claim::Mismatch)
    ));
    // Past the lease, one retry takes it over; another at the same moment does not.
    let (first, second) = futures::join!(
        store.claim("ana", "k", "h", at(90)),
        store.claim("ana", "k", "h", at(90))
    );
    assert_eq!(
        one_taker(&first, &second),
        first_claimed,
        "the takeover keeps the first claim's time"
    );
    // The taker's lease starts again; once it settles, the answer is kept.
    assert!(matches!(
        store.claim("ana", "k", "h", at(100)).await,
        Ok(Claim::InFlight)
    ));
    let response = StoredResponse {
        status: 200,
        body: "{}".into(),
        location: None,
    };
    store.settle("ana", "k", &response).await.unwrap();
    assert!(matches!(
        store.claim("ana", "k", "h", at(1_000)).await,
        Ok(Claim::Done(r)) if r.status == 200
    ));
}

#[tokio::test]
async fn a_released_key_is_claimed_again_by_one_retry_of_the_same_request() {
    use bilheteria::store::{Claim, Reservations};
    let stack = Stack::start().await;
    let store = &stack.store;
    let start = Utc::now();
    let Ok(Claim::Fresh { first_claimed }) = store.claim("ana", "k", "h", start).await else {
        panic!("a new key is fresh");
    };
    store.release("ana", "k").await.unwrap();
    let later = start + chrono::Duration::seconds(5);
    assert!(matches!(
        store.claim("ana", "k", "other", later).await,
        Ok(Claim::Mismatch)
    ));
    let (first, second) = futures::join!(
        store.claim("ana", "k", "h", later),
        store.claim("ana", "k", "h", later)
    );
    assert_eq!(
        one_taker(&first, &second),
        first_claimed,
        "released and claimed again, the key keeps its first claim's time"
    );
    // Claimed again, it is in flight like any claim.
    assert!(matches!(
        store.claim("ana", "k", "h", later).await,
        Ok(Claim::InFlight)
    ));
}

#[tokio::test]
async fn a_claim_recorded_before_leases_dates_from_its_expiry_time() {
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    use bilheteria::store::{Claim, Reservations, keys};
    let stack = Stack::start().await;
    let day = 86_400;
    // Two IN_FLIGHT records with no claim time: one claimed 10 s ago, one 10 minutes ago.
    for (key, age) in [("recent", 10), ("old", 600)] {
        stack
            .client
            .put_item()
            .table_name(support::TABLE)
            .item(keys::PK, S(keys::idempotency("ana", key)))
            .item(keys::SK, S(keys::IDEMPOTENCY_SK.into()))
            .item("request_hash", S("h".into()))
            .item("state", S("IN_FLIGHT".into()))
            .item("ttl", N((Utc::now().timestamp() - age + day).to_string()))
            .send()
            .await
            .unwrap();
    }
    let now = Utc::now();
    assert!(matches!(
        stack.store.claim("ana", "recent", "h", now).await,
        Ok(Claim::InFlight)
    ));
    assert!(matches!(
        stack.store.claim("ana", "old", "h", now).await,
        Ok(Claim::Fresh { .. })
    ));
}

/// A checkout's key kept on its reservation: one request charges, a retry within the lease
/// waits, one past it takes over, another request under the key is told apart, and what the
/// attempt ended with decides whether a retry runs again.
#[tokio::test]
async fn a_checkout_attempt_kept_on_its_reservation_runs_once_per_key() {
    use bilheteria::{
        domain::ReservationStatus,
        store::{Begun, CheckoutAttempt, Reservations, StoredResponse},
    };
    use support::{EVENT_ID, SESSION_ID, Seeder};
    let stack = Stack::start().await;
    let store = &stack.store;
    let seeder = Seeder(store);
    let event = seeder.event(EVENT_ID).await;
    let session = seeder.session(event.id, SESSION_ID, 4, 5).await;
    let held = seeder
        .held(
            &session,
            "01JF000000000000000000RS01",
            "ana",
            &[("plateia", "A-1")],
            &[],
        )
        .await;
    let start = Utc::now();
    let at = |seconds: i64| start + chrono::Duration::seconds(seconds);
    let attempt = |key: &str, hash: &str, seconds: i64| CheckoutAttempt {
        key: key.into(),
        hash: hash.into(),
        claimed_at: at(seconds).timestamp(),
        retry: false,
        refusal: None,
    };
    let begin = |a: CheckoutAttempt, seconds: i64, who: &'static str| async move {
        store
            .begin_charge(held.id, who, &a, at(seconds))
            .await
            .unwrap()
    };
    let refused = |begun: Begun| match begun {
        Begun::Refused(Some((r, kept))) => (r.status, kept),
        other => panic!("began: {other:?}"),
    };

    // Another customer's request does not begin; what it finds is not theirs.
    let (status, _) = refused(begin(attempt("k", "h", 0), 0, "bia").await);
    assert_eq!(status, ReservationStatus::Held);
    // Two requests under one key at once: one charges, the other finds it charging.
    let (first, second) = futures::join!(
        begin(attempt("k", "h", 0), 0, "ana"),
        begin(attempt("k", "h", 0), 0, "ana")
    );
    let (charging, other) = match (first, second) {
        (Begun::Charging(r), other) | (other, Begun::Charging(r)) => (r, other),
        both => panic!("neither began: {both:?}"),
    };
    assert_eq!(charging.status, ReservationStatus::Charging);
    let (status, kept) = refused(other);
    assert_eq!(
        (status, kept.map(|k| k.key)),
        (ReservationStatus::Charging, Some("k".into()))
    );
    // Its process stops. Within the lease a retry waits; another key, or another request
    // under the key, does not begin; past the lease one retry takes over.
    assert_eq!(
        refused(begin(attempt("k", "h", 30), 30, "ana").await).0,
        ReservationStatus::Charging
    );
    for (key, hash) in [("k", "other"), ("k2", "h")] {
        assert_eq!(
            refused(begin(attempt(key, hash, 90), 90, "ana").await).0,
            ReservationStatus::Charging,
            "{key} {hash}"
        );
    }
    let (first, second) = futures::join!(
        begin(attempt("k", "h", 90), 90, "ana"),
        begin(attempt("k", "h", 90), 90, "ana")
    );
    let charging = match (first, second) {
        (Begun::Charging(r), Begun::Refused(_)) | (Begun::Refused(_), Begun::Charging(r)) => r,
        both => panic!("not one taker: {both:?}"),
    };
    // The provider did not answer: held again, free to run again under the key.
    let retry = CheckoutAttempt {
        retry: true,
        ..attempt("k", "h", 90)
    };
    let held_again = store.charge_undone(&charging, &retry).await.unwrap();
    assert!(matches!(
        begin(attempt("k", "h", 95), 95, "ana").await,
        Begun::Charging(_)
    ));
    // Declined: held again, the refusal kept; the key does not run again, another key does.
    let charging = Reservations::reservation(store, held_again.id)
        .await
        .unwrap()
        .unwrap();
    let declined = CheckoutAttempt {
        refusal: Some(StoredResponse {
            status: 402,
            body: "{}".into(),
            location: None,
        }),
        ..attempt("k", "h", 95)
    };
    store.charge_undone(&charging, &declined).await.unwrap();
    let (status, kept) = refused(begin(attempt("k", "h", 100), 100, "ana").await);
    assert_eq!(status, ReservationStatus::Held);
    assert_eq!(kept.and_then(|k| k.refusal).map(|r| r.status), Some(402));
    assert!(matches!(
        begin(attempt("k2", "h", 100), 100, "ana").await,
        Begun::Charging(_)
    ));
}
