//! Vouchers on the local stack: a code limited to ten uses is used exactly ten times when two
//! hundred customers race for it; cancelled and expired holds give their uses back; a payment
//! after the hold lapsed takes its use again or is refunded; the bill shows the discount; and
//! organisers' rules are checked.

mod support;

use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use support::sale::{Sale, options};

/// Long enough that nothing lapses while the test runs; time moves by the functions' clock.
const HOLD_SECONDS: &str = "600";

async fn sale() -> Sale {
    Sale::start(options(&[("HOLD_SECONDS", HOLD_SECONDS)]), 20, 10).await
}

/// `method path` with `token` and `body`: the status and the body.
async fn send(
    sale: &Sale,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}{path}", sale.stack.api_url());
    let (status, _, body) = support::call(&sale.http, url, method, Some(token), body, &[]).await;
    (status, body)
}

/// The organiser's call to `path`.
async fn organise(sale: &Sale, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let admin = sale.stack.token("organiser", true);
    send(sale, method, path, &admin, body).await
}

async fn event(sale: &Sale) -> String {
    sale.stored_session().await.event_id.to_string()
}

/// Creates a code of the sale's event: `discount` with the rest of `extra`.
async fn code(sale: &Sale, body: Value) -> Value {
    let path = format!("/events/{}/vouchers", event(sale).await);
    let (status, created) = organise(sale, Method::POST, &path, Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created
}

/// The code's uses as the organiser's list gives them.
async fn uses(sale: &Sale, code: &str) -> u64 {
    let path = format!("/events/{}/vouchers", event(sale).await);
    let (status, list) = organise(sale, Method::GET, &path, None).await;
    assert_eq!(status, 200, "{list}");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["code"] == code)
        .unwrap_or_else(|| panic!("{code} is not listed: {list}"))["uses"]
        .as_u64()
        .unwrap()
}

async fn apply(sale: &Sale, customer: &str, reservation: &str, code: &str) -> (u16, Value) {
    let path = format!("/reservations/{reservation}/voucher");
    let token = sale.stack.token(customer, false);
    send(
        sale,
        Method::PUT,
        &path,
        &token,
        Some(json!({"code": code})),
    )
    .await
}

/// A hold of one seat of `plateia` (R$ 300.00) by `customer`: its id.
async fn hold(sale: &Sale, customer: &str, seat: &str) -> String {
    let (status, held) = sale.hold(customer, seat).await;
    assert_eq!(status, 201, "{held}");
    held["id"].as_str().unwrap().to_owned()
}

fn seat(i: usize) -> String {
    format!("{}-{}", (b'A' + (i / 10) as u8) as char, i % 10 + 1)
}

async fn sweep(sale: &Sale) -> Value {
    match sale.stack.tick("ExpireHoldsFunction").await.unwrap() {
        local::lambda::Invoked::Response(body) => serde_json::from_slice(&body).unwrap(),
        other => panic!("the sweep failed: {other:?}"),
    }
}

