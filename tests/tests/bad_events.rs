//! Every function fed events it should never get, through its real binary: truncated JSON, JSON of
//! the wrong type, another service's event, an HTTP event without its request context, bodies of
//! megabytes. Each gets a clean error (a 4xx answer, or a Lambda error that is not a panic), the
//! process lives on to serve the next one, and the table is left as it was.

mod support;

use std::collections::BTreeMap;

use aws_sdk_dynamodb::Client;
use bilheteria::store::DynamoStore;
use local::{
    lambda::Invoked,
    stack::{Options, Stack},
    template::{Function, repository_root},
};
use serde_json::{Value, json};

fn event_file(crate_name: &str) -> Value {
    let path = repository_root()
        .join("events")
        .join(format!("{crate_name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The bad payloads for one function, by name.
fn bad_payloads(function: &Function) -> Vec<(&'static str, Vec<u8>)> {
    let own = event_file(function.crate_name());
    let http = event_file("hold-seats");
    let sqs = event_file("process-requests");
    let scheduled = event_file("expire-holds");
    let json = |v: &Value| v.to_string().into_bytes();
    let mut payloads = vec![
        (
            "truncated JSON",
            br#"{"version":"2.0","routeKey":"POST /ev"#.to_vec(),
        ),
        ("not JSON", b"\x00\xffbinary".to_vec()),
        ("null", b"null".to_vec()),
        ("an array", b"[1,2,3]".to_vec()),
        ("a string", br#""Records""#.to_vec()),
        ("an empty object", b"{}".to_vec()),
    ];
    if !function.routes.is_empty() {
        let mut no_context = own.clone();
        no_context.as_object_mut().unwrap().remove("requestContext");
        let mut no_http = own.clone();
        no_http["requestContext"]
            .as_object_mut()
            .unwrap()
            .remove("http");
        let mut bad_base64 = own.clone();
        bad_base64["body"] = json!("%%% not base64 %%%");
        bad_base64["isBase64Encoded"] = json!(true);
        payloads.extend([
            ("an SQS event", json(&sqs)),
            ("a Scheduled Event", json(&scheduled)),
            ("no requestContext", json(&no_context)),
            ("no requestContext.http", json(&no_http)),
            ("a body that is not base64", json(&bad_base64)),
        ]);
        // Routes that read a body (a route that takes none ignores one, as servers do).
        if own["body"].is_string() {
            let mut wrong_types = own.clone();
            wrong_types["headers"] = json!(["content-type"]);
            wrong_types["body"] = json!({"sectors": 1});
            let mut wrong_shape = own.clone();
            wrong_shape["body"] =
                json!(r#"{"sectors": 1, "seats": {"a": null}, "quantity": "two"}"#);
            let mut huge = own.clone();
            huge["body"] = Value::String("{".repeat(5 * 1024 * 1024));
            let mut huge_json = own.clone();
            huge_json["body"] = Value::String(
                json!({"seats": vec!["A-1"; 400_000], "quantity": 2, "method": "card"}).to_string(),
            );
            payloads.extend([
                ("wrong-type headers and body", json(&wrong_types)),
                ("a body of the wrong shape", json(&wrong_shape)),
                ("a 5 MB body", json(&huge)),
                ("a 4 MB JSON body", json(&huge_json)),
            ]);
        }
    }
    if !function.queues.is_empty() {
        let mut garbled = sqs.clone();
        for record in garbled["Records"].as_array_mut().unwrap() {
            record["body"] = json!("}{ not a request");
        }
        let mut wrong_type = sqs.clone();
        wrong_type["Records"] = json!("not a list");
        let mut huge = garbled.clone();
        huge["Records"][0]["body"] = Value::String("[".repeat(5 * 1024 * 1024));
        payloads.extend([
            ("an HTTP event", json(&http)),
            ("a Scheduled Event", json(&scheduled)),
            ("records whose bodies are not requests", json(&garbled)),
            ("Records of the wrong type", json(&wrong_type)),
            ("a 5 MB record", json(&huge)),
        ]);
    }
    if !function.streams.is_empty() {
        let mut garbled = own.clone();
        for record in garbled["Records"].as_array_mut().unwrap() {
            record["dynamodb"]["NewImage"] = json!({"PK": {"S": "RESERVATION#x"}, "SK": {"S": "RESERVATION"}, "status": {"N": "7"}});
        }
        let mut wrong_type = own.clone();
        wrong_type["Records"] = json!("not a list");
        payloads.extend([
            ("an HTTP event", json(&http)),
            ("a Scheduled Event", json(&scheduled)),
            ("records whose images are not items", json(&garbled)),
            ("Records of the wrong type", json(&wrong_type)),
        ]);
    }
    if !function.schedules.is_empty() {
        let mut other_event = scheduled.clone();
        other_event["detail-type"] = json!("Object Created");
        other_event["source"] = json!("aws.s3");
        payloads.extend([
            ("an HTTP event", json(&http)),
            ("an SQS event", json(&sqs)),
            (
                "an EventBridge event that is not a schedule",
                json(&other_event),
            ),
        ]);
    }
    payloads
}

/// What was wrong with an invocation's outcome, if anything.
fn unclean(function: &Function, outcome: &Invoked) -> Option<String> {
    match outcome {
        Invoked::FunctionError(error) => {
            let message = error["errorMessage"].as_str().unwrap_or_default();
            let kind = error["errorType"].as_str().unwrap_or_default();
            (message.contains("panicked") || kind.is_empty())
                .then(|| format!("an unclean Lambda error: {error}"))
        }
        Invoked::Response(body) => {
            let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            if !function.routes.is_empty() {
                let status = body["statusCode"].as_u64().unwrap_or(0);
                let problem = body["headers"]["content-type"] == "application/problem+json";
                (!(400..500).contains(&status) || !problem)
                    .then(|| format!("not a 4xx problem: {body}"))
            } else if !function.queues.is_empty() || !function.streams.is_empty() {
                // Unreadable messages and changes are logged and passed over: nothing to retry.
                (body["batchItemFailures"] != json!([]))
                    .then(|| format!("records handed back for retry: {body}"))
            } else {
                Some(format!("a schedule's work ran on a bad event: {body}"))
            }
        }
    }
}

#[tokio::test]
async fn every_function_refuses_bad_events_cleanly_and_writes_nothing() {
    // The stream mapping would call the stream consumer on its own: only the bad events here.
    let stack = Stack::start(Options {
        streams: false,
        ..Options::default()
    })
    .await
    .unwrap();
    let table = stack.resource("Table").unwrap();
    let store = DynamoStore::new(stack.dynamodb_sdk(), &table);
    // The ids the event files name exist, with a hold, so bad events reach real data.
    support::seed_for_event_file(&store, "checkout").await;
    // The functions that sign tickets record the key's public half when they start, whatever
    // they are then given: recorded here first, so that only what the events wrote is compared.
    support::publish_ticket_key(&stack, &store).await;
    let client = Client::new(stack.dynamodb_sdk());
    let before = support::items(&client).await;

    let mut failures = Vec::new();
    let mut invocations: BTreeMap<String, usize> = BTreeMap::new();
    for function in stack.functions().to_vec() {
        for (name, payload) in bad_payloads(&function) {
            *invocations.entry(function.logical_id.clone()).or_default() += 1;
            match stack.invoke(&function.logical_id, payload).await {
                Ok(outcome) => {
                    if let Some(mut problem) = unclean(&function, &outcome) {
                        problem.truncate(300);
                        failures.push(format!("{} given {name}: {problem}", function.logical_id));
                    }
                }
                Err(e) => failures.push(format!("{} given {name}: {e}", function.logical_id)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // One process each served every bad event: none crashed and had to be started again.
    let reports = stack.lambda().reports();
    for (function, count) in &invocations {
        let mine: Vec<_> = reports.iter().filter(|r| &r.function == function).collect();
        assert_eq!(mine.len(), *count, "{function}: a REPORT per invocation");
        assert_eq!(
            mine.iter().filter(|r| r.init.is_some()).count(),
            1,
            "{function}: one cold start for all its bad events"
        );
    }
    let after = support::items(&client).await;
    let changed: Vec<&Value> = after.iter().filter(|i| !before.contains(i)).collect();
    let gone: Vec<&Value> = before.iter().filter(|i| !after.contains(i)).collect();
    assert!(
        changed.is_empty() && gone.is_empty(),
        "bad events wrote nothing; now: {changed:#?}\nbefore: {gone:#?}"
    );
    stack.stop().await;
}
