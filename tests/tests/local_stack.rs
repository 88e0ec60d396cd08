//! The local stack driven as a client drives it: over HTTP through the API Gateway emulator,
//! with tokens from the local issuer, the real function binaries behind it.

mod support;

use std::time::Duration;

use bilheteria::store::DynamoStore;
use local::{
    lambda::Invoked,
    stack::{Options, Stack},
    template::repository_root,
};
use serde_json::{Value, json};

async fn stack() -> Stack {
    Stack::start(Options {
        queues: false,
        ..Options::default()
    })
    .await
    .expect("the local stack starts")
}

async fn call(
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let resp = request.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_organiser_creates_a_catalog_and_a_customer_browses_it_over_http() {
    let stack = stack().await;
    let api = stack.api_url().to_owned();
    let admin = stack.token("organiser", true);
    let alice = stack.token("alice", false);
    use reqwest::Method;

    let event = json!({"name": "Coldplay", "venue": "Morumbi", "category": "show"});
    let (status, event) = call(
        Method::POST,
        format!("{api}/events"),
        Some(&admin),
        Some(event),
    )
    .await;
    assert_eq!(status, 201, "{event}");
    let event_id = event["id"].as_str().unwrap().to_owned();

    let session = json!({
        "starts_at": "2030-09-10T20:00:00Z", "sale_starts_at": "2026-01-01T00:00:00Z", "sale_ends_at": "2030-09-10T18:00:00Z",
        "sectors": [
            {"code": "plateia", "name": "Plateia", "kind": "numbered", "rows": 20, "seats_per_row": 30, "price": {"cents": 25000}},
            {"code": "pista", "name": "Pista", "kind": "general_admission", "capacity": 2000, "price": {"cents": 18000}}
        ]
    });
    let (status, session) = call(
        Method::POST,
        format!("{api}/events/{event_id}/sessions"),
        Some(&admin),
        Some(session),
    )
    .await;
    assert_eq!(status, 201, "{session}");
    let session_id = session["id"].as_str().unwrap().to_owned();

    let (status, list) = call(Method::GET, format!("{api}/events?limit=5"), None, None).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"][0]["id"], event_id.as_str());

    let (status, read) = call(
        Method::GET,
        format!("{api}/events/{event_id}"),
        Some(&alice),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(read["sessions"][0]["id"], session_id.as_str());

    let (status, read) = call(
        Method::GET,
        format!("{api}/sessions/{session_id}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(read["sectors"][0]["available"], 600);

    let (status, map) = call(
        Method::GET,
        format!("{api}/sessions/{session_id}/sectors/plateia/seats"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let rows = map["map"].as_array().unwrap();
    assert_eq!(rows.len(), 20);
    assert_eq!(
        (rows[19]["row"].as_str(), rows[19]["seats"].as_str()),
        (Some("T"), Some("F".repeat(30).as_str()))
    );

    let (status, problem) = call(
        Method::POST,
        format!("{api}/events"),
        Some(&alice),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (403, Some("FORBIDDEN")),
        "a customer is not an organiser"
    );

    let reports = stack.lambda().reports();
    assert!(
        reports.iter().any(|r| r.init.is_some()),
        "cold starts report their Init Duration"
    );
    assert!(reports.iter().all(|r| r.max_memory_used_mb > 0));
    stack.stop().await;
}

#[tokio::test]
async fn the_authorizer_refuses_missing_bad_and_expired_tokens_as_api_gateway_does() {
    let stack = stack().await;
    let api = stack.api_url().to_owned();
    let body = json!({"name": "Show", "venue": "Arena", "category": "show"});
    let post = |token: Option<String>| {
        let (url, body) = (format!("{api}/events"), body.clone());
        async move { call(reqwest::Method::POST, url, token.as_deref(), Some(body)).await }
    };
    assert_eq!(post(None).await, (401, json!({"message": "Unauthorized"})));
    let good = stack.token("organiser", true);
    let (head, rest) = good.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", rest.chars().rev().collect::<String>());
    assert_eq!(post(Some(forged)).await.0, 401, "bad signature");
    let now = chrono::Utc::now().timestamp();
    let expired = stack
        .issuer()
        .sign(
            &stack
                .issuer()
                .claims("organiser", &["admin"], now - 7_200, now - 3_600),
        )
        .unwrap();
    assert_eq!(post(Some(expired)).await.0, 401, "expired");
    let foreign = local::issuer::Issuer::random(local::issuer::ISSUER)
        .mint("organiser", true, Duration::from_secs(60))
        .unwrap();
    assert_eq!(post(Some(foreign)).await.0, 401, "another issuer's key");
    assert_eq!(post(Some(good)).await.0, 201);

    assert_eq!(
        call(reqwest::Method::GET, format!("{api}/nowhere"), None, None).await,
        (404, json!({"message": "Not Found"}))
    );
    assert_eq!(
        call(reqwest::Method::DELETE, format!("{api}/events"), None, None)
            .await
            .0,
        404,
        "no such method on the route"
    );
    let huge = "x".repeat(10 * 1024 * 1024 + 1);
    let resp = reqwest::Client::new()
        .post(format!("{api}/events"))
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status().as_u16(),
        413,
        "over API Gateway's payload limit"
    );
    // The request line and headers together: at most 10,240 bytes, counted as sent.
    let host = api.trim_start_matches("http://").to_owned();
    let with_padding = |bytes: usize| {
        let host = host.clone();
        async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let padding = "p".repeat(bytes);
            let request = format!(
                "GET /events HTTP/1.1\r\nhost: {host}\r\nx-padding: {padding}\r\nconnection: close\r\n\r\n"
            );
            let mut socket = tokio::net::TcpStream::connect(&host).await.unwrap();
            socket.write_all(request.as_bytes()).await.unwrap();
            let mut answer = Vec::new();
            socket.read_to_end(&mut answer).await.unwrap();
            let answer = String::from_utf8_lossy(&answer).into_owned();
            let status: u16 = answer.split(' ').nth(1).unwrap().parse().unwrap();
            (status, answer)
        }
    };
    let counted = "GET /events HTTP/1.1".len()
        + "host: ".len()
        + host.len()
        + "x-padding: ".len()
        + "connection: close".len();
    let fits = 10_240 - counted;
    let (status, answer) = with_padding(fits).await;
    assert_eq!(status, 200, "exactly at API Gateway's limit: {answer}");
    let (status, answer) = with_padding(fits + 1).await;
    assert_eq!(status, 431, "one byte over it: {answer}");
    assert!(
        answer.ends_with(r#"{"message":"Request Header Fields Too Large"}"#),
        "{answer}"
    );
    stack.stop().await;
}

#[tokio::test]
async fn every_event_file_runs_through_its_real_binary() {
    let functions = stack().await.functions().to_vec();
    for function in functions {
        let stack = Stack::start(Options::default())
            .await
            .expect("the local stack starts");
        let store = DynamoStore::new(stack.dynamodb_sdk(), "Table");
        support::seed_for_event_file(&store, function.crate_name()).await;
        let path = repository_root()
            .join("events")
            .join(format!("{}.json", function.crate_name()));
        let payload = support::event_file(
            function.crate_name(),
            stack.secret("PaymentWebhookSecret").unwrap(),
        )
        .into_bytes();
        let Invoked::Response(body) = stack.invoke(&function.logical_id, payload).await.unwrap()
        else {
            panic!("{} returned a function error", function.logical_id);
        };
        let response: Value = serde_json::from_slice(&body).unwrap();
        if !function.schedules.is_empty() {
            assert_eq!(response["finished"], true, "{}: {response}", path.display());
            stack.stop().await;
            continue;
        }
        if !function.queues.is_empty() || !function.streams.is_empty() {
            assert_eq!(
                response,
                json!({"batchItemFailures": []}),
                "{}",
                path.display()
            );
            stack.stop().await;
            continue;
        }
        let expected = match function.crate_name() {
            "request-tickets" => 202,
            name if name.starts_with("create-")
                || ["hold-seats", "check-in", "join-waitlist"].contains(&name) =>
            {
                201
            }
            _ => 200,
        };
        assert_eq!(
            response["statusCode"],
            expected,
            "{}: {response}",
            path.display()
        );
        stack.stop().await;
    }
}

#[tokio::test]
async fn a_missing_binary_is_named_with_the_command_that_builds_it() {
    let options = Options {
        queues: false,
        release: true,
        root: std::env::temp_dir(),
        ..Options::default()
    };
    let err = Stack::start(options)
        .await
        .err()
        .expect("no binaries there")
        .to_string();
    assert!(
        err.contains("create-event") && err.contains("cargo build --workspace --release"),
        "{err}"
    );
}

#[tokio::test]
async fn a_taken_port_is_reported_by_number() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = Stack::start(Options {
        queues: false,
        api_port: port,
        ..Options::default()
    })
    .await
    .err()
    .expect("the port is taken");
    let text = err.to_string();
    assert!(
        text.contains(&port.to_string()) && text.contains("taken"),
        "{text}"
    );
}

#[tokio::test]
async fn the_web_app_is_served_on_its_own_origin_and_the_api_lets_it_call() {
    let stack = Stack::start(Options {
        queues: false,
        web_port: Some(0),
        ..Options::default()
    })
    .await
    .expect("the local stack starts (run `make web` first)");
    let web = stack.web_url().unwrap().to_owned();
    let http = reqwest::Client::new();

    let config: Value = http
        .get(format!("{web}/config.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["api_url"], stack.api_url());
    // Any path the app routes in the browser is its page.
    for path in ["/", "/events/01JF000000000000000000EV01", "/sessions/x"] {
        let page = http.get(format!("{web}{path}")).send().await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        let html = page.text().await.unwrap();
        assert!(html.contains("<div id=\"app\">"), "{path}: {html}");
    }
    let html = http.get(&web).send().await.unwrap().text().await.unwrap();
    let asset = html
        .split('"')
        .find(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .expect("the page loads a hashed script");
    let script = http.get(format!("{web}{asset}")).send().await.unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    // A preflight from the app's origin is answered by the gateway from the template's
    // CorsConfiguration, and the answers carry the origin's permission.
    let preflight = http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/events", stack.api_url()),
        )
        .header("origin", &web)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,idempotency-key",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let headers = preflight.headers();
    assert_eq!(
        headers["access-control-allow-origin"], web,
        "the template allows the storefront distribution's origin, here the local web server's"
    );
    assert_eq!(
        headers["access-control-allow-methods"],
        "GET,POST,PUT,PATCH,DELETE"
    );
    let allowed = headers["access-control-allow-headers"].to_str().unwrap();
    assert!(allowed.contains("idempotency-key") && allowed.contains("authorization"));
    let listed = http
        .get(format!("{}/events", stack.api_url()))
        .header("origin", &web)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(listed.headers()["access-control-allow-origin"], web);
    let dev = http
        .get(format!("{}/events", stack.api_url()))
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(
        dev.headers()["access-control-allow-origin"],
        "http://localhost:5173",
        "StorefrontDevOrigin's default"
    );
    let elsewhere = http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/events", stack.api_url()),
        )
        .header("origin", "https://elsewhere.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        !elsewhere
            .headers()
            .contains_key("access-control-allow-origin"),
        "another origin is not let through"
    );
    let no_origin = http
        .get(format!("{}/events", stack.api_url()))
        .send()
        .await
        .unwrap();
    assert!(
        !no_origin
            .headers()
            .contains_key("access-control-allow-origin")
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_browser_signs_in_with_pkce_and_its_id_token_is_accepted_by_the_api() {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use sha2::{Digest, Sha256};

    let stack = stack().await;
    let api = stack.api_url().to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let authority = format!("{api}/_local/issuer");
    let discovery: Value = http
        .get(format!("{authority}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["token_endpoint"], format!("{authority}/token"));
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        json!(["S256"])
    );
    let jwks: Value = http
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["alg"], "ES256");

    let verifier = "a-verifier-of-at-least-forty-three-characters-0123456789";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let redirect = "http://127.0.0.1:8080/callback";
    let query = [
        ("response_type", "code"),
        ("client_id", "bilheteria-local"),
        ("redirect_uri", redirect),
        ("scope", "openid email"),
        ("state", "s 1"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("nonce", "n-1"),
    ];
    let page = http
        .get(discovery["authorization_endpoint"].as_str().unwrap())
        .query(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("name=\"username\""));
    let plain = http
        .get(discovery["authorization_endpoint"].as_str().unwrap())
        .query(&query.map(|(k, v)| {
            (
                k,
                if k == "code_challenge_method" {
                    "plain"
                } else {
                    v
                },
            )
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 400, "PKCE with S256 only");

    let mut form: Vec<(&str, &str)> = query.to_vec();
    form.extend([("username", "maria"), ("organiser", "yes")]);
    let signed_in = http
        .post(discovery["authorization_endpoint"].as_str().unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let location = signed_in.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{redirect}?code=")),
        "{location}"
    );
    assert!(location.ends_with("&state=s%201"), "{location}");
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let trade = |verifier: &'static str, code: String| {
        let http = http.clone();
        let endpoint = discovery["token_endpoint"].as_str().unwrap().to_owned();
        async move {
            let form = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect),
                ("client_id", "bilheteria-local"),
                ("code_verifier", verifier),
            ];
            let resp = http.post(endpoint).form(&form).send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let (status, wrong) = trade(
        "another-verifier-of-forty-three-characters-0123456789",
        code.clone(),
    )
    .await;
    assert_eq!(
        (status, wrong["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The failed trade spent the code: a code is good once.
    let (status, _) = trade(verifier, code).await;
    assert_eq!(status, 400);

    // Again, traded right this time.
    let signed_in = http
        .post(discovery["authorization_endpoint"].as_str().unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    let location = signed_in.headers()["location"].to_str().unwrap().to_owned();
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let (status, tokens) = trade(verifier, code.clone()).await;
    assert_eq!(status, 200, "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap();
    let (status, _) = trade(verifier, code).await;
    assert_eq!(status, 400, "replayed code");

    let (status, page) = call(
        reqwest::Method::GET,
        format!("{api}/me/reservations"),
        Some(id_token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let (status, _) = call(
        reqwest::Method::POST,
        format!("{api}/events"),
        Some(id_token),
        Some(json!({"name": "Show", "venue": "Arena", "category": "show"})),
    )
    .await;
    assert_eq!(status, 201, "the organiser box gives the admin group");
    stack.stop().await;
}

#[tokio::test]
async fn parameter_overrides_set_the_hold_time_and_the_seller_without_editing_the_template() {
    use reqwest::Method;
    let parameters =
        local::parameters::parse(&["HoldSeconds=45 SellerName=\"Cine Belas Artes\"".to_owned()])
            .unwrap();
    let stack = Stack::start(Options {
        parameters,
        ..Options::default()
    })
    .await
    .expect("the local stack starts");
    let api = stack.api_url().to_owned();
    let event = local::seed::seed(&api, &stack.token("organiser", true))
        .await
        .unwrap()
        .unwrap();
    let (_, event) = call(Method::GET, format!("{api}/events/{event}"), None, None).await;
    let session = event["sessions"][0]["id"].as_str().unwrap().to_owned();
    let alice = stack.token("alice", false);
    let (status, held) = call(
        Method::POST,
        format!("{api}/sessions/{session}/holds"),
        Some(&alice),
        Some(json!({"places": [{"sector": "pista", "quantity": 1}]})),
    )
    .await;
    assert_eq!(status, 201, "{held}");
    let lasts = chrono::DateTime::parse_from_rfc3339(held["expires_at"].as_str().unwrap()).unwrap()
        - chrono::DateTime::parse_from_rfc3339(held["created_at"].as_str().unwrap()).unwrap();
    assert_eq!(lasts.num_seconds(), 45, "HoldSeconds=45: {held}");
    let id = held["id"].as_str().unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{api}/reservations/{id}/checkout"))
        .bearer_auth(&alice)
        .header("idempotency-key", "pay-1")
        .json(&json!({"payment": {"method": "card", "number": "4242424242424242"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let (status, invoice) = call(
        Method::GET,
        format!("{api}/reservations/{id}/invoice"),
        Some(&alice),
        None,
    )
    .await;
    assert_eq!(status, 200, "{invoice}");
    assert_eq!(invoice["seller"]["name"], "Cine Belas Artes", "{invoice}");
    stack.stop().await;

    let refused = Stack::start(Options {
        parameters: local::parameters::parse(&["HoldSeconds=5".to_owned()]).unwrap(),
        ..Options::default()
    })
    .await;
    let Err(err) = refused else {
        panic!("a HoldSeconds under the template's MinValue starts nothing");
    };
    assert!(err.to_string().contains("MinValue"), "{err}");
}
