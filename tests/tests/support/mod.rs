//! What every test against the emulators needs: a fresh DynamoDB with the template's table, the
//! real store over it, and API Gateway payload 2.0 requests built as API Gateway builds them.

#![allow(dead_code)]

pub mod costs;
pub mod sale;

use std::collections::HashMap;

use aws_sdk_dynamodb::{Client, types::AttributeValue};
use bilheteria::{
    api::ApiError,
    bus::{DomainEvent, EventBus, Unpublished},
    config::Sales,
    domain::{
        Currency, Event, EventCategory, EventId, Invoice, MethodKind, Money, NewEvent, NewSession,
        Party, Product, ProductCategory, ProductId, Reservation, SaleWindow, Sector, SectorLayout,
        Session, SessionId, TicketSigner, reservation::PaymentRecord,
    },
    domain::{Discount, NewVoucher, RequestRecord, TicketRequest, Voucher, WaitlistEntry},
    queue::{QueueDepth, RequestQueue},
    store::{
        Begun, Catalog, CheckoutAttempt, Door, DynamoStore, Expiries, Requests, Reservations,
        StoreError, Vouchers, Waitlist,
    },
};
use chrono::{Duration, Utc};
use lambda_http::{Body, Request, Response};
use local::{
    dynamodb::{DynamoDb, Storage, create_table},
    template::Template,
};
use serde_json::{Value, json};

pub const TABLE: &str = "Table";

/// A DynamoDB emulator of this test's own, with the template's table, and the store over it.
pub struct Stack {
    pub dynamodb: DynamoDb,
    pub client: Client,
    pub store: DynamoStore,
}

impl Stack {
    pub async fn start() -> Self {
        Self::start_streamed(true).await
    }

    /// As `start`, with the table's stream or without it. The emulator numbers each stream
    /// record by reading every record before it, so a test that writes tens of thousands of
    /// items and never reads the stream leaves it off.
    pub async fn start_streamed(streamed: bool) -> Self {
        let dynamodb = DynamoDb::start("127.0.0.1:0".parse().unwrap(), Storage::Memory)
            .await
            .unwrap();
        let sdk = dynamodb.sdk_config().await;
        let client = Client::new(&sdk);
        let mut tables = Template::of_repository().unwrap().tables().unwrap();
        let mut table = tables.remove(TABLE).unwrap();
        if !streamed {
            table.stream_specification = None;
        }
        create_table(&client, TABLE, &table).await.unwrap();
        let store = DynamoStore::new(&sdk, TABLE);
        Self {
            dynamodb,
            client,
            store,
        }
    }

    /// Every item in the table as JSON, in a stable order: to assert that a refused request
    /// wrote nothing.
    pub async fn items(&self) -> Vec<Value> {
        items(&self.client).await
    }

    pub async fn seed_event(&self, id: &str) -> Event {
        Seeder(&self.store).event(id).await
    }

    pub async fn seed_session(
        &self,
        event: EventId,
        id: &str,
        rows: i64,
        seats_per_row: i64,
    ) -> Session {
        Seeder(&self.store)
            .session(event, id, rows, seats_per_row)
            .await
    }
}

/// The conservation audit (DESIGN.md §10) of the stack's table, on the functions' clock: fails
/// the test naming every violation, and every AWS call a function was refused.
pub async fn audit(stack: &local::stack::Stack) {
    let denied = stack.iam_denied();
    assert!(denied.is_empty(), "refused by IAM: {denied:#?}");
    undeclared_calls(stack);
    let store = DynamoStore::new(stack.dynamodb_sdk(), TABLE);
    let audit = store.audit(stack.now()).await.unwrap();
    assert!(audit.violations.is_empty(), "{audit}");
}

