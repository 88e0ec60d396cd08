//! The SQS FIFO event source mapping against ministack, with the fifo-probe consumer: order
//! within a group kept, a failed record and every later one redelivered, poison to the DLQ.

use std::{collections::BTreeMap, time::Duration};

use local::{
    dynamodb::sdk_config,
    stack::{Options, Stack},
    template::repository_root,
};

/// Reads the probe's log: one `(group, body, receive count, outcome)` a line.
fn probe_log(path: &std::path::Path) -> Vec<(String, String, u32, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let mut parts = line.split(' ');
            Some((
                parts.next()?.into(),
                parts.next()?.into(),
                parts.next()?.parse().unwrap_or(0),
                parts.next()?.into(),
            ))
        })
        .collect()
}

#[tokio::test]
async fn fifo_batches_keep_group_order_redeliver_failures_and_dead_letter_poison() {
    let log = std::env::temp_dir().join(format!("fifo-probe-{}.log", ulid_like()));
    let options = Options {
        template: repository_root().join("tests/fixtures/fifo-template.yaml"),
        visibility_timeout: Some(1),
        env: vec![("PROBE_LOG".into(), log.display().to_string())],
        ..Options::default()
    };
    let stack = Stack::start(options)
        .await
        .expect("the stack starts with ministack");
    let sqs = aws_sdk_sqs::Client::new(&sdk_config(stack.queues_endpoint().unwrap()).await);
    let queue = stack.resource("Probe").unwrap();

    let mut sent: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in 0..12 {
        for group in ["g1", "g2", "g3"] {
            let body = if group == "g2" && i == 4 {
                format!("fail-once-{i}")
            } else {
                format!("m{i:02}")
            };
            sqs.send_message()
                .queue_url(&queue)
                .message_group_id(group)
                .message_deduplication_id(format!("{group}-{i}"))
                .message_body(&body)
                .send()
                .await
                .unwrap();
            sent.entry(group.into()).or_default().push(body);
        }
    }
    sqs.send_message()
        .queue_url(&queue)
        .message_group_id("g4")
        .message_deduplication_id("g4-poison")
        .message_body("poison")
        .send()
        .await
        .unwrap();

    let ok = |log: &[(String, String, u32, String)], group: &str| -> Vec<String> {
        log.iter()
            .filter(|(g, _, _, o)| g == group && o == "ok")
            .map(|(_, b, _, _)| b.clone())
            .collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let dlq = stack.resource("ProbeDlq").unwrap();
    let mut dead = Vec::new();
    loop {
        let seen = probe_log(&log);
        let done = sent
            .iter()
            .all(|(group, bodies)| ok(&seen, group).len() >= bodies.len());
        if done && dead.is_empty() {
            let out = sqs
                .receive_message()
                .queue_url(&dlq)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            dead = out
                .messages
                .unwrap_or_default()
                .into_iter()
                .filter_map(|m| m.body)
                .collect();
        }
        if done && !dead.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not done in time: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let seen = probe_log(&log);
    for (group, bodies) in &sent {
        assert_eq!(
            &ok(&seen, group),
            bodies,
            "group {group}: each message once, in the order sent"
        );
    }
    let fail_once: Vec<_> = seen
        .iter()
        .filter(|(_, b, _, _)| b == "fail-once-4")
        .collect();
    assert_eq!(
        fail_once.len(),
        2,
        "failed on the first receive, handled on the second: {fail_once:?}"
    );
    assert_eq!((fail_once[0].2, fail_once[1].2), (1, 2));
    let skipped: Vec<_> = seen
        .iter()
        .filter(|(g, _, _, o)| g == "g2" && o == "skipped")
        .collect();
    for (_, body, _, _) in &skipped {
        assert!(
            seen.iter()
                .any(|(g, b, c, o)| g == "g2" && b == body && o == "ok" && *c >= 2),
            "{body} redelivered"
        );
    }
    assert_eq!(
        dead,
        ["poison"],
        "poison moved to the DLQ after maxReceiveCount"
    );
    let poison: Vec<_> = seen.iter().filter(|(g, _, _, _)| g == "g4").collect();
    assert_eq!(
        poison.len(),
        2,
        "poison received maxReceiveCount (2) times: {poison:?}"
    );

    let tick = reqwest::Client::new()
        .post(format!("{}/_local/tick/ProbeFunction", stack.api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(tick.status().as_u16(), 200);
    assert!(
        probe_log(&log)
            .iter()
            .any(|(g, b, _, _)| g == "schedule" && b == "Scheduled-Event"),
        "a tick delivers a Scheduled Event"
    );

    stack.stop().await;
    let _ = std::fs::remove_file(log);
}

fn ulid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    )
}
