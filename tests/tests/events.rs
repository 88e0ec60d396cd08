//! Every `events/<function>.json` through its function's handler, and the template, the crates
//! and the events kept in step.

mod support;

use std::{collections::BTreeSet, path::Path};

use bilheteria::{
    announce::announce_batch,
    api::{catalog, desk, door, purchase, requests, sales, vouchers, waitlist},
    consumer::{Settings, process_batch, reject_dead_letters},
    expiry::sweep,
    payments::SimulatedProvider,
    store::DynamoStore,
};
use lambda_http::Request;
use local::template::{Template, repository_root};
use serde_json::Value;
use support::{Stack, outcome};

/// The handler each function binary wires, by crate name.
async fn handle(function: &str, req: Request, store: &DynamoStore) -> (u16, Value, Option<String>) {
    outcome(match function {
        "create-event" => catalog::create_event(req, store).await,
        "create-session" => catalog::create_session(req, store).await,
        "create-product" => catalog::create_product(req, store).await,
        "update-event" => catalog::update_event(req, store).await,
        "get-sales-timeline" => sales::get_timeline(req, store).await,
        "export-attendees" => sales::export_attendees(req, store).await,
        "list-events" => catalog::list_events(req, store).await,
        "get-event" => catalog::get_event(req, store).await,
        "get-session" => catalog::get_session(req, store).await,
        "get-seat-map" => catalog::get_seat_map(req, store).await,
        "list-products" => catalog::list_products(req, store).await,
        "get-product" => catalog::get_product(req, store).await,
        "hold-seats" => purchase::hold_seats(req, store, &support::sales()).await,
        "set-products" => purchase::set_products(req, store).await,
        "checkout" => {
            purchase::checkout(
                req,
                store,
                &SimulatedProvider,
                &support::sales(),
                &support::signer(),
            )
            .await
        }
        "payment-webhook" => {
            purchase::payment_webhook(
                req,
                store,
                &support::sales(),
                &support::signer(),
                &support::webhook_secrets(),
            )
            .await
        }
        "cancel-reservation" => purchase::cancel_reservation(req, store).await,
        "get-reservation" => purchase::get_reservation(req, store).await,
        "list-my-reservations" => purchase::list_my_reservations(req, store).await,
        "list-my-tickets" => purchase::list_my_tickets(req, store).await,
        "get-invoice" => purchase::get_invoice(req, store).await,
        "request-tickets" => {
            requests::request_tickets(req, store, &support::KeptQueue::default()).await
        }
        "get-request" => requests::get_request(req, store).await,
        "get-sales-queue" => requests::get_queue(req, store, &support::KeptQueue::default()).await,
        "list-customer-reservations" => desk::customer_reservations(req, store).await,
        "get-reservation-history" => desk::reservation_history(req, store).await,
        "mark-refunded" => desk::mark_refunded(req, store).await,
        "cancel-sale" => desk::cancel_sale(req, store).await,
        "get-sales" => sales::get_sales(req, store).await,
        "check-in" => door::check_in(req, store, &door::KeyRing::default()).await,
        "get-checkin-kit" => door::checkin_kit(req, store).await,
        "list-checkin-conflicts" => door::checkin_conflicts(req, store).await,
        "create-voucher" => vouchers::create_voucher(req, store).await,
        "list-vouchers" => vouchers::list_vouchers(req, store).await,
        "change-voucher" => vouchers::change_voucher(req, store).await,
        "apply-voucher" => vouchers::apply_voucher(req, store).await,
        "remove-voucher" => vouchers::remove_voucher(req, store).await,
        "join-waitlist" => waitlist::join_waitlist(req, store).await,
        "get-waitlist" => waitlist::my_waitlist(req, store).await,
        "leave-waitlist" => waitlist::leave_waitlist(req, store, &support::sales()).await,
        other => panic!("no handler is known for function {other}"),
    })
}

fn expected_status(function: &str) -> u16 {
    match function {
        "request-tickets" => 202,
        f if f.starts_with("create-")
            || ["hold-seats", "check-in", "join-waitlist"].contains(&f) =>
        {
            201
        }
        _ => 200,
    }
}

fn crate_name(code_uri: &str) -> &str {
    Path::new(code_uri)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap()
}