/// Fails the test if a function made an AWS call that `bilheteria::calls` does not list for its
/// binary (the reads of its event source mapping, Lambda's own, aside).
pub fn undeclared_calls(stack: &local::stack::Stack) {
    const LAMBDA_S_OWN: &[&str] = &[
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    ];
    let undeclared: Vec<String> = stack
        .iam_allowed()
        .into_iter()
        .filter(|c| !LAMBDA_S_OWN.contains(&c.request.action.as_str()))
        .filter(|c| {
            let binary = stack
                .functions()
                .iter()
                .find(|f| f.logical_id == c.principal)
                .map(|f| f.crate_name().to_owned())
                .unwrap_or_default();
            let calls = bilheteria::calls::of(&binary).unwrap_or_default();
            !calls.iter().any(|call| {
                call.action == c.request.action
                    && match call.on {
                        bilheteria::calls::On::Index(index) => {
                            c.request.resource.ends_with(&format!("/index/{index}"))
                        }
                        bilheteria::calls::On::Table => {
                            c.request.resource.ends_with(":table/Table")
                        }
                        _ => true,
                    }
            })
        })
        .map(|c| {
            format!(
                "{} {} {}",
                c.principal, c.request.action, c.request.resource
            )
        })
        .collect();
    assert!(
        undeclared.is_empty(),
        "calls not in bilheteria::calls: {undeclared:#?}"
    );
}

/// One call to the API as a client makes it: the status, the headers and the JSON body (null
/// when there is none).
pub async fn call(
    http: &reqwest::Client,
    url: String,
    method: reqwest::Method,
    token: Option<&str>,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = http.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let resp = request.send().await.unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    (status, headers, resp.json().await.unwrap_or(Value::Null))
}

/// A hold's body: numbered `seats` in `plateia`, and `places` in the general-admission `pista`.
pub fn hold_body(seats: &[&str], places: u32) -> Value {
    let seats: Vec<Value> = seats
        .iter()
        .map(|s| json!({"sector": "plateia", "seat": s}))
        .collect();
    let places: Vec<Value> = if places > 0 {
        vec![json!({"sector": "pista", "quantity": places})]
    } else {
        vec![]
    };
    json!({"seats": seats, "places": places})
}

/// Where reservation `id` stands.
pub async fn status(store: &DynamoStore, id: &str) -> bilheteria::domain::ReservationStatus {
    store
        .reservation(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .status
}

/// The seats of `sector` in `session` and their states, by label.
pub async fn seats_of(
    store: &DynamoStore,
    session: &str,
    sector: &str,
) -> Vec<(String, bilheteria::domain::SeatState)> {
    let session = store
        .session(session.parse().unwrap())
        .await
        .unwrap()
        .expect("the session");
    store
        .seats(&session, session.sector(sector).expect("the sector"))
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.label.to_string(), s.state))
        .collect()
}

/// Every item in the table as JSON, in a stable order.
pub async fn items(client: &Client) -> Vec<Value> {
    let items: Vec<HashMap<String, AttributeValue>> = client
        .scan()
        .table_name(TABLE)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    let mut items: Vec<Value> = items
        .into_iter()
        .map(|item| serde_dynamo::from_item(item).unwrap())
        .collect();
    items.sort_by_key(|item| format!("{}|{}", item["PK"], item["SK"]));
    items
}

pub const EVENT_ID: &str = "01JF000000000000000000EV01";
pub const SESSION_ID: &str = "01JF000000000000000000SE01";
pub const RESERVATION_ID: &str = "01JF000000000000000000RS01";
pub const PRODUCT_ID: &str = "01JF000000000000000000PR01";
pub const REQUEST_ID: &str = "01JF000000000000000000RQ01";
/// The customer the events/ files' claims name.
pub const CUSTOMER: &str = "7d2c4e1a-5b3f-4c8d-9e6a-1f2b3c4d5e6f";
/// The keys of the in-process handlers (a stack's come from its Secrets Manager: `Stack::secret`).
pub const TICKET_KEY: &str = "in-process-ticket-signing-key";
pub const WEBHOOK_SECRET: &str = "in-process-webhook-secret";

/// The events/ file of a function, as its trigger would send it now: a provider notice's
/// signature carries the time it was signed, so it is signed again, with `webhook_secret`.
pub fn event_file(crate_name: &str, webhook_secret: &str) -> String {
    let path = local::template::repository_root()
        .join("events")
        .join(format!("{crate_name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut event: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if event["headers"].get("x-bilheteria-signature").is_none() {
        return text;
    }
    let body = event["body"].as_str().unwrap_or_default().to_owned();
    event["headers"]["x-bilheteria-signature"] =
        Value::from(bilheteria::domain::payment::webhook_signature(
            webhook_secret.as_bytes(),
            Utc::now().timestamp(),
            body.as_bytes(),
        ));
    event.to_string()
}

/// A bus that keeps what it is given, and refuses everything from the `refuse_from`th event on
/// (counting every event it was ever given).
#[derive(Debug, Default)]
pub struct KeptEvents {
    kept: std::sync::Mutex<Vec<DomainEvent>>,
    refuse_from: Option<usize>,
}

impl KeptEvents {
    pub fn refusing_from(n: usize) -> Self {
        Self {
            refuse_from: Some(n),
            ..Self::default()
        }
    }

    pub fn events(&self) -> Vec<DomainEvent> {
        self.kept.lock().unwrap().clone()
    }
}

impl EventBus for KeptEvents {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), Unpublished> {
        let mut kept = self.kept.lock().unwrap();
        for (i, e) in events.iter().enumerate() {
            if self.refuse_from.is_some_and(|n| kept.len() >= n) {
                return Err(Unpublished { first: i });
            }
            kept.push(e.clone());
        }
        Ok(())
    }
}

