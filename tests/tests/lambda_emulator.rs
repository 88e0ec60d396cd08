//! The Lambda Runtime API emulator with real processes: one invocation per process, warm reuse,
//! a new process when all are busy (up to the cap), the timeout enforced; and `local invoke`.

use std::{collections::HashSet, time::Duration};

use local::{
    lambda::{InvokeError, Invoked},
    stack::{Options, Stack},
    template::repository_root,
};
use serde_json::{Value, json};

async fn stack(max_instances: usize) -> Stack {
    let options = Options {
        template: repository_root().join("tests/fixtures/fifo-template.yaml"),
        queues: false,
        max_instances,
        ..Options::default()
    };
    Stack::start(options).await.unwrap()
}

fn pid(invoked: Invoked) -> u64 {
    match invoked {
        Invoked::Response(body) => serde_json::from_slice::<Value>(&body).unwrap()["pid"]
            .as_u64()
            .unwrap(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn busy_processes_are_not_shared_and_the_cap_holds() {
    let stack = stack(2).await;
    let sleep = || json!({"sleep_ms": 400}).to_string().into_bytes();
    let started = std::time::Instant::now();
    let calls = (0..4).map(|_| stack.invoke("SlowProbeFunction", sleep()));
    let pids: Vec<u64> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| pid(r.unwrap()))
        .collect();
    let elapsed = started.elapsed();
    let distinct: HashSet<_> = pids.iter().collect();
    assert_eq!(distinct.len(), 2, "two processes at most: {pids:?}");
    assert!(
        elapsed >= Duration::from_millis(800),
        "four 400 ms calls on two processes take two rounds: {elapsed:?}"
    );
    let reports = stack.lambda().reports();
    assert_eq!(
        reports.iter().filter(|r| r.init.is_some()).count(),
        2,
        "two cold starts, then warm reuse"
    );

    let again = pid(stack
        .invoke(
            "SlowProbeFunction",
            json!({"sleep_ms": 0}).to_string().into_bytes(),
        )
        .await
        .unwrap());
    assert!(distinct.contains(&again), "a warm process is reused");
    stack.stop().await;
}

#[tokio::test]
async fn an_invocation_past_the_timeout_is_cut_and_its_process_replaced() {
    let stack = stack(1).await;
    let first = pid(stack
        .invoke(
            "SlowProbeFunction",
            json!({"sleep_ms": 0}).to_string().into_bytes(),
        )
        .await
        .unwrap());
    let slow = stack
        .invoke(
            "SlowProbeFunction",
            json!({"sleep_ms": 3_000}).to_string().into_bytes(),
        )
        .await;
    assert!(matches!(slow, Err(InvokeError::Timeout { .. })), "{slow:?}");
    assert_eq!(stack.lambda().reports().last().unwrap().outcome, "timeout");
    let next = pid(stack
        .invoke(
            "SlowProbeFunction",
            json!({"sleep_ms": 0}).to_string().into_bytes(),
        )
        .await
        .unwrap());
    assert_ne!(
        first, next,
        "the timed-out process is gone; a new one serves"
    );
    stack.stop().await;
}

#[tokio::test]
async fn local_invoke_prints_the_functions_response() {
    let binary = repository_root().join("target/debug/local");
    let out = tokio::process::Command::new(&binary)
        .args([
            "invoke",
            "GetEventFunction",
            "--event",
            "events/get-event.json",
            "--api",
            "http://127.0.0.1:9",
        ])
        .current_dir(repository_root())
        .output()
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let response: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        response["statusCode"], 404,
        "a fresh stack has no such event: {response}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Init Duration"),
        "the REPORT line is printed"
    );
}
