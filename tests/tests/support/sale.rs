//! A flash sale on the local stack, shared by the flash-sale and fault tests: the sale, its
//! requests and holds over HTTP, and the checks every sale must pass.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use bilheteria::{
    domain::{RequestRecord, RequestStatus, SeatState},
    store::DynamoStore,
};
use futures::future::join_all;
use local::stack::{Options, Stack};
use serde_json::{Value, json};

pub struct Sale {
    pub stack: Stack,
    pub http: reqwest::Client,
    pub store: DynamoStore,
    pub session: String,
}

pub const LIMIT: u32 = 6;
/// Requests a customer may have waiting: the rushes post four a customer at once.
pub const WAITING: u32 = 4;
/// Places in the sale's general-admission sector, `pista`.
pub const PISTA: u32 = 5;

/// The most numbered seats a session holds (`MAX_SEATS_PER_SESSION`): `plateia`, 20,000 seats in
/// rows of 100, and `norte`, 30,000 in rows of 150.
pub fn stadium() -> Value {
    json!({
        "starts_at": "2030-09-10T20:00:00Z", "sale_starts_at": "2026-01-01T00:00:00Z", "sale_ends_at": "2030-09-10T18:00:00Z",
        "sectors": [
            {"code": "plateia", "name": "Arquibancada Sul", "kind": "numbered", "rows": 200, "seats_per_row": 100, "price": {"cents": 30000}},
            {"code": "norte", "name": "Arquibancada Norte", "kind": "numbered", "rows": 200, "seats_per_row": 150, "price": {"cents": 25000}}
        ]
    })
}

/// What a rush of requests measured.
pub struct Rush {
    pub requests: usize,
    /// Queued (202); the others were refused at the door, the sector sold out already.
    pub accepted: usize,
    pub fulfilled: usize,
    /// Until the last POST was answered.
    pub posted: Duration,
    /// Until the last request was decided.
    pub decided: Duration,
    /// From each request's POST to its decision, sorted.
    pub latencies_ms: Vec<i64>,
}

impl Rush {
    /// Requests decided a second, end to end.
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.decided.as_secs_f64()
    }

    /// The `p` quantile (0 to 1) of POST → decision, in milliseconds.
    pub fn latency_ms(&self, p: f64) -> i64 {
        let last = self.latencies_ms.len().saturating_sub(1);
        self.latencies_ms
            .get((last as f64 * p).round() as usize)
            .copied()
            .unwrap_or(0)
    }
}

impl std::fmt::Display for Rush {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "flash sale: {} requests, {} queued ({} refused at the door, sold out), {} fulfilled, posted in {:.1} s, all decided in {:.1} s = {:.0} requests/s end to end; POST→decision p50 {} ms, p99 {} ms",
            self.requests,
            self.accepted,
            self.requests - self.accepted,
            self.fulfilled,
            self.posted.as_secs_f64(),
            self.decided.as_secs_f64(),
            self.rate(),
            self.latency_ms(0.5),
            self.latency_ms(0.99)
        )
    }
}

/// The options of a sale's stack: two-second visibility (a failed batch comes back soon), eight
/// instances a function, `env` for every function.
pub fn options(env: &[(&str, &str)]) -> Options {
    Options {
        visibility_timeout: Some(2),
        max_instances: 8,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Options::default()
    }
}

/// A stack with an event and one numbered sector of `rows` × `seats`, on sale now.
pub async fn sale(rows: u32, seats: u32, env: &[(&str, &str)]) -> Sale {
    Sale::start(options(env), rows, seats).await
}

impl Sale {
    pub async fn start(options: Options, rows: u32, seats: u32) -> Sale {
        Self::start_until(options, rows, seats, "2030-09-10T18:00:00Z").await
    }

    /// A sale whose window closes at `sale_ends_at` (RFC 3339).
    pub async fn start_until(options: Options, rows: u32, seats: u32, sale_ends_at: &str) -> Sale {
        let extra = json!({"sale_ends_at": sale_ends_at});
        Self::start_with(options, rows, seats, extra).await
    }

