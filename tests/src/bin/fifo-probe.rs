//! A tiny SQS consumer for the queue-mapping tests: appends one line per record it handles to
//! `PROBE_LOG` (`<group> <body> <receive count> ok|failed|skipped`) and, like a FIFO consumer,
//! stops at the first record it cannot handle and reports it and every later record as failures.
//! A body starting with `fail-once` fails on its first receive; `poison` always fails.
//! A Scheduled Event is logged as `schedule <detail-type> - ok`; `{"sleep_ms": n}` sleeps, then
//! answers with its process id (for the runtime emulator's tests).

use std::io::Write;

use lambda_http::lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

fn append(path: &str, line: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(format!("{line}\n").as_bytes())
}

async fn handle(event: LambdaEvent<Value>, log: &str) -> Result<Value, Error> {
    if let Some(ms) = event.payload["sleep_ms"].as_u64() {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        return Ok(json!({ "pid": std::process::id() }));
    }
    if let Some(kind) = event.payload["detail-type"].as_str() {
        append(log, &format!("schedule {} - ok", kind.replace(' ', "-")))?;
        return Ok(Value::Null);
    }
    let mut failures = Vec::new();
    for record in event.payload["Records"].as_array().into_iter().flatten() {
        let attribute = |name: &str| {
            record["attributes"][name]
                .as_str()
                .unwrap_or("?")
                .to_owned()
        };
        let (group, count) = (
            attribute("MessageGroupId"),
            attribute("ApproximateReceiveCount"),
        );
        let body = record["body"].as_str().unwrap_or_default();
        let id = record["messageId"].clone();
        let outcome = if !failures.is_empty() {
            "skipped"
        } else if body.starts_with("poison") || (body.starts_with("fail-once") && count == "1") {
            "failed"
        } else {
            "ok"
        };
        append(log, &format!("{group} {body} {count} {outcome}"))?;
        if outcome != "ok" {
            failures.push(json!({ "itemIdentifier": id }));
        }
    }
    Ok(json!({ "batchItemFailures": failures }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let log = std::env::var("PROBE_LOG")?;
    run(service_fn(|event| handle(event, &log))).await
}
