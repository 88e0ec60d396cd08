//! The catalog routes through their handlers against the emulator: what an organiser and a
//! customer see, and bad input refused with the right problem and nothing written.

mod support;

use bilheteria::api::catalog;
use serde_json::{Value, json};
use support::{Caller, Stack, outcome, request};

const ADMIN: Caller = Caller::Admin("organiser-1");
const CUSTOMER: Caller = Caller::Customer("alice");

fn session_body() -> Value {
    json!({
        "starts_at": "2030-09-10T20:00:00Z",
        "sale_starts_at": "2026-01-01T12:00:00Z",
        "sale_ends_at": "2030-09-10T18:00:00Z",
        "sectors": [
            {"code": "plateia", "name": "Plateia", "kind": "numbered", "rows": 3, "seats_per_row": 4,
             "gaps": ["A-1"], "price": {"cents": 25000}},
            {"code": "pista", "name": "Pista", "kind": "general_admission", "capacity": 50,
             "price": {"cents": 18000, "currency": "BRL"}}
        ]
    })
}

async fn create_event(stack: &Stack) -> String {
    let body = json!({"name": "Coldplay", "venue": "Morumbi", "category": "show"}).to_string();
    let req = request(ADMIN, "POST /events", &[], &[], Some(&body));
    let (status, event, _) = outcome(catalog::create_event(req, &stack.store).await);
    assert_eq!(status, 201, "{event}");
    event["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_organiser_builds_a_catalog_that_a_customer_browses() {
    let stack = Stack::start().await;
    let event_id = create_event(&stack).await;

    let body = session_body().to_string();
    let req = request(
        ADMIN,
        "POST /events/{id}/sessions",
        &[("id", &event_id)],
        &[],
        Some(&body),
    );
    let (status, session, _) = outcome(catalog::create_session(req, &stack.store).await);
    assert_eq!(status, 201, "{session}");
    let session_id = session["id"].as_str().unwrap().to_owned();
    assert_eq!(session["max_tickets_per_customer"], 6);
    assert_eq!(session["sectors"][0]["capacity"], 11);

    let body =
        json!({"name": "Pipoca", "category": "food", "price": {"cents": 2800}, "stock": 100})
            .to_string();
    let req = request(
        ADMIN,
        "POST /events/{id}/products",
        &[("id", &event_id)],
        &[],
        Some(&body),
    );
    let (status, product, _) = outcome(catalog::create_product(req, &stack.store).await);
    assert_eq!(status, 201, "{product}");
    assert_eq!(product["price"], json!({"cents": 2800, "currency": "BRL"}));

    let (status, list, _) = outcome(
        catalog::list_events(
            request(CUSTOMER, "GET /events", &[], &[], None),
            &stack.store,
        )
        .await,
    );
    assert_eq!(status, 200);
    assert_eq!(list["items"][0]["id"], event_id.as_str());
    assert_eq!(list["next"], Value::Null);

    let req = request(
        Caller::Anonymous,
        "GET /events/{id}",
        &[("id", &event_id)],
        &[],
        None,
    );
    let (status, event, _) = outcome(catalog::get_event(req, &stack.store).await);
    assert_eq!(status, 200);
    assert_eq!(event["name"], "Coldplay");
    assert_eq!(event["sessions"][0]["id"], session_id.as_str());
    assert_eq!(event["sessions"][0]["on_sale"], true);

    let req = request(
        CUSTOMER,
        "GET /sessions/{id}",
        &[("id", &session_id)],
        &[],
        None,
    );
    let (status, session, _) = outcome(catalog::get_session(req, &stack.store).await);
    assert_eq!(status, 200);
    assert_eq!(session["sectors"][0]["available"], 11);
    assert_eq!(session["sectors"][1]["available"], 50);
    assert_eq!(session["sectors"][1]["kind"], "general_admission");

    let params = [("id", session_id.as_str()), ("sector", "plateia")];
    let req = request(
        CUSTOMER,
        "GET /sessions/{id}/sectors/{sector}/seats",
        &params,
        &[],
        None,
    );
    let (status, map, _) = outcome(catalog::get_seat_map(req, &stack.store).await);
    assert_eq!(status, 200);
    let rows = map["map"].as_array().unwrap();
    let seats: usize = rows
        .iter()
        .map(|r| r["seats"].as_str().unwrap().matches('F').count())
        .sum();
    assert_eq!(seats, 11);
    assert_eq!(rows[0]["row"], "A");
    assert!(
        rows[0]["seats"].as_str().unwrap().starts_with(".F"),
        "A-1 is a gap, A-2 free: {}",
        rows[0]
    );

    let req = request(
        CUSTOMER,
        "GET /events/{id}/products",
        &[("id", &event_id)],
        &[],
        None,
    );
    let (status, products, _) = outcome(catalog::list_products(req, &stack.store).await);
    assert_eq!(status, 200);
    assert_eq!(products["items"][0]["name"], "Pipoca");

    // The created product's own route, and no other event's.
    let product_id = product["id"].as_str().unwrap();
    let route = "GET /events/{id}/products/{product}";
    let params = [("id", event_id.as_str()), ("product", product_id)];
    let req = request(Caller::Anonymous, route, &params, &[], None);
    let (status, read, _) = outcome(catalog::get_product(req, &stack.store).await);
    assert_eq!((status, &read), (200, &product));
    let params = [
        ("id", "01JF0000000000000000000000"),
        ("product", product_id),
    ];
    let req = request(Caller::Anonymous, route, &params, &[], None);
    let (status, problem, _) = outcome(catalog::get_product(req, &stack.store).await);
    assert_eq!((status, problem["code"].as_str()), (404, Some("NOT_FOUND")));
}

/// Sends a request that must be refused with `status` and `code`, and checks nothing was written.
async fn refused(
    stack: &Stack,
    status: u16,
    code: &str,
    resp: impl std::future::Future<Output = (u16, Value, Option<String>)>,
    before: &[Value],
) {
    let (got, body, content_type) = resp.await;
    assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{body}");
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    assert_eq!(body["status"], status);
    assert_eq!(
        stack.items().await,
        before,
        "a refused request wrote to the table"
    );
}

#[tokio::test]
async fn bad_event_input_is_refused_and_writes_nothing() {
    let stack = Stack::start().await;
    let before = stack.items().await;
    let create = |caller, body: &str| {
        let req = request(caller, "POST /events", &[], &[], Some(body));
        let store = &stack.store;
        async move { outcome(catalog::create_event(req, store).await) }
    };
    let good = r#"{"name":"Show","venue":"Arena","category":"show"}"#;
    refused(
        &stack,
        401,
        "UNAUTHORIZED",
        create(Caller::Anonymous, good),
        &before,
    )
    .await;
    refused(&stack, 403, "FORBIDDEN", create(CUSTOMER, good), &before).await;
    refused(
        &stack,
        400,
        "MALFORMED_REQUEST",
        create(ADMIN, r#"{"name":"Show","#),
        &before,
    )
    .await;
    refused(&stack, 400, "MALFORMED_REQUEST", create(ADMIN, ""), &before).await;
    refused(
        &stack,
        400,
        "MALFORMED_REQUEST",
        create(ADMIN, r#"{"name":7,"venue":"Arena","category":"show"}"#),
        &before,
    )
    .await;
    refused(
        &stack,
        400,
        "MALFORMED_REQUEST",
        create(
            ADMIN,
            r#"{"name":"Show","venue":"Arena","category":"opera"}"#,
        ),
        &before,
    )
    .await;
    refused(
        &stack,
        400,
        "MALFORMED_REQUEST",
        create(
            ADMIN,
            r#"{"name":"Show","venue":"Arena","category":"show","vip":true}"#,
        ),
        &before,
    )
    .await;
    refused(
        &stack,
        422,
        "INVALID_INPUT",
        create(ADMIN, r#"{"name":"  ","venue":"Arena","category":"show"}"#),
        &before,
    )
    .await;
    let huge = format!(
        r#"{{"name":"Show","venue":"Arena","category":"show","description":"{}"}}"#,
        "x".repeat(70_000)
    );
    refused(
        &stack,
        413,
        "PAYLOAD_TOO_LARGE",
        create(ADMIN, &huge),
        &before,
    )
    .await;
}

#[tokio::test]
async fn bad_session_input_is_refused_and_writes_nothing() {
    let stack = Stack::start().await;
    let event_id = create_event(&stack).await;
    let before = stack.items().await;
    let create = |caller, id: String, body: Value| {
        let body = body.to_string();
        let req = request(
            caller,
            "POST /events/{id}/sessions",
            &[("id", &id)],
            &[],
            Some(&body),
        );
        let store = &stack.store;
        async move { outcome(catalog::create_session(req, store).await) }
    };
    let with = |pointer: &str, value: Value| {
        let mut body = session_body();
        *body.pointer_mut(pointer).unwrap() = value;
        body
    };
    let id = || event_id.clone();
    refused(
        &stack,
        403,
        "FORBIDDEN",
        create(CUSTOMER, id(), session_body()),
        &before,
    )
    .await;
    refused(
        &stack,
        404,
        "NOT_FOUND",
        create(ADMIN, "01JF0000000000000000000000".into(), session_body()),
        &before,
    )
    .await;
    refused(
        &stack,
        404,
        "NOT_FOUND",
        create(ADMIN, "not-an-id".into(), session_body()),
        &before,
    )
    .await;
    refused(
        &stack,
        422,
        "INVALID_INPUT",
        create(ADMIN, id(), with("/sectors/1/capacity", json!(0))),
        &before,
    )
    .await;
    refused(
        &stack,
        422,
        "INVALID_INPUT",
        create(ADMIN, id(), with("/sectors/1/capacity", json!(-10))),
        &before,
    )
    .await;
    refused(
        &stack,
        422,
        "INVALID_INPUT",
        create(ADMIN, id(), with("/sectors/0/price/cents", json!(0))),
        &before,
    )
    .await;
    refused(
        &stack,
        422,
        "INVALID_INPUT",
        create(ADMIN, id(), with("/sectors/0/price/cents", json!(-100))),
        &before,
    )
    .await;
    refused(
        &stack,
        422,
        "INVALID_INPUT",
        create(ADMIN, id(), with("/sectors/0/rows", json!(0))),
        &before,
    )
    .await;
    refused(
        &stack,
        422,
        "INVALID_INPUT",
        create(ADMIN, id(), with("/sectors/0/gaps", json!(["Z-99"]))),
        &before,
    )
    .await;
    refused(
        &stack,
        422,
        "INVALID_INPUT",
        create(ADMIN, id(), with("/sectors/0/code", json!("pista"))),
        &before,
    )
    .await;
    refused(
        &stack,
        422,
        "INVALID_INPUT",
        create(ADMIN, id(), with("/sectors", json!([]))),
        &before,
    )
    .await;
    refused(
        &stack,
        422,
        "INVALID_INPUT",
        create(
            ADMIN,
            id(),
            with("/sale_ends_at", json!("2031-01-01T00:00:00Z")),
        ),
        &before,
    )
    .await;
    refused(
        &stack,
        422,
        "INVALID_INPUT",
        create(
            ADMIN,
            id(),
            with("/starts_at", json!("2020-01-01T00:00:00Z")),
        ),
        &before,
    )
    .await;
    refused(
        &stack,
        400,
        "MALFORMED_REQUEST",
        create(ADMIN, id(), with("/starts_at", json!("next friday"))),
        &before,
    )
    .await;
    refused(
        &stack,
        400,
        "MALFORMED_REQUEST",
        create(ADMIN, id(), with("/sectors/0/rows", json!("twenty"))),
        &before,
    )
    .await;

    let (_, body, _) = create(ADMIN, id(), with("/sectors/1/capacity", json!(0))).await;
    assert_eq!(body["field"], "sectors[1].capacity");
}

#[tokio::test]
async fn bad_product_input_is_refused_and_writes_nothing() {
    let stack = Stack::start().await;
    let event_id = create_event(&stack).await;
    let before = stack.items().await;
    let create = |id: String, body: Value| {
        let body = body.to_string();
        let req = request(
            ADMIN,
            "POST /events/{id}/products",
            &[("id", &id)],
            &[],
            Some(&body),
        );
        let store = &stack.store;
        async move { outcome(catalog::create_product(req, store).await) }
    };
    let popcorn = |cents: i64, stock: Value| json!({"name": "Pipoca", "category": "food", "price": {"cents": cents}, "stock": stock});
    refused(
        &stack,
        422,
        "INVALID_INPUT",
        create(event_id.clone(), popcorn(0, json!(10))),
        &before,
    )
    .await;
    refused(
        &stack,
        422,
        "INVALID_INPUT",
        create(event_id.clone(), popcorn(100, json!(-1))),
        &before,
    )
    .await;
    refused(
        &stack,
        400,
        "MALFORMED_REQUEST",
        create(event_id.clone(), popcorn(100, json!("lots"))),
        &before,
    )
    .await;
    let bad_currency =
        json!({"name": "Pipoca", "category": "food", "price": {"cents": 100, "currency": "real"}});
    refused(
        &stack,
        422,
        "INVALID_INPUT",
        create(event_id.clone(), bad_currency),
        &before,
    )
    .await;
    refused(
        &stack,
        404,
        "NOT_FOUND",
        create("01JF0000000000000000000000".into(), popcorn(100, json!(1))),
        &before,
    )
    .await;
}

#[tokio::test]
async fn unknown_things_are_not_found_and_bad_list_parameters_are_refused() {
    let stack = Stack::start().await;
    let event_id = create_event(&stack).await;
    let before = stack.items().await;
    let store = &stack.store;
    let unknown = "01JF0000000000000000000000";
    let get = |route: &'static str,
               params: Vec<(&'static str, String)>,
               query: Vec<(&'static str, &'static str)>| {
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let req = request(CUSTOMER, route, &params, &query, None);
        async move {
            outcome(match route {
                "GET /events" => catalog::list_events(req, store).await,
                "GET /events/{id}" => catalog::get_event(req, store).await,
                "GET /events/{id}/products" => catalog::list_products(req, store).await,
                "GET /events/{id}/products/{product}" => catalog::get_product(req, store).await,
                "GET /sessions/{id}" => catalog::get_session(req, store).await,
                _ => catalog::get_seat_map(req, store).await,
            })
        }
    };
    refused(
        &stack,
        404,
        "NOT_FOUND",
        get("GET /events/{id}", vec![("id", unknown.into())], vec![]),
        &before,
    )
    .await;
    refused(
        &stack,
        404,
        "NOT_FOUND",
        get("GET /events/{id}", vec![("id", "../etc".into())], vec![]),
        &before,
    )
    .await;
    refused(
        &stack,
        404,
        "NOT_FOUND",
        get(
            "GET /events/{id}/products",
            vec![("id", unknown.into())],
            vec![],
        ),
        &before,
    )
    .await;
    for product in [unknown, "not-a-ulid"] {
        refused(
            &stack,
            404,
            "NOT_FOUND",
            get(
                "GET /events/{id}/products/{product}",
                vec![("id", event_id.clone()), ("product", product.into())],
                vec![],
            ),
            &before,
        )
        .await;
    }
    refused(
        &stack,
        404,
        "NOT_FOUND",
        get("GET /sessions/{id}", vec![("id", unknown.into())], vec![]),
        &before,
    )
    .await;
    let seats = "GET /sessions/{id}/sectors/{sector}/seats";
    refused(
        &stack,
        404,
        "NOT_FOUND",
        get(
            seats,
            vec![("id", unknown.into()), ("sector", "plateia".into())],
            vec![],
        ),
        &before,
    )
    .await;
    refused(
        &stack,
        400,
        "MALFORMED_REQUEST",
        get("GET /events", vec![], vec![("limit", "ten")]),
        &before,
    )
    .await;
    refused(
        &stack,
        422,
        "INVALID_INPUT",
        get("GET /events", vec![], vec![("limit", "0")]),
        &before,
    )
    .await;
    refused(
        &stack,
        422,
        "INVALID_INPUT",
        get("GET /events", vec![], vec![("limit", "101")]),
        &before,
    )
    .await;
    refused(
        &stack,
        400,
        "MALFORMED_REQUEST",
        get("GET /events", vec![], vec![("next", "bogus")]),
        &before,
    )
    .await;

    let body = session_body().to_string();
    let req = request(
        ADMIN,
        "POST /events/{id}/sessions",
        &[("id", &event_id)],
        &[],
        Some(&body),
    );
    let (_, session, _) = outcome(catalog::create_session(req, store).await);
    let before = stack.items().await;
    let id = session["id"].as_str().unwrap().to_owned();
    refused(
        &stack,
        404,
        "NOT_FOUND",
        get(
            seats,
            vec![("id", id), ("sector", "camarote".into())],
            vec![],
        ),
        &before,
    )
    .await;
}

#[tokio::test]
async fn an_organiser_edits_an_event_and_bad_edits_change_nothing() {
    let stack = Stack::start().await;
    let event_id = create_event(&stack).await;
    let patch = |caller: Caller, id: &str, body: Value| {
        let body = body.to_string();
        let req = request(
            caller,
            "PATCH /events/{id}",
            &[("id", id)],
            &[],
            Some(&body),
        );
        let store = &stack.store;
        async move { outcome(catalog::update_event(req, store).await) }
    };
    let read = |id: String| {
        let req = request(CUSTOMER, "GET /events/{id}", &[("id", &id)], &[], None);
        let store = &stack.store;
        async move { outcome(catalog::get_event(req, store).await).1 }
    };
    let before = read(event_id.clone()).await;

    // Refused: a customer, an unknown event, a blank name, a field the API does not know.
    let (status, problem, _) = patch(CUSTOMER, &event_id, json!({"venue": "Allianz"})).await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("FORBIDDEN")));
    let (status, _, _) = patch(ADMIN, "01JF0000000000000000000000", json!({"venue": "X"})).await;
    assert_eq!(status, 404);
    let (status, problem, _) = patch(ADMIN, &event_id, json!({"name": "  "})).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("INVALID_INPUT"))
    );
    assert!(problem["detail"].as_str().unwrap().starts_with("name"));
    for bad in [
        json!({"capacity": 3}),
        json!({"category": null}),
        json!({"name": null}),
    ] {
        let (status, problem, _) = patch(ADMIN, &event_id, bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {problem}");
    }
    assert_eq!(read(event_id.clone()).await, before, "nothing changed");

    // An edit replaces what it gives and keeps the rest, in the event and in the list.
    let (status, edited, _) = patch(
        ADMIN,
        &event_id,
        json!({"venue": "Allianz Parque", "description": "Turnê 2030"}),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        (&edited["name"], &edited["venue"], &edited["description"]),
        (
            &json!("Coldplay"),
            &json!("Allianz Parque"),
            &json!("Turnê 2030")
        )
    );
    assert_eq!(edited["created_at"], before["created_at"]);
    let after = read(event_id.clone()).await;
    assert_eq!(after["venue"], "Allianz Parque");
    let req = request(CUSTOMER, "GET /events", &[], &[], None);
    let (_, list, _) = outcome(catalog::list_events(req, &stack.store).await);
    assert_eq!(list["items"][0]["venue"], "Allianz Parque");

    // Null removes the description; an empty edit changes nothing.
    let (status, cleared, _) = patch(ADMIN, &event_id, json!({"description": null})).await;
    assert_eq!(status, 200);
    assert!(cleared.get("description").is_none(), "{cleared}");
    let (status, same, _) = patch(ADMIN, &event_id, json!({})).await;
    assert_eq!((status, &same), (200, &cleared));
}