/// Records the public half of the stack's ticket key, as the functions that sign tickets do when
/// they start: a test that compares the table before and after a checkout then sees only what
/// the checkout wrote.
pub async fn publish_ticket_key(stack: &local::stack::Stack, store: &DynamoStore) {
    let signer = TicketSigner::new(stack.secret("TicketSigningKey").unwrap());
    store.publish_door_keys(&signer.door_keys()).await.unwrap();
}

/// The in-process handlers' ticket signing key.
pub fn signer() -> TicketSigner {
    TicketSigner::new(TICKET_KEY.as_bytes())
}

/// The in-process handlers' webhook secrets.
pub fn webhook_secrets() -> Vec<Vec<u8>> {
    vec![WEBHOOK_SECRET.as_bytes().to_vec()]
}

/// The sales settings the local stack gives the functions.
pub fn sales() -> Sales {
    Sales {
        hold: Duration::seconds(600),
        waitlist_offer: Duration::seconds(1_800),
        seller: Party {
            name: "bilheteria".into(),
            tax_id: None,
        },
    }
}

/// What each events/ file expects to find: the catalog, and the reservation it names in the
/// state its route needs.
pub async fn seed_for_event_file<
    S: Catalog + Reservations + Requests + Door + Vouchers + Waitlist + Expiries,
