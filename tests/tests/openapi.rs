//! `api/openapi.yaml` and the template kept in step, the document served by the local stack, and
//! the API fuzzed from it.

mod support;

use std::collections::BTreeMap;

use bilheteria::store::DynamoStore;
use local::{
    openapi::Spec,
    stack::{Options, SPEC_PATH, Stack},
    template::{Template, repository_root},
};

/// Generated test cases per operation and token.
const EXAMPLES_PER_OPERATION: &str = "30";
/// Checks that do not hold for this API by design: `unsupported_method` wants 405 where API
/// Gateway answers 404 for a route it does not have; `positive_data_acceptance` wants every
/// schema-valid request accepted, where a ticketing API refuses many on business rules (a sale
/// window passed, a seat taken, a card declined: 409, 422, 402) and refuses a whole number
/// written as `2.0`.
const EXCLUDED_CHECKS: &str = "unsupported_method,positive_data_acceptance";

fn spec() -> Spec {
    Spec::load(&repository_root().join(SPEC_PATH)).unwrap()
}

#[test]
fn every_template_route_is_in_the_spec_and_nothing_else_is() {
    let functions = Template::of_repository().unwrap().functions().unwrap();
    // route key → (operation id, needs a token), from each side.
    let in_template: BTreeMap<String, (String, bool)> = functions
        .iter()
        .flat_map(|f| {
            f.routes.iter().map(|r| {
                (
                    format!("{} {}", r.method, r.path),
                    (f.logical_id.clone(), r.authorized),
                )
            })
        })
        .collect();
    let in_spec: BTreeMap<String, (String, bool)> = spec()
        .operations()
        .into_iter()
        .map(|o| {
            (
                format!("{} {}", o.method, o.path),
                (o.operation_id, o.authorized),
            )
        })
        .collect();
    let missing: Vec<&String> = in_template
        .keys()
        .filter(|k| !in_spec.contains_key(*k))
        .collect();
    let extra: Vec<&String> = in_spec
        .keys()
        .filter(|k| !in_template.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "routes missing from {SPEC_PATH}: {missing:?}; in the spec but not in template.yaml: {extra:?}"
    );
    for (route, template_side) in &in_template {
        assert_eq!(
            &in_spec[route], template_side,
            "{route}: (operationId, needs a token) in the spec and the template's (function, auth)"
        );
    }
}

#[tokio::test]
async fn the_local_stack_serves_the_spec_and_its_interactive_reference() {
    let stack = Stack::start(Options {
        queues: false,
        web_port: Some(0),
        ..Options::default()
    })
    .await
    .unwrap();
    let api = stack.api_url().to_owned();
    let yaml = reqwest::get(format!("{api}/openapi.yaml")).await.unwrap();
    assert_eq!(yaml.status(), 200);
    assert_eq!(yaml.headers()["content-type"], "application/yaml");
    assert_eq!(
        yaml.headers()["access-control-allow-origin"],
        "*",
        "the reference reads it from the web app's origin"
    );
    assert_eq!(yaml.text().await.unwrap(), spec().yaml);
    // /docs is the web app's reference page (Swagger UI, bundled: no CDN).
    let page = reqwest::get(format!("{api}/docs")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.url().as_str(),
        format!("{}/docs.html", stack.web_url().unwrap())
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("/assets/docs-"), "{html}");
    assert!(!html.contains("https://"), "nothing from elsewhere: {html}");
    stack.stop().await;
}

#[tokio::test]
async fn the_api_fuzzed_from_its_spec_answers_no_5xx_and_only_what_the_spec_says() {
    let stack = Stack::start(Options::default()).await.unwrap();
    let store = DynamoStore::new(stack.dynamodb_sdk(), &stack.resource("Table").unwrap());
    // The ids the spec's examples name exist: an event, a session, a product, and the
    // customer's confirmed reservation with its tickets and invoice.
    support::seed_for_event_file(&store, "get-invoice").await;
    let api = stack.api_url().to_owned();
    let schemathesis = repository_root().join(".venv/bin/schemathesis");
    let mut generated = 0;
    for (who, token) in [
        ("admin", stack.token("organiser", true)),
        ("customer", stack.token(support::CUSTOMER, false)),
    ] {
        let report =
            std::env::temp_dir().join(format!("bilheteria-fuzz-{}-{who}.json", std::process::id()));
        let run = tokio::process::Command::new(&schemathesis)
            .arg("run")
            .arg(format!("{api}/openapi.yaml"))
            .args(["--url", &api])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args(["--checks", "all", "--exclude-checks", EXCLUDED_CHECKS])
            .args([
                "--max-examples",
                EXAMPLES_PER_OPERATION,
                "--seed",
                &std::env::var("FUZZ_SEED").unwrap_or_else(|_| "20261123".into()),
            ])
            // One worker: Python 3.11's parser is not safe across threads, and schemathesis parses
            // source while it generates ("AST constructor recursion depth mismatch" otherwise).
            .args(["--workers", "1", "--no-color"])
            .args(["--report", "json", "--report-json-path"])
            .arg(&report)
            .env("SCHEMATHESIS_TELEMETRY", "false")
            // Its caches go to the temporary folder, not into the repository.
            .current_dir(std::env::temp_dir())
            .output()
            .await
            .unwrap_or_else(|e| panic!("{}: {e} (make tools installs it)", schemathesis.display()));
        let text = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "schemathesis with the {who} token found failures:\n{text}\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        let _ = std::fs::remove_file(&report);
        assert_eq!(
            summary["operations"]["tested"].as_u64(),
            Some(spec().operations().len() as u64),
            "{who}: every operation tested\n{text}"
        );
        let cases = summary["test_cases"]["generated"].as_u64().unwrap();
        println!("{who}: {cases} generated test cases, no failures");
        generated += cases;
    }
    let invocations = stack.lambda().reports().len();
    println!("{generated} test cases; {invocations} function invocations behind the gateway");
    assert!(generated >= 1_000, "{generated} test cases");
    stack.stop().await;
}