    /// A sale whose session also has the fields of `extra` (e.g. its `sale_mode`).
    pub async fn start_with(options: Options, rows: u32, seats: u32, extra: Value) -> Sale {
        let stack = Stack::start(options)
            .await
            .expect("the stack starts with ministack");
        let mut sale = Sale {
            store: DynamoStore::new(stack.dynamodb_sdk(), "Table"),
            stack,
            http: reqwest::Client::new(),
            session: String::new(),
        };
        let admin = sale.stack.token("organiser", true);
        let event = json!({"name": "Flash", "venue": "Estádio", "category": "show"});
        let (_, _, event) = sale.send("/events", &admin, event, &[]).await;
        let mut body = json!({
            "starts_at": "2030-09-10T20:00:00Z", "sale_starts_at": "2026-01-01T00:00:00Z", "sale_ends_at": "2030-09-10T18:00:00Z",
            "max_tickets_per_customer": LIMIT, "max_waiting_per_customer": WAITING,
            "sectors": [
                {"code": "plateia", "name": "Plateia", "kind": "numbered", "rows": rows, "seats_per_row": seats, "price": {"cents": 30000}},
                {"code": "pista", "name": "Pista", "kind": "general_admission", "capacity": PISTA, "price": {"cents": 18000}}
            ]
        });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let path = format!("/events/{}/sessions", event["id"].as_str().unwrap());
        let (_, _, session) = sale.send(&path, &admin, body, &[]).await;
        sale.session = session["id"].as_str().unwrap().to_owned();
        sale
    }

    /// Stops the whole stack and starts it again with `options` (a persistent one comes back
    /// with its data), the same sale.
    pub async fn restart(self, options: Options) -> Sale {
        self.stack.stop().await;
        let stack = Stack::start(options).await.expect("the stack starts again");
        Sale {
            store: DynamoStore::new(stack.dynamodb_sdk(), "Table"),
            stack,
            http: self.http,
            session: self.session,
        }
    }

    /// The sale's session as the table has it.
    pub async fn stored_session(&self) -> bilheteria::domain::Session {
        use bilheteria::store::Catalog;
        let id = self.session.parse().unwrap();
        self.store.session(id).await.unwrap().unwrap()
    }

    /// `POST path` with `body` as `customer`, and any `headers`: the status, the headers, the body.
    pub async fn post(
        &self,
        path: &str,
        customer: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let token = self.stack.token(customer, false);
        self.send(path, &token, body, headers).await
    }

    /// Another session of the sale's event, created by its organiser: the status, the body and
    /// how long the create took.
    pub async fn add_session(&self, body: Value) -> (u16, Value, Duration) {
        let event = self.stored_session().await.event_id;
        let admin = self.stack.token("organiser", true);
        let started = std::time::Instant::now();
        let path = format!("/events/{event}/sessions");
        let (status, _, body) = self.send(&path, &admin, body, &[]).await;
        (status, body, started.elapsed())
    }

    /// `POST path` with `body` and a bearer `token`.
    async fn send(
        &self,
        path: &str,
        token: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let url = format!("{}{path}", self.stack.api_url());
        super::call(
            &self.http,
            url,
            reqwest::Method::POST,
            Some(token),
            Some(body),
            headers,
        )
        .await
    }

    /// A flash-sale request for `quantity` seats.
    pub async fn request(&self, customer: &str, quantity: u32) -> (u16, Value) {
        self.request_in("plateia", customer, quantity).await
    }

    /// A flash-sale request for `quantity` seats or places of `sector`.
    pub async fn request_in(&self, sector: &str, customer: &str, quantity: u32) -> (u16, Value) {
        let path = format!("/sessions/{}/requests", self.session);
        let body = json!({"sector": sector, "quantity": quantity});
        let (status, _, body) = self.post(&path, customer, body, &[]).await;
        (status, body)
    }