>(
    store: &S,
    function: &str,
) {
    let seeder = Seeder(store);
    let event = seeder.event(EVENT_ID).await;
    // The waiting list's files find `pista` sold out: its one place held by another fan.
    let waits = function.contains("waitlist");
    let session = seeder
        .session_standing(event.id, SESSION_ID, 20, 30, if waits { 1 } else { 2_000 })
        .await;
    if waits {
        let early = seeder
            .held(
                &session,
                "01JF000000000000000000RS09",
                "early-fan",
                &[],
                &[("pista", 1)],
            )
            .await;
        if function != "join-waitlist" {
            let entry = WaitlistEntry::join(&session, "pista", CUSTOMER, 1, Utc::now()).unwrap();
            assert!(store.join(&entry).await.unwrap());
        }
        if function == "offer-waitlist" {
            // The early fan's hold lapses: its place is kept for the line, which the event serves.
            let later = early.expires_at + Duration::seconds(1);
            store
                .expire(&early, &Default::default(), later)
                .await
                .unwrap();
        }
    }
    seeder.product(event.id, PRODUCT_ID, Some(100)).await;
    if function == "check-in" {
        // `events/check-in.json` holds a code signed with the in-process key.
        store
            .publish_door_keys(&signer().door_keys())
            .await
            .unwrap();
    }
    let needs_hold = [
        "set-products",
        "checkout",
        "cancel-reservation",
        "get-reservation",
        "payment-webhook",
        "get-invoice",
        "list-my-tickets",
        "list-my-reservations",
        "list-customer-reservations",
        "get-reservation-history",
        "mark-refunded",
        "cancel-sale",
        "apply-voucher",
        "remove-voucher",
    ];
    let voucher = Voucher::create(
        event.id,
        NewVoucher {
            code: "VERAO20".into(),
            discount: Discount::Percent(20),
            sectors: vec!["plateia".into()],
            valid_from: None,
            valid_until: None,
            max_uses: 100,
            max_per_customer: Some(2),
        },
        Utc::now(),
    )
    .unwrap();
    if ["change-voucher", "apply-voucher", "remove-voucher"].contains(&function) {
        assert!(store.create_voucher(&voucher).await.unwrap());
    }
    if function == "get-request" || function == "get-sales-queue" {
        let request = TicketRequest {
            request_id: REQUEST_ID.parse().unwrap(),
            customer: CUSTOMER.into(),
            session_id: session.id,
            sector: "plateia".to_string().try_into().unwrap(),
            quantity: 2,
            requested_at: Utc::now(),
            number: Some(8),
        };
        store
            .queue_request(RequestRecord::queued(request))
            .await
            .unwrap();
    }
    if !needs_hold.contains(&function) {
        return;
    }
    let held = seeder
        .held(
            &session,
            RESERVATION_ID,
            CUSTOMER,
            &[("plateia", "A-1"), ("plateia", "A-2")],
            &[("pista", 1)],
        )
        .await;
    let now = Utc::now();
    let amount = held.total().unwrap();
    match function {
        "payment-webhook" => {
            let payment = PaymentRecord {
                id: format!("pay_{}_pix", held.id).to_lowercase(),
                method: MethodKind::Pix,
                amount,
                instructions: Some("000201".into()),
            };
            let attempt = CheckoutAttempt {
                key: "seed".into(),
                hash: "seed".into(),
                claimed_at: now.timestamp(),
                retry: false,
                refusal: None,
            };
            let Begun::Charging(charging) = store
                .begin_charge(held.id, CUSTOMER, &attempt, now)
                .await
                .unwrap()
            else {
                panic!("the seeded hold could not begin charging");
            };
            store.await_payment(&charging, payment).await.unwrap();
        }
        "get-invoice" | "list-my-tickets" | "cancel-sale" => {
            let payment = PaymentRecord {
                id: "pay_seed".into(),
                method: MethodKind::Card,
                amount,
                instructions: None,
            };
            let tickets = signer().issue(&held, now);
            let invoice =
                Invoice::for_reservation(&held, &sales().seller, amount, MethodKind::Card, now);
            store
                .confirm(&held, payment, &tickets, &invoice, &Default::default(), now)
                .await
                .unwrap();
        }
        "remove-voucher" => {
            let applied = voucher.apply_to(&held, now).unwrap();
            store
                .apply_voucher(&held, &voucher, applied, now)
                .await
                .unwrap();
        }
        "mark-refunded" => {
            let payment = PaymentRecord {
                id: "pay_seed".into(),
                method: MethodKind::Card,
                amount,
                instructions: None,
            };
            let reason = "paid after the seats were sold again";
            store
                .refund_required(&held, payment, reason, &Default::default())
                .await
                .unwrap();
        }
        _ => {}
    }
}

/// Seeds the catalog through any store, with known ids (those the events/ files name).
pub struct Seeder<'a, C: Catalog>(pub &'a C);

impl<C: Catalog> Seeder<'_, C> {
    /// A product of `event` with a known id.
    pub async fn product(&self, event: EventId, id: &str, stock: Option<u32>) -> Product {
        let product = Product {
            id: id.parse::<ProductId>().unwrap(),
            event_id: event,
            name: "Pipoca grande".into(),
            category: ProductCategory::Food,
            price: Money::price(2_800, Currency::BRL).unwrap(),
            stock,
            sold: 0,
            created_at: Utc::now(),
        };
        self.0.put_product(&product).await.unwrap();
        product
    }

    /// An event stored with a known id.
    pub async fn event(&self, id: &str) -> Event {
        let mut event = Event::create(
            NewEvent {
                name: "Rock in Rio 2027".into(),
                venue: "Parque Olímpico".into(),
                category: EventCategory::Festival,
                description: None,
            },
            Utc::now(),
        )
        .unwrap();
        event.id = id.parse().unwrap();
        self.0.put_event(&event).await.unwrap();
        event
    }

    /// A session on sale now, with a numbered sector `plateia` (rows × seats) and a general
    /// admission sector `pista` (2,000 places).
    pub async fn session(
        &self,
        event: EventId,
        id: &str,
        rows: i64,
        seats_per_row: i64,
    ) -> Session {
        self.session_standing(event, id, rows, seats_per_row, 2_000)
            .await
    }

    /// The same session with `standing` places in `pista`.
    pub async fn session_standing(
        &self,
        event: EventId,
        id: &str,
        rows: i64,
        seats_per_row: i64,
        standing: i64,
    ) -> Session {
        let now = Utc::now();
        let price = |cents| Money::price(cents, Currency::BRL).unwrap();
        let sectors = vec![
            Sector::create(
                "plateia".into(),
                "Plateia",
                price(25_000),
                SectorLayout::numbered(rows, seats_per_row, vec![]).unwrap(),
            )
            .unwrap(),
            Sector::create(
                "pista".into(),
                "Pista",
                price(18_000),
                SectorLayout::general_admission(standing).unwrap(),
            )
            .unwrap(),
        ];
        let new = NewSession {
            sale_mode: Default::default(),
            max_waiting_per_customer: None,
            starts_at: now + Duration::days(30),
            sale: SaleWindow {
                starts_at: now - Duration::hours(1),
                ends_at: now + Duration::days(29),
            },
            max_tickets_per_customer: None,
            sectors,
        };
        let mut session = Session::create(event, new, now).unwrap();
        session.id = id.parse::<SessionId>().unwrap();
        self.0.put_session(&session).await.unwrap();
        session
    }
}