#[tokio::test]
async fn every_event_file_gets_its_status_from_its_function() {
    let template = Template::of_repository().unwrap();
    let functions = template.functions().unwrap();
    assert!(!functions.is_empty());
    for function in functions {
        let name = crate_name(&function.code_uri);
        let stack = Stack::start().await;
        support::seed_for_event_file(&stack.store, name).await;
        let path = repository_root()
            .join("events")
            .join(format!("{name}.json"));
        let text = support::event_file(name, support::WEBHOOK_SECRET);
        if !function.schedules.is_empty() {
            let swept = sweep(
                &stack.store,
                chrono::Utc::now(),
                std::time::Duration::from_secs(5),
            )
            .await;
            assert!(swept.is_ok_and(|s| s.finished), "events/{name}.json");
            continue;
        }
        if !function.streams.is_empty() {
            let event =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let bus = support::KeptEvents::default();
            let response = announce_batch(event, &stack.store, &bus).await;
            assert!(
                response.batch_item_failures.is_empty(),
                "events/{name}.json: {response:?}"
            );
            let kinds: Vec<&str> = bus.events().iter().map(|e| e.kind).collect();
            assert_eq!(
                kinds,
                [
                    "ReservationHeld",
                    "ReservationConfirmed",
                    "RequestRejected",
                    "SectorSoldOut"
                ],
                "events/{name}.json: a hold, a seat, a charge, a confirmation, a rejection, a sold-out mark"
            );
            continue;
        }
        if !function.queues.is_empty() {
            let event =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let settings = Settings {
                hold: chrono::Duration::seconds(600),
                fail_after_first_record: false,
            };
            let response = match name {
                "reject-dead-requests" => reject_dead_letters(event, &stack.store).await,
                "offer-waitlist" => {
                    waitlist::offer_returned(event, &stack.store, &support::sales()).await
                }
                _ => process_batch(event, &stack.store, settings, &Default::default()).await,
            };
            assert!(
                response.batch_item_failures.is_empty(),
                "events/{name}.json: {response:?}"
            );
            continue;
        }
        let req = lambda_http::request::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (status, body, content_type) = handle(name, req, &stack.store).await;
        assert_eq!(
            status,
            expected_status(name),
            "events/{name}.json answered {body}"
        );
        let expected_type = match name {
            "export-attendees" => "text/csv; charset=utf-8",
            _ => "application/json",
        };
        assert_eq!(
            content_type.as_deref(),
            Some(expected_type),
            "events/{name}.json"
        );
    }
}

#[test]
fn every_function_has_a_crate_an_event_and_a_route_and_nothing_else_does() {
    let root = repository_root();
    let functions = Template::of_repository().unwrap().functions().unwrap();
    let in_template: BTreeSet<&str> = functions.iter().map(|f| crate_name(&f.code_uri)).collect();
    for function in &functions {
        assert!(
            root.join(&function.code_uri).join("Cargo.toml").is_file(),
            "{}: no crate at {}",
            function.logical_id,
            function.code_uri
        );
        assert!(
            !function.routes.is_empty()
                || !function.queues.is_empty()
                || !function.streams.is_empty()
                || !function.schedules.is_empty(),
            "{} has no trigger",
            function.logical_id
        );
    }
    let dir_names = |dir: &str, suffix: &str| -> BTreeSet<String> {
        std::fs::read_dir(root.join(dir))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(suffix).map(str::to_owned))
            .collect()
    };
    let crates = dir_names("functions", "");
    let events = dir_names("events", ".json");
    let in_template: BTreeSet<String> = in_template.into_iter().map(str::to_owned).collect();
    assert_eq!(
        crates, in_template,
        "crates under functions/ and functions in template.yaml"
    );
    assert_eq!(
        events, in_template,
        "files under events/ and functions in template.yaml"
    );
}

#[test]
fn every_event_file_is_a_request_for_its_functions_route() {
    let root = repository_root();
    for function in Template::of_repository().unwrap().functions().unwrap() {
        let name = crate_name(&function.code_uri);
        let text =
            std::fs::read_to_string(root.join("events").join(format!("{name}.json"))).unwrap();
        let event: Value = serde_json::from_str(&text).unwrap();
        if function.routes.is_empty() {
            assert!(
                event["Records"].is_array() || event["detail-type"].is_string(),
                "events/{name}.json"
            );
            continue;
        }
        let route_key = event["routeKey"].as_str().unwrap();
        let routes: Vec<String> = function
            .routes
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        assert!(
            routes.iter().any(|r| r == route_key),
            "events/{name}.json is for {route_key}, not {routes:?}"
        );
        let has_claims = event["requestContext"]["authorizer"]["jwt"]["claims"].is_object();
        let authorized = function.routes.iter().any(|r| r.authorized);
        assert_eq!(
            has_claims, authorized,
            "events/{name}.json: claims exactly on authorized routes"
        );
    }
}
