//! A chaos sale through the local stack: customers hold, change add-ons, pay by card (approved,
//! declined, unanswered, slow), PIX and boleto, cancel, and join the flash-sale queue, while
//! notices arrive late, twice, replayed and out of order, the sweep runs, the clock jumps and
//! function processes are killed mid-request. Then the conservation audit must find nothing.
//!
//! Seeded: `CHAOS_SEED` (default below) chooses every customer's script and every fault;
//! `CHAOS_CUSTOMERS` (default 200) sets how many customers come.

mod support;

use std::{
    sync::{
        Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use bilheteria::{
    domain::{RequestStatus, payment::webhook_signature},
    payments::{DECLINED_CARD, SLOW_CARD, UNANSWERED_CARD},
};
use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use support::sale::{Sale, options};

const DEFAULT_SEED: u64 = 20_261_203;
const ROWS: u32 = 20;
const SEATS_PER_ROW: u32 = 25;
/// What the faults kill: the functions the sale keeps busy.
const KILLED: [&str; 8] = [
    "HoldSeatsFunction",
    "SetProductsFunction",
    "CheckoutFunction",
    "PaymentWebhookFunction",
    "CancelReservationFunction",
    "RequestTicketsFunction",
    "ProcessRequestsFunction",
    "ExpireHoldsFunction",
];
const APPROVED_CARD: &str = "4111111111111111";
/// Customers acting at once.
const CONCURRENCY: usize = 16;

/// One of the customer's reservations, if they have any.
fn pick(rng: &mut fastrand::Rng, mine: &[String]) -> Option<String> {
    (!mine.is_empty()).then(|| mine[rng.usize(0..mine.len())].clone())
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A provider notice, as it was signed when first sent, to send again later.
#[derive(Clone)]
struct Notice {
    body: String,
    signature: String,
}

struct Chaos<'a> {
    sale: &'a Sale,
    popcorn: String,
    soda: String,
    /// Notices the provider will send later (paid or failed PIX and boleto).
    later: Mutex<Vec<(String, String, &'static str)>>,
    /// Notices already sent, for replays.
    sent: Mutex<Vec<Notice>>,
    /// Checkouts whose answer was a fault, to retry under the same key later.
    retries: Mutex<Vec<(String, String, Value, String)>>,
    /// Answers by route and status.
    answers: Mutex<std::collections::BTreeMap<(String, u16), usize>>,
}

impl Chaos<'_> {
    async fn call(
        &self,
        method: Method,
        path: &str,
        who: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.sale.stack.api_url());
        let token = self.sale.stack.token(who, false);
        let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
        let kind = match path.ends_with("/checkout") {
            true => "POST checkout".to_owned(),
            false => format!("{method} {}", path.split('/').nth(1).unwrap_or_default()),
        };
        let (status, _, body) =
            support::call(&self.sale.http, url, method, Some(&token), body, &headers).await;
        *self
            .answers
            .lock()
            .unwrap()
            .entry((kind, status))
            .or_default() += 1;
        (status, body)
    }

    async fn notify(&self, reservation: &str, payment: &str, status: &str) -> u16 {
        let body = json!({"payment_id": payment, "reservation_id": reservation, "status": status})
            .to_string();
        let signature = webhook_signature(
            self.sale
                .stack
                .secret("PaymentWebhookSecret")
                .unwrap()
                .as_bytes(),
            self.sale.stack.now().timestamp(),
            body.as_bytes(),
        );
        let notice = Notice { body, signature };
        self.sent.lock().unwrap().push(notice.clone());
        let answered = self.send_notice(&notice).await;
        *self
            .answers
            .lock()
            .unwrap()
            .entry((format!("notice {status}"), answered))
            .or_default() += 1;
        answered
    }

    async fn send_notice(&self, notice: &Notice) -> u16 {
        self.sale
            .http
            .post(format!("{}/payments/webhook", self.sale.stack.api_url()))
            .header("content-type", "application/json")
            .header("x-bilheteria-signature", &notice.signature)
            .body(notice.body.clone())
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }

    /// One customer's visit, chosen by `rng`.
    async fn customer(&self, i: usize, mut rng: fastrand::Rng) {
        let who = format!("fan-{i:04}");
        let session = &self.sale.session;
        let mut mine: Vec<String> = Vec::new();
        for step in 0..rng.usize(1..=5) {
            // Most visits start with a hold; a fifth join the queue instead.
            let roll = match step {
                0 if rng.u8(0..5) > 0 => 0,
                _ => rng.u8(0..100),
            };
            let key = format!("{who}-{step}");
            match roll {
                0..30 => {
                    let body = if rng.bool() {
                        let seats: Vec<Value> = (0..rng.u32(1..=2))
                            .map(|_| {
                                let row = (b'A' + rng.u8(0..ROWS as u8)) as char;
                                let seat = format!("{row}-{}", rng.u32(1..=SEATS_PER_ROW));
                                json!({"sector": "plateia", "seat": seat})
                            })
                            .collect();
                        json!({ "seats": seats })
                    } else {
                        json!({"places": [{"sector": "pista", "quantity": rng.u32(1..=3)}]})
                    };
                    let keyed = rng.bool().then_some(key.as_str());
                    let path = format!("/sessions/{session}/holds");
                    let (status, held) = self
                        .call(Method::POST, &path, &who, Some(body.clone()), keyed)
                        .await;
                    if keyed.is_some() && rng.u8(0..5) == 0 {
                        // The answer was lost: the same hold, asked again.
                        self.call(Method::POST, &path, &who, Some(body), keyed)
                            .await;
                    }
                    if status == 201 {
                        mine.push(held["id"].as_str().unwrap_or_default().to_owned());
                    }
                }
                30..45 => {
                    if let Some(id) = pick(&mut rng, &mine) {
                        let items = json!({"items": [
                            {"product_id": self.popcorn, "quantity": rng.u32(0..=4)},
                            {"product_id": self.soda, "quantity": rng.u32(0..=3)}
                        ]});
                        let path = format!("/reservations/{id}/products");
                        self.call(Method::PUT, &path, &who, Some(items), None).await;
                    }
                }
                45..65 => {
                    if let Some(id) = pick(&mut rng, &mine) {
                        let number = match rng.u8(0..100) {
                            0..70 => APPROVED_CARD,
                            70..85 => DECLINED_CARD,
                            85..95 => UNANSWERED_CARD,
                            _ => SLOW_CARD,
                        };
                        let body = json!({"payment": {"method": "card", "number": number}});
                        let path = format!("/reservations/{id}/checkout");
                        let pay =
                            || self.call(Method::POST, &path, &who, Some(body.clone()), Some(&key));
                        let status = if rng.u8(0..5) == 0 {
                            // A double click.
                            futures::join!(pay(), pay()).0.0
                        } else {
                            pay().await.0
                        };
                        if status >= 500 {
                            let retry = (who.clone(), path.clone(), body.clone(), key.clone());
                            self.retries.lock().unwrap().push(retry);
                        }
                    }
                }
                65..78 => {
                    if let Some(id) = pick(&mut rng, &mine) {
                        let method = if rng.bool() { "pix" } else { "boleto" };
                        let body = json!({"payment": {"method": method}});
                        let path = format!("/reservations/{id}/checkout");
                        let (status, pending) = self
                            .call(Method::POST, &path, &who, Some(body), Some(&key))
                            .await;
                        let payment = pending["payment"]["id"].as_str().unwrap_or_default();
                        if status == 202 && !payment.is_empty() {
                            let outcome = if rng.u8(0..4) == 0 { "failed" } else { "paid" };
                            match rng.u8(0..3) {
                                0 => {
                                    self.notify(&id, payment, outcome).await;
                                }
                                1 => {
                                    // Sent twice at once by the provider.
                                    futures::join!(
                                        self.notify(&id, payment, outcome),
                                        self.notify(&id, payment, outcome)
                                    );
                                }
                                _ => self.later.lock().unwrap().push((
                                    id.clone(),
                                    payment.to_owned(),
                                    if outcome == "paid" { "paid" } else { "failed" },
                                )),
                            }
                        }
                    }
                }
                78..86 => {
                    if let Some(id) = pick(&mut rng, &mine) {
                        let path = format!("/reservations/{id}");
                        self.call(Method::DELETE, &path, &who, None, None).await;
                    }
                }
                _ => {
                    let sector = if rng.bool() { "plateia" } else { "pista" };
                    let body = json!({"sector": sector, "quantity": rng.u32(1..=3)});
                    let path = format!("/sessions/{session}/requests");
                    let keyed = rng.bool().then_some(key.as_str());
                    self.call(Method::POST, &path, &who, Some(body), keyed)
                        .await;
                }
            }
        }
    }

    /// Until `done`: sweeps, clock jumps and killed processes, chosen by `rng`.
    async fn faults(&self, mut rng: fastrand::Rng, done: &AtomicBool, kills: &AtomicUsize) {
        while !done.load(Ordering::SeqCst) {
            match rng.u8(0..100) {
                0..25 => {
                    self.sale.stack.tick("ExpireHoldsFunction").await.ok();
                }
                25..32 => {
                    let by = chrono::Duration::seconds(rng.i64(30..=400));
                    self.sale.stack.advance_clock(by).await;
                }
                32..50 if kills.load(Ordering::SeqCst) < 40 => {
                    // A process of one function, killed while it works.
                    let function = KILLED[rng.usize(0..KILLED.len())];
                    for _ in 0..200 {
                        let killed = self.sale.stack.lambda().kill_busy(function);
                        if killed > 0 {
                            kills.fetch_add(killed, Ordering::SeqCst);
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
                50..60 => {
                    let replay = {
                        let sent = self.sent.lock().unwrap();
                        (!sent.is_empty()).then(|| sent[rng.usize(0..sent.len())].clone())
                    };
                    if let Some(notice) = replay {
                        self.send_notice(&notice).await;
                    }
                }
                _ => {}
            }
            tokio::time::sleep(Duration::from_millis(rng.u64(5..40))).await;
        }
    }
}

#[tokio::test]
async fn a_chaos_sale_loses_nothing() {
    let seed = setting("CHAOS_SEED", DEFAULT_SEED);
    let customers = setting("CHAOS_CUSTOMERS", 200) as usize;
    let replay = format!(
        "CHAOS_SEED={seed} CHAOS_CUSTOMERS={customers} cargo nextest run -p bilheteria-tests --test chaos"
    );
    println!("chaos sale: {replay}");
    let sale = Sale::start(options(&[]), ROWS, SEATS_PER_ROW).await;
    let admin = sale.stack.token("organiser", true);
    let session = bilheteria::store::Catalog::session(&sale.store, sale.session.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut products = Vec::new();
    for (name, stock) in [("Pipoca", 60), ("Refrigerante", 25)] {
        let body =
            json!({"name": name, "category": "food", "price": {"cents": 1500}, "stock": stock});
        let url = format!(
            "{}/events/{}/products",
            sale.stack.api_url(),
            session.event_id
        );
        let (status, _, product) =
            support::call(&sale.http, url, Method::POST, Some(&admin), Some(body), &[]).await;
        assert_eq!(status, 201, "{product}");
        products.push(product["id"].as_str().unwrap().to_owned());
    }
    let chaos = Chaos {
        sale: &sale,
        popcorn: products[0].clone(),
        soda: products[1].clone(),
        later: Mutex::default(),
        sent: Mutex::default(),
        retries: Mutex::default(),
        answers: Mutex::default(),
    };
    let (done, kills) = (AtomicBool::new(false), AtomicUsize::new(0));
    let visits = async {
        futures::stream::iter(0..customers)
            .for_each_concurrent(CONCURRENCY, |i| {
                chaos.customer(i, fastrand::Rng::with_seed(seed ^ (i as u64 + 1)))
            })
            .await;
        done.store(true, Ordering::SeqCst);
    };
    futures::join!(
        visits,
        chaos.faults(fastrand::Rng::with_seed(seed), &done, &kills)
    );

    // The provider's late notices, in an order of their own, after a jump of the clock.
    sale.stack
        .advance_clock(chrono::Duration::seconds(120))
        .await;
    // Checkouts that got no answer are tried again under their key, past the claims' lease.
    let retries = std::mem::take(&mut *chaos.retries.lock().unwrap());
    for (who, path, body, key) in &retries {
        chaos
            .call(Method::POST, path, who, Some(body.clone()), Some(key))
            .await;
    }
    let mut later = std::mem::take(&mut *chaos.later.lock().unwrap());
    fastrand::Rng::with_seed(seed).shuffle(&mut later);
    for (reservation, payment, status) in &later {
        chaos.notify(reservation, payment, status).await;
    }
    // Past every hold: the sweep releases what was not paid; every queued request is decided.
    sale.stack
        .advance_clock(chrono::Duration::seconds(700))
        .await;
    let mut queued = usize::MAX;
    for _ in 0..120 {
        sale.stack.tick("ExpireHoldsFunction").await.ok();
        let records = sale.records().await;
        queued = records
            .iter()
            .filter(|r| r.status == RequestStatus::Queued)
            .count();
        if queued == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(queued, 0, "every queued request is decided ({replay})");
    let store = bilheteria::store::DynamoStore::new(sale.stack.dynamodb_sdk(), support::TABLE);
    let audit = store.audit(sale.stack.now()).await.unwrap();
    println!(
        "chaos sale: {customers} customers, {} processes killed, {} checkouts retried, {} late notices; {}",
        kills.load(Ordering::SeqCst),
        retries.len(),
        later.len(),
        audit.to_string().lines().next().unwrap_or_default()
    );
    for ((route, status), n) in chaos.answers.lock().unwrap().iter() {
        println!("chaos sale:   {route} → {status}: {n}");
    }
    assert!(audit.violations.is_empty(), "{audit}\nreplay: {replay}");
    sale.stack.stop().await;
}