/// Who sends a request: nobody, a customer, or an administrator.
#[derive(Clone, Copy, Debug)]
pub enum Caller<'a> {
    Anonymous,
    Customer(&'a str),
    Admin(&'a str),
}

/// An API Gateway HTTP API (payload 2.0) request for `route_key` such as `POST /events/{id}/sessions`.
pub fn request(
    caller: Caller,
    route_key: &str,
    path_params: &[(&str, &str)],
    query: &[(&str, &str)],
    body: Option<&str>,
) -> Request {
    let (method, route) = route_key.split_once(' ').unwrap();
    let mut raw_path = route.to_owned();
    for (k, v) in path_params {
        raw_path = raw_path.replace(&format!("{{{k}}}"), v);
    }
    let raw_query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query.join("&"),
        "headers": {"content-type": "application/json", "host": "api.bilheteria.test"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "api.bilheteria.test",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "tests"},
            "requestId": "test",
            "routeKey": route_key,
            "stage": "$default",
            "time": "23/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1_795_435_200_000u64
        },
        "isBase64Encoded": false
    });
    if !path_params.is_empty() {
        event["pathParameters"] = path_params
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect();
    }
    if !query.is_empty() {
        event["queryStringParameters"] = query
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect();
    }
    if let Some(body) = body {
        event["body"] = Value::from(body);
    }
    let claims = match caller {
        Caller::Anonymous => None,
        Caller::Customer(sub) => Some(json!({"sub": sub, "token_use": "id"})),
        Caller::Admin(sub) => {
            Some(json!({"sub": sub, "cognito:groups": "[admin]", "token_use": "id"}))
        }
    };
    if let Some(claims) = claims {
        event["requestContext"]["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
    }
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

/// A handler's response, with its error mapped as the function binaries map it.
pub fn outcome(result: Result<Response<Body>, ApiError>) -> (u16, Value, Option<String>) {
    if let Err(e @ (ApiError::Internal(_) | ApiError::Unavailable(_))) = &result {
        eprintln!("handler failed: {e:?}");
    }
    let resp = result.unwrap_or_else(ApiError::into_response);
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = serde_json::from_slice(resp.body().as_ref()).unwrap_or(Value::Null);
    (resp.status().as_u16(), body, content_type)
}

impl<C: Catalog + Reservations> Seeder<'_, C> {
    /// A reservation with a known id, held now for `customer`.
    pub async fn held(
        &self,
        session: &Session,
        id: &str,
        customer: &str,
        seats: &[(&str, &str)],
        places: &[(&str, i64)],
    ) -> Reservation {
        let now = Utc::now();
        let seats = seats
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let places = places.iter().map(|(a, q)| (a.to_string(), *q)).collect();
        let mut reservation = Reservation::plan_hold(
            session,
            customer,
            seats,
            places,
            now,
            Duration::seconds(600),
        )
        .unwrap();
        reservation.id = id.parse().unwrap();
        self.0
            .hold(&reservation, session.max_tickets_per_customer, now)
            .await
            .unwrap();
        reservation
    }
}

/// A queue that keeps what is sent, for handler tests that run without SQS.
#[derive(Default)]
pub struct KeptQueue(pub std::sync::Mutex<Vec<TicketRequest>>);

impl RequestQueue for KeptQueue {
    async fn send(&self, request: &TicketRequest) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(request.clone());
        Ok(())
    }

    async fn depth(&self) -> Result<QueueDepth, StoreError> {
        Ok(QueueDepth {
            waiting: self.0.lock().unwrap().len() as u64,
            ..QueueDepth::default()
        })
    }
}