    /// The request `id` once it is decided (or as it stands when the deadline passes).
    pub async fn decision(&self, id: &str) -> RequestRecord {
        let started = Instant::now();
        loop {
            let record = self
                .records()
                .await
                .into_iter()
                .find(|r| r.request.request_id.to_string() == id);
            if let Some(record) = record
                && (record.is_decided() || started.elapsed() > Duration::from_secs(60))
            {
                return record;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A direct hold of one seat.
    pub async fn hold(&self, customer: &str, seat: &str) -> (u16, Value) {
        let path = format!("/sessions/{}/holds", self.session);
        let body = json!({"seats": [{"sector": "plateia", "seat": seat}]});
        let (status, _, body) = self.post(&path, customer, body, &[]).await;
        (status, body)
    }

    /// Pays `reservation` by card (an approving test card).
    pub async fn pay(&self, customer: &str, reservation: &str) -> (u16, Value) {
        let path = format!("/reservations/{reservation}/checkout");
        let body = json!({"payment": {"method": "card", "number": "4111111111111111"}});
        let key = format!("pay-{reservation}");
        let (status, _, body) = self
            .post(&path, customer, body, &[("idempotency-key", &key)])
            .await;
        (status, body)
    }

    /// `GET path` as `customer`.
    pub async fn get(&self, path: &str, customer: &str) -> (u16, Value) {
        self.get_as(path, &self.stack.token(customer, false)).await
    }

    /// `GET path` with `token` (an organiser's, door staff's).
    pub async fn get_as(&self, path: &str, token: &str) -> (u16, Value) {
        let url = format!("{}{path}", self.stack.api_url());
        let (status, _, body) = super::call(
            &self.http,
            url,
            reqwest::Method::GET,
            Some(token),
            None,
            &[],
        )
        .await;
        (status, body)
    }

    /// `requests` flash-sale requests from `customers` customers (one to three seats each), all
    /// POSTed at once, then waited for until every one is decided.
    pub async fn rush(&self, requests: usize, customers: usize) -> (Rush, Vec<RequestRecord>) {
        let asks: Vec<(String, u32)> = (0..requests)
            .map(|i| (format!("fan-{:03}", i % customers), 1 + (i as u32 * 7) % 3))
            .collect();
        let started = Instant::now();
        let answers = join_all(asks.iter().map(|(c, q)| self.request(c, *q))).await;
        let posted = started.elapsed();
        let accepted = queued(answers.iter().map(|(s, b)| (*s, b)));
        let records = self.decided(accepted, Duration::from_secs(300)).await;
        let decided = started.elapsed();
        let mut latencies_ms: Vec<i64> = records
            .iter()
            .filter_map(|r| Some((r.decided_at? - r.request.requested_at).num_milliseconds()))
            .collect();
        latencies_ms.sort_unstable();
        let rush = Rush {
            requests,
            accepted,
            fulfilled: records
                .iter()
                .filter(|r| r.status == RequestStatus::Fulfilled)
                .count(),
            posted,
            decided,
            latencies_ms,
        };
        (rush, records)
    }

    /// Every request record, once none is QUEUED any more (or the deadline passes).
    pub async fn decided(&self, expected: usize, deadline: Duration) -> Vec<RequestRecord> {
        let started = Instant::now();
        loop {
            let records = self.records().await;
            let decided = records.iter().filter(|r| r.is_decided()).count();
            if decided >= expected || started.elapsed() > deadline {
                return records;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    pub async fn records(&self) -> Vec<RequestRecord> {
        let client = aws_sdk_dynamodb::Client::new(self.stack.dynamodb_sdk());
        super::items(&client)
            .await
            .into_iter()
            .filter(|i| {
                i["PK"]
                    .as_str()
                    .is_some_and(|pk| pk.starts_with("REQUEST#"))
            })
            .map(|i| serde_json::from_value(i).unwrap())
            .collect()
    }

    pub async fn seats(&self) -> Vec<(String, SeatState)> {
        super::seats_of(&self.store, &self.session, "plateia").await
    }
}

/// How many of a sale's answers to requests queued them: each is 202, or 409 `SOLD_OUT` (turned
/// away at the door once the sector was marked sold out).
pub fn queued<'a>(answers: impl Iterator<Item = (u16, &'a Value)>) -> usize {
    let mut accepted = 0;
    for (status, body) in answers {
        match status {
            202 => accepted += 1,
            409 => assert_eq!(body["code"], "SOLD_OUT", "{body}"),
            _ => panic!("a request answered {status}: {body}"),
        }
    }
    accepted
}

pub fn holder(state: &SeatState) -> Option<String> {
    match state {
        SeatState::Held { reservation, .. } | SeatState::Sold { reservation } => {
            Some(reservation.to_string())
        }
        SeatState::Free | SeatState::Kept => None,
    }
}

/// What serving `records` strictly in queue order must give: each request fulfilled when enough
/// seats are left and its customer stays within the limit.
pub fn served_in_order(records: &[RequestRecord], capacity: u32) -> HashSet<String> {
    let mut ordered: Vec<&RequestRecord> = records.iter().collect();
    ordered.sort_by_key(|r| {
        r.sequence
            .as_deref()
            .and_then(|s| s.parse::<u128>().ok())
            .unwrap_or(u128::MAX)
    });
    let (mut left, mut per_customer) = (capacity, HashMap::<&str, u32>::new());
    let mut fulfilled = HashSet::new();
    for r in ordered {
        let had = per_customer.entry(r.request.customer.as_str()).or_default();
        if r.request.quantity <= left && *had + r.request.quantity <= LIMIT {
            left -= r.request.quantity;
            *had += r.request.quantity;
            fulfilled.insert(r.request.request_id.to_string());
        }
    }
    fulfilled
}

/// The checks every sale must pass; returns the fulfilled request ids.
pub async fn check(
    sale: &Sale,
    records: &[RequestRecord],
    sent: usize,
    capacity: u32,
) -> HashSet<String> {
    assert_eq!(records.len(), sent, "every accepted request has a record");
    let queued: Vec<_> = records
        .iter()
        .filter(|r| r.status == RequestStatus::Queued)
        .map(|r| r.request.request_id)
        .collect();
    assert!(queued.is_empty(), "none stuck QUEUED: {queued:?}");
    assert!(
        records.iter().all(|r| r.sequence.is_some()),
        "every decision names its queue sequence"
    );

    let fulfilled: HashSet<String> = records
        .iter()
        .filter(|r| r.status == RequestStatus::Fulfilled)
        .map(|r| r.request.request_id.to_string())
        .collect();
    let seats = sale.seats().await;
    let mut seats_per_reservation: HashMap<String, u32> = HashMap::new();
    for (_, state) in &seats {
        if let Some(reservation) = holder(state) {
            *seats_per_reservation.entry(reservation).or_default() += 1;
        }
    }
    let queued_reservations: HashSet<&String> = seats_per_reservation
        .keys()
        .filter(|r| fulfilled.contains(*r))
        .collect();
    assert_eq!(
        queued_reservations.len(),
        fulfilled.len(),
        "each fulfilled request holds seats, once"
    );
    for r in records
        .iter()
        .filter(|r| r.status == RequestStatus::Fulfilled)
    {
        assert_eq!(
            seats_per_reservation[&r.request.request_id.to_string()],
            r.request.quantity,
            "the seats asked for, no more"
        );
    }
    let mut per_customer: HashMap<&str, u32> = HashMap::new();
    for r in records
        .iter()
        .filter(|r| r.status == RequestStatus::Fulfilled)
    {
        *per_customer.entry(&r.request.customer).or_default() += r.request.quantity;
    }
    assert!(
        per_customer.values().all(|n| *n <= LIMIT),
        "every customer within the limit"
    );
    let taken = seats.iter().filter(|(_, s)| holder(s).is_some()).count() as u32;
    assert!(taken <= capacity);
    fulfilled
}