#[tokio::test]
async fn two_hundred_customers_racing_for_a_ten_use_code_use_it_exactly_ten_times() {
    let sale = sale().await;
    code(
        &sale,
        json!({"code": "dez", "discount": {"percent": 10}, "max_uses": 10}),
    )
    .await;
    let customers: Vec<String> = (0..200).map(|i| format!("fan-{i:03}")).collect();
    let shop = &sale;
    let holds = join_all(
        customers
            .iter()
            .enumerate()
            .map(|(i, c)| async move { hold(shop, c, &seat(i)).await }),
    )
    .await;

    let answers = join_all(
        customers
            .iter()
            .zip(&holds)
            .map(|(c, r)| apply(&sale, c, r, "DEZ")),
    )
    .await;
    let won: Vec<usize> = (0..200).filter(|i| answers[*i].0 == 200).collect();
    assert_eq!(won.len(), 10, "exactly ten uses");
    for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 409, "{body}");
        assert_eq!(body["code"], "VOUCHER_USED_UP", "{body}");
    }
    for i in &won {
        let body = &answers[*i].1;
        assert_eq!(body["voucher"]["code"], "DEZ");
        assert_eq!(body["total"]["cents"], 27_000, "10% off R$ 300.00: {body}");
    }
    assert_eq!(uses(&sale, "DEZ").await, 10);
    support::audit(&sale.stack).await;

    // Two winners give their holds back: two uses come back, and a customer who lost takes one.
    for i in &won[..2] {
        let token = sale.stack.token(&customers[*i], false);
        let (status, body) = send(
            &sale,
            Method::DELETE,
            &format!("/reservations/{}", holds[*i]),
            &token,
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(uses(&sale, "DEZ").await, 8);
    let loser = (0..200).find(|i| !won.contains(i)).unwrap();
    let (status, body) = apply(&sale, &customers[loser], &holds[loser], "dez").await;
    assert_eq!(status, 200, "{body}");
    // The same code again changes nothing; taking it off gives the use back, and it is retaken.
    let (status, again) = apply(&sale, &customers[loser], &holds[loser], "DEZ").await;
    assert_eq!((status, &again["version"]), (200, &body["version"]));
    let token = sale.stack.token(&customers[loser], false);
    let path = format!("/reservations/{}/voucher", holds[loser]);
    let (status, off) = send(&sale, Method::DELETE, &path, &token, None).await;
    assert_eq!(status, 200, "{off}");
    assert_eq!(off["total"]["cents"], 30_000);
    assert!(off.get("voucher").is_none(), "{off}");
    assert_eq!(uses(&sale, "DEZ").await, 8);
    assert_eq!(
        apply(&sale, &customers[loser], &holds[loser], "DEZ")
            .await
            .0,
        200
    );
    assert_eq!(uses(&sale, "DEZ").await, 9);

    // Three winners pay the discounted price; the bill shows the discount.
    for i in &won[2..5] {
        let (status, paid) = sale.pay(&customers[*i], &holds[*i]).await;
        assert_eq!(status, 200, "{paid}");
        assert_eq!(paid["status"], "CONFIRMED");
        let path = format!("/reservations/{}/invoice", holds[*i]);
        let (status, invoice) = sale.get(&path, &customers[*i]).await;
        assert_eq!(status, 200, "{invoice}");
        assert_eq!(invoice["total"]["cents"], 27_000, "{invoice}");
        let line = invoice["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| {
                l["description"]
                    .as_str()
                    .unwrap()
                    .starts_with("Voucher DEZ")
            })
            .unwrap_or_else(|| panic!("no discount line: {invoice}"));
        assert_eq!(line["total"]["cents"], -3_000, "{invoice}");
    }

    // The sales view counts what was paid: three tickets at R$ 270.00.
    let admin = sale.stack.token("organiser", true);
    let (_, sales) = sale
        .get_as(&format!("/sessions/{}/sales", sale.session), &admin)
        .await;
    assert_eq!(sales["sectors"][0]["revenue"]["cents"], 81_000, "{sales}");
    assert_eq!(sales["revenue"][0]["cents"], 81_000, "{sales}");

    // The other holds lapse: the sweep gives their uses back; the paid ones keep theirs.
    sale.stack
        .advance_clock(chrono::Duration::seconds(601))
        .await;
    while sweep(&sale).await["expired"].as_u64().unwrap() > 0 {}
    assert_eq!(uses(&sale, "DEZ").await, 3);
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

/// A PIX checkout of `reservation`: the payment's id.
async fn pix(sale: &Sale, customer: &str, reservation: &str) -> String {
    let path = format!("/reservations/{reservation}/checkout");
    let key = format!("pix-{reservation}");
    let body = json!({"payment": {"method": "pix"}});
    let (status, _, pending) = sale
        .post(&path, customer, body, &[("idempotency-key", &key)])
        .await;
    assert_eq!(status, 202, "{pending}");
    pending["payment"]["id"].as_str().unwrap().to_owned()
}

/// The provider says `payment` of `reservation` was paid.
async fn paid(sale: &Sale, reservation: &str, payment: &str) {
    let body =
        json!({"payment_id": payment, "reservation_id": reservation, "status": "paid"}).to_string();
    let signature = bilheteria::domain::payment::webhook_signature(
        sale.stack
            .secret("PaymentWebhookSecret")
            .unwrap()
            .as_bytes(),
        sale.stack.now().timestamp(),
        body.as_bytes(),
    );
    let resp = sale
        .http
        .post(format!("{}/payments/webhook", sale.stack.api_url()))
        .header("content-type", "application/json")
        .header("x-bilheteria-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn a_payment_after_the_hold_lapsed_takes_its_use_again_or_is_refunded() {
    let sale = sale().await;
    code(
        &sale,
        json!({"code": "UNICO", "discount": {"fixed": {"cents": 5000}}, "max_uses": 1}),
    )
    .await;
    code(
        &sale,
        json!({"code": "VARIOS", "discount": {"percent": 50}, "max_uses": 5}),
    )
    .await;
    let ana = hold(&sale, "ana", "A-1").await;
    let carla = hold(&sale, "carla", "A-2").await;
    assert_eq!(apply(&sale, "ana", &ana, "UNICO").await.0, 200);
    assert_eq!(apply(&sale, "carla", &carla, "VARIOS").await.0, 200);
    let ana_pix = pix(&sale, "ana", &ana).await;
    let carla_pix = pix(&sale, "carla", &carla).await;

    // Both holds lapse unpaid: the sweep gives the uses back.
    sale.stack
        .advance_clock(chrono::Duration::seconds(601))
        .await;
    assert_eq!(sweep(&sale).await["expired"], 2);
    assert_eq!(
        (uses(&sale, "UNICO").await, uses(&sale, "VARIOS").await),
        (0, 0)
    );

    // Meanwhile bruno takes the one use of UNICO.
    let bruno = hold(&sale, "bruno", "B-1").await;
    let (status, body) = apply(&sale, "bruno", &bruno, "UNICO").await;
    assert_eq!(status, 200, "{body}");

    // Ana's PIX arrives: her use is gone, so her money goes back and bruno keeps the use.
    paid(&sale, &ana, &ana_pix).await;
    let (_, ana_now) = sale.get(&format!("/reservations/{ana}"), "ana").await;
    assert_eq!(ana_now["status"], "REFUND_REQUIRED", "{ana_now}");
    assert!(
        ana_now["refund_reason"]
            .as_str()
            .unwrap()
            .contains("voucher"),
        "{ana_now}"
    );
    assert_eq!(uses(&sale, "UNICO").await, 1);

    // Carla's arrives: VARIOS has uses left, so it is taken again and she has her ticket at
    // the price she paid.
    paid(&sale, &carla, &carla_pix).await;
    let (_, carla_now) = sale.get(&format!("/reservations/{carla}"), "carla").await;
    assert_eq!(carla_now["status"], "CONFIRMED", "{carla_now}");
    assert_eq!(carla_now["total"]["cents"], 15_000);
    assert_eq!(uses(&sale, "VARIOS").await, 1);
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}

#[tokio::test]
async fn organisers_rules_for_a_code_hold() {
    let sale = sale().await;
    let event = event(&sale).await;
    let path = format!("/events/{event}/vouchers");
    // Only organisers create codes; bad ones are refused and change nothing.
    let fan = sale.stack.token("fan", false);
    let body = json!({"code": "PISTA100", "discount": {"percent": 100}, "sectors": ["pista"], "max_uses": 3, "max_per_customer": 1});
    assert_eq!(
        send(&sale, Method::POST, &path, &fan, Some(body.clone()))
            .await
            .0,
        403
    );
    for (bad, field) in [
        (
            json!({"code": "X", "discount": {"percent": 10}, "max_uses": 3}),
            "code",
        ),
        (
            json!({"code": "OK1", "discount": {"percent": 101}, "max_uses": 3}),
            "discount.percent",
        ),
        (
            json!({"code": "OK1", "discount": {"percent": 10}, "max_uses": 0}),
            "max_uses",
        ),
        (
            json!({"code": "OK1", "discount": {"percent": 10}, "sectors": ["camarote"], "max_uses": 3}),
            "sectors[0]",
        ),
        (
            json!({"code": "OK1", "discount": {"percent": 10}, "max_uses": 3, "valid_from": "2030-01-02T00:00:00Z", "valid_until": "2030-01-01T00:00:00Z"}),
            "valid_until",
        ),
    ] {
        let (status, problem) = organise(&sale, Method::POST, &path, Some(bad)).await;
        assert_eq!(
            (status, problem["field"].as_str()),
            (422, Some(field)),
            "{problem}"
        );
    }
    let created = code(&sale, body.clone()).await;
    assert_eq!(created["uses"], 0);
    let (status, again) = organise(&sale, Method::POST, &path, Some(body)).await;
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("VOUCHER_EXISTS"))
    );

    // It applies to pista only; once per customer.
    let plateia = hold(&sale, "rita", "C-1").await;
    let (status, problem) = apply(&sale, "rita", &plateia, "PISTA100").await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("VOUCHER_NOT_APPLICABLE"))
    );
    let (status, problem) = apply(&sale, "rita", &plateia, "NENHUM").await;
    assert_eq!((status, problem["field"].as_str()), (422, Some("code")));
    let places = |who: &str| {
        let sale = &sale;
        let who = who.to_owned();
        async move {
            let path = format!("/sessions/{}/holds", sale.session);
            let (status, _, held) = sale
                .post(&path, &who, support::hold_body(&[], 1), &[])
                .await;
            assert_eq!(status, 201, "{held}");
            held["id"].as_str().unwrap().to_owned()
        }
    };
    let first = places("rita").await;
    let second = places("rita").await;
    assert_eq!(apply(&sale, "rita", &first, "pista100").await.0, 200);
    let (status, problem) = apply(&sale, "rita", &second, "PISTA100").await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("VOUCHER_LIMIT"))
    );

    // A free order is confirmed without a charge.
    let (status, free) = sale.pay("rita", &first).await;
    assert_eq!(status, 200, "{free}");
    assert_eq!(
        (free["status"].as_str(), free["total"]["cents"].as_i64()),
        (Some("CONFIRMED"), Some(0))
    );

    let admin = sale.stack.token("organiser", true);
    let (_, sales) = sale
        .get_as(&format!("/sessions/{}/sales", sale.session), &admin)
        .await;
    assert_eq!(sales["sectors"][1]["sold"], 1, "{sales}");
    assert_eq!(sales["sectors"][1]["revenue"]["cents"], 0, "{sales}");

    // Its limit cannot go below its uses; a stopped code is refused, its count kept.
    let one = format!("{path}/pista100");
    let (status, problem) =
        organise(&sale, Method::PATCH, &one, Some(json!({"max_uses": 0}))).await;
    assert_eq!((status, problem["field"].as_str()), (422, Some("max_uses")));
    let (status, stopped) = organise(
        &sale,
        Method::PATCH,
        &one,
        Some(json!({"active": false, "max_per_customer": 2})),
    )
    .await;
    assert_eq!(status, 200, "{stopped}");
    assert_eq!(
        (stopped["active"].as_bool(), stopped["uses"].as_u64()),
        (Some(false), Some(1))
    );
    let (status, problem) = apply(&sale, "rita", &second, "PISTA100").await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("VOUCHER_NOT_VALID"))
    );
    let (status, missing) = organise(
        &sale,
        Method::PATCH,
        &format!("{path}/NENHUM"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 404, "{missing}");
    support::audit(&sale.stack).await;
    sale.stack.stop().await;
}
