//! `make bench`: the box office measured on this machine, release builds on the local stack.
//! Prints a table and writes `bench/results.json`; `docs/benchmarks.md` explains each figure.
//! It measures; it does not pass or fail on a time.
//!
//! - per function: stripped binary size (and the arm64 `bootstrap` when `make build` made one),
//!   Init Duration over cold starts, Duration p50/p99 warm, from the runtime emulator's REPORTs;
//! - DynamoDB calls and consumed WCU of a hold, an add-on change, a checkout, a queued request;
//! - the flash sale (2,000 requests from 500 customers for 300 seats): requests/s, POST → decision
//!   p50/p99;
//! - the DynamoDB emulator's own ceiling, on a stack of its own: raw TransactWriteItems a second
//!   from one client, and the flash sale's rate as a share of it;
//! - as a fan sees them, with the load generated on threads of its own: 2,000 direct one-place
//!   holds from 500 customers, 64 at a time, for 300 places; the same sale through the queue
//!   with every fan reading its request once a second until it is decided; 200 customers
//!   racing for the same 4 seats. Each with the CPU every part of the stack spent (`cpu`);
//! - a 50,000-seat session: how long its create takes, and its 20,000-seat sector's map read
//!   (bytes, latency).

mod cpu;
#[path = "../tests/support/mod.rs"]
mod support;

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use bilheteria::store::DynamoStore;
use futures::{StreamExt, stream};
use local::{
    dynamodb::sdk_config,
    lambda::Report,
    stack::{Options, Stack},
    template::repository_root,
};
use serde_json::{Value, json};
use support::{costs, sale};

const COLD_STARTS: usize = 10;
const WARM_INVOCATIONS: usize = 50;
const FLASH_REQUESTS: usize = 2_000;
const FLASH_CUSTOMERS: usize = 500;
/// 15 rows of 20: 300 seats.
const FLASH_ROWS: u32 = 15;
const FLASH_SEATS_PER_ROW: u32 = 20;
const RAW_TRANSACTIONS: usize = 2_000;
/// Direct holds: one place each, this many in flight.
const DIRECT_CONCURRENCY: usize = 64;
const RACERS: usize = 200;
/// How often a fan in the queue reads its request.
const POLL: Duration = Duration::from_secs(1);

type Fallible<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// The `p` quantile (0 to 1) of `values`, nearest rank; NaN when there are none.
fn quantile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn file_size(path: &std::path::Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// Cold starts, then warm invocations, of every function with its events/ file, on a table
/// seeded with what those files name.
async fn functions() -> Fallible<Vec<Value>> {
    let stack = Stack::start(Options {
        release: true,
        ..Options::default()
    })
    .await?;
    let store = DynamoStore::new(stack.dynamodb_sdk(), &stack.resource("Table").unwrap());
    support::seed_for_event_file(&store, "checkout").await;
    let functions = stack.functions().to_vec();
    let events: BTreeMap<String, Vec<u8>> = functions
        .iter()
        .map(|f| {
            let path = repository_root()
                .join("events")
                .join(format!("{}.json", f.crate_name()));
            (f.logical_id.clone(), std::fs::read(path).unwrap())
        })
        .collect();
    for _ in 0..COLD_STARTS {
        stack.lambda().retire_idle().await;
        for function in &functions {
            stack
                .invoke(&function.logical_id, events[&function.logical_id].clone())
                .await?;
        }
    }
    for function in &functions {
        for _ in 0..WARM_INVOCATIONS {
            stack
                .invoke(&function.logical_id, events[&function.logical_id].clone())
                .await?;
        }
    }
    let reports = stack.lambda().reports();
    let binaries: BTreeMap<String, std::path::PathBuf> = stack
        .lambda()
        .functions()
        .map(|f| (f.name.clone(), f.binary.clone()))
        .collect();
    stack.stop().await;

    let mut rows = Vec::new();
    for function in &functions {
        let mine: Vec<&Report> = reports
            .iter()
            .filter(|r| r.function == function.logical_id)
            .collect();
        let init: Vec<f64> = mine.iter().filter_map(|r| r.init).map(ms).collect();
        let warm: Vec<f64> = mine
            .iter()
            .filter(|r| r.init.is_none())
            .map(|r| ms(r.duration))
            .collect();
        let arm64 = repository_root()
            .join(".aws-sam/build")
            .join(&function.logical_id)
            .join("bootstrap");
        rows.push(json!({
            "function": function.logical_id,
            "size_bytes": file_size(&binaries[&function.logical_id]),
            "arm64_bootstrap_bytes": file_size(&arm64),
            "cold_starts": init.len(),
            "init_ms_p50": quantile(&init, 0.5),
            "warm_invocations": warm.len(),
            "warm_ms_p50": quantile(&warm, 0.5),
            "warm_ms_p99": quantile(&warm, 0.99),
            "max_memory_mb": mine.iter().map(|r| r.max_memory_used_mb).max(),
        }));
    }
    Ok(rows)
}

/// Raw TransactWriteItems a second on `endpoint` from one client: two new items a transaction,
/// first one at a time, then eight in flight.
async fn ceiling(endpoint: &str, table: &str) -> Fallible<Value> {
    let client = aws_sdk_dynamodb::Client::new(&sdk_config(endpoint).await);
    let transact = |i: usize| {
        let client = client.clone();
        let items: Vec<TransactWriteItem> = (0..2)
            .map(|k| {
                let put = Put::builder()
                    .table_name(table)
                    .item("PK", AttributeValue::S(format!("BENCH#{i}#{k}")))
                    .item("SK", AttributeValue::S("RAW".into()))
                    .condition_expression("attribute_not_exists(PK)")
                    .build()
                    .unwrap();
                TransactWriteItem::builder().put(put).build()
            })
            .collect();
        async move {
            client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await
                .map(|_| ())
        }
    };
    let started = Instant::now();
    for i in 0..RAW_TRANSACTIONS {
        transact(i).await?;
    }
    let one = RAW_TRANSACTIONS as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let failed = stream::iter(RAW_TRANSACTIONS..2 * RAW_TRANSACTIONS)
        .map(transact)
        .buffer_unordered(8)
        .filter(|r| futures::future::ready(r.is_err()))
        .count()
        .await;
    let eight = RAW_TRANSACTIONS as f64 / started.elapsed().as_secs_f64();
    Ok(json!({
        "transactions": RAW_TRANSACTIONS,
        "items_per_transaction": 2,
        "one_in_flight_per_s": one,
        "eight_in_flight_per_s": eight,
        "failed": failed,
    }))
}

/// What a scenario measured as its clients saw it, and the CPU the stack spent on it.
#[derive(serde::Serialize)]
struct Scenario {
    requests: usize,
    /// Answers by status.
    statuses: BTreeMap<u16, usize>,
    seconds: f64,
    per_second: f64,
    /// From each request to its answer (for the queue: to its decision as the fan read it).
    ms_p50: f64,
    ms_p99: f64,
    /// CPU milliseconds by part of the stack, and in all per request.
    cpu_ms: BTreeMap<String, f64>,
    cpu_ms_per_request: f64,
}

/// Each request's status and milliseconds to its answer (or decision).
type Answers = Vec<(u16, f64)>;

/// Runs `load` on the load generator's runtime and measures it.
async fn measured(
    runtime: &tokio::runtime::Runtime,
    load: impl std::future::Future<Output = Answers> + Send + 'static,
) -> Fallible<Scenario> {
    let before = cpu::read();
    let started = Instant::now();
    let answers = runtime.spawn(load).await?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu_ms = cpu::read().since(&before);
    let mut statuses = BTreeMap::new();
    for (status, _) in &answers {
        *statuses.entry(*status).or_default() += 1;
    }
    let latencies: Vec<f64> = answers.iter().map(|(_, ms)| *ms).collect();
    let total: f64 = cpu_ms.values().sum();
    Ok(Scenario {
        requests: answers.len(),
        statuses,
        seconds,
        per_second: answers.len() as f64 / seconds,
        ms_p50: quantile(&latencies, 0.5),
        ms_p99: quantile(&latencies, 0.99),
        cpu_ms_per_request: total / answers.len() as f64,
        cpu_ms,
    })
}

/// A fan's bearer token and what they send, for the load generator to carry off.
struct Fan {
    token: String,
    url: String,
    body: Value,
}

fn fans_of(sale: &sale::Sale, path: &str, n: usize, body: impl Fn(usize) -> Value) -> Vec<Fan> {
    (0..n)
        .map(|i| Fan {
            token: sale
                .stack
                .token(&format!("fan-{:03}", i % FLASH_CUSTOMERS), false),
            url: format!("{}{path}", sale.stack.api_url()),
            body: body(i),
        })
        .collect()
}

/// POSTs the fan's body: the status, the answer's body and how long it took.
async fn post(http: &reqwest::Client, fan: &Fan) -> (u16, Value, f64) {
    let started = Instant::now();
    let Ok(resp) = http
        .post(&fan.url)
        .bearer_auth(&fan.token)
        .json(&fan.body)
        .send()
        .await
    else {
        return (0, Value::Null, ms(started.elapsed()));
    };
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body, ms(started.elapsed()))
}

/// 2,000 direct one-place holds from 500 customers, `concurrency` at a time.
fn holds(sale: &sale::Sale, concurrency: usize) -> impl Future<Output = Answers> + use<> {
    let path = format!("/sessions/{}/holds", sale.session);
    let fans = fans_of(
        sale,
        &path,
        FLASH_REQUESTS,
        |_| json!({"places": [{"sector": "pista", "quantity": 1}]}),
    );
    async move {
        let http = reqwest::Client::new();
        stream::iter(fans)
            .map(move |fan| {
                let http = http.clone();
                async move {
                    let (status, _, took) = post(&http, &fan).await;
                    (status, took)
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await
    }
}

/// 2,000 one-seat requests from 500 customers at once, each fan then reading theirs once a
/// second until it is decided: the status it ended in (202 fulfilled or rejected, 409 turned
/// away at the door) and the milliseconds from the POST to the read that showed the decision.
fn fans(sale: &sale::Sale) -> impl Future<Output = Answers> + use<> {
    let path = format!("/sessions/{}/requests", sale.session);
    let fans = fans_of(
        sale,
        &path,
        FLASH_REQUESTS,
        |_| json!({"sector": "plateia", "quantity": 1}),
    );
    let api = sale.stack.api_url().to_owned();
    async move {
        let http = reqwest::Client::new();
        futures::future::join_all(fans.iter().map(|fan| {
            let (http, api) = (&http, &api);
            async move {
                let started = Instant::now();
                let (status, body, took) = post(http, fan).await;
                let Some(id) = body["request_id"].as_str().filter(|_| status == 202) else {
                    return (status, took);
                };
                let url = format!("{api}/requests/{id}");
                loop {
                    tokio::time::sleep(POLL).await;
                    let read = http.get(&url).bearer_auth(&fan.token).send().await;
                    let Ok(read) = read else { continue };
                    let record: Value = read.json().await.unwrap_or(Value::Null);
                    if record["status"] != "QUEUED" {
                        return (status, ms(started.elapsed()));
                    }
                }
            }
        }))
        .await
    }
}

/// 200 customers at once, each holding the same 4 seats.
fn race(sale: &sale::Sale) -> impl Future<Output = Answers> + use<> {
    let path = format!("/sessions/{}/holds", sale.session);
    let fans = fans_of(sale, &path, RACERS, |_| {
        support::hold_body(&["A-1", "A-2", "A-3", "A-4"], 0)
    });
    async move {
        let http = reqwest::Client::new();
        futures::future::join_all(fans.iter().map(|fan| {
            let http = &http;
            async move {
                let (status, _, took) = post(http, fan).await;
                (status, took)
            }
        }))
        .await
    }
}

/// The largest session (`sale::stadium`) created through the API, then its 20,000-seat
/// sector's map read `MAP_READS` times.
async fn stadium(options: Options) -> Fallible<Value> {
    const MAP_READS: usize = 50;
    let sale = sale::Sale::start(options, 1, 1).await;
    let (status, session, created) = sale.add_session(sale::stadium()).await;
    assert_eq!(status, 201, "{session}");
    let url = format!(
        "{}/sessions/{}/sectors/plateia/seats",
        sale.stack.api_url(),
        session["id"].as_str().unwrap_or_default()
    );
    let (mut bytes, mut reads) = (0, Vec::new());
    for _ in 0..MAP_READS {
        let started = Instant::now();
        bytes = sale.http.get(&url).send().await?.bytes().await?.len();
        reads.push(ms(started.elapsed()));
    }
    sale.stack.stop().await;
    Ok(json!({
        "seats": 50_000,
        "create_ms": ms(created),
        "map_seats": 20_000,
        "map_bytes": bytes,
        "map_ms_p50": quantile(&reads, 0.5),
        "map_ms_p99": quantile(&reads, 0.99),
    }))
}

#[tokio::main]
async fn main() -> Fallible {
    let run_started = Instant::now();
    eprintln!(
        "bench: {COLD_STARTS} cold starts and {WARM_INVOCATIONS} warm invocations of every function…"
    );
    let functions = functions().await?;

    eprintln!("bench: DynamoDB calls and WCU…");
    let purchase = costs::purchase().await;
    let queued = costs::queued().await;

    let options = || Options {
        release: true,
        ..sale::options(&[])
    };
    eprintln!("bench: the emulator's ceiling…");
    let stack = Stack::start(options()).await?;
    let ceiling = ceiling(stack.dynamodb_endpoint(), "Table").await?;
    stack.stop().await;

    eprintln!("bench: flash sale, {FLASH_REQUESTS} requests for 300 seats…");
    let flash = sale::Sale::start(options(), FLASH_ROWS, FLASH_SEATS_PER_ROW).await;
    let (rush, _) = flash.rush(FLASH_REQUESTS, FLASH_CUSTOMERS).await;
    flash.stack.stop().await;

    let load = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("load")
        .enable_all()
        .build()?;
    eprintln!(
        "bench: {FLASH_REQUESTS} direct holds, {DIRECT_CONCURRENCY} at a time, for 300 places…"
    );
    let places = json!({"sectors": [{"code": "pista", "name": "Pista", "kind": "general_admission",
        "capacity": FLASH_ROWS * FLASH_SEATS_PER_ROW, "price": {"cents": 18000}}]});
    let sale = sale::Sale::start_with(options(), 1, 1, places).await;
    let direct = measured(&load, holds(&sale, DIRECT_CONCURRENCY)).await?;
    sale.stack.stop().await;

    eprintln!("bench: the same sale through the queue, every fan reading its request each second…");
    let sale = sale::Sale::start(options(), FLASH_ROWS, FLASH_SEATS_PER_ROW).await;
    let queued_fans = measured(&load, fans(&sale)).await?;
    sale.stack.stop().await;

    eprintln!("bench: {RACERS} customers racing for the same 4 seats…");
    let sale = sale::Sale::start(options(), FLASH_ROWS, FLASH_SEATS_PER_ROW).await;
    let race = measured(&load, race(&sale)).await?;
    sale.stack.stop().await;
    load.shutdown_background();

    eprintln!("bench: a 50,000-seat session created, its 20,000-seat map read…");
    let stadium = stadium(options()).await?;

    let raw = ceiling["one_in_flight_per_s"].as_f64().unwrap_or(f64::NAN);
    let batch = queued.batch as f64;
    let results = json!({
        "machine": {
            "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "arch": std::env::consts::ARCH,
            "build": "release (the workspace's [profile.release])",
        },
        "functions": functions,
        "dynamodb": {
            "hold_cold": purchase.hold_cold,
            "hold_warm": purchase.hold_warm,
            "add_on_change": purchase.add_on,
            "checkout_card": purchase.checkout,
            "wcu_per_ticket_sold": purchase.wcu_per_ticket(),
            "queued_request_accept_per_request": {
                "calls": queued.accept.calls.len() as f64 / batch,
                "wcu": queued.accept.wcu / batch,
            },
            "queued_request_serve_per_request": {
                "calls": queued.serve.calls.len() as f64 / batch,
                "wcu": queued.serve.wcu / batch,
                "batch": queued.batch,
            },
        },
        "flash_sale": {
            "requests": rush.requests,
            "customers": FLASH_CUSTOMERS,
            "seats": FLASH_ROWS * FLASH_SEATS_PER_ROW,
            "fulfilled": rush.fulfilled,
            "posted_s": rush.posted.as_secs_f64(),
            "decided_s": rush.decided.as_secs_f64(),
            "requests_per_s": rush.rate(),
            "decision_ms_p50": rush.latency_ms(0.5),
            "decision_ms_p99": rush.latency_ms(0.99),
        },
        "as_fans_see_it": {
            "direct_holds": direct,
            "queued_with_polling": queued_fans,
            "four_seat_race": race,
        },
        "emulator_ceiling": ceiling,
        "flash_sale_share_of_ceiling": rush.rate() / raw,
        "stadium_session": stadium,
        "bench_seconds": run_started.elapsed().as_secs_f64(),
    });
    print_table(&results);
    let dir = repository_root().join("bench");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(&results)? + "\n",
    )?;
    println!("\nwritten: bench/results.json");
    Ok(())
}

fn print_table(r: &Value) {
    let kb = |v: &Value| {
        v.as_u64()
            .map_or("-".to_owned(), |b| format!("{}", b / 1024))
    };
    let f = |v: &Value| v.as_f64().map_or("-".to_owned(), |x| format!("{x:.2}"));
    println!(
        "| function | size (KB) | arm64 bootstrap (KB) | init p50 (ms) | warm p50 (ms) | warm p99 (ms) | max mem (MB) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in r["functions"].as_array().into_iter().flatten() {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            row["function"].as_str().unwrap_or_default(),
            kb(&row["size_bytes"]),
            kb(&row["arm64_bootstrap_bytes"]),
            f(&row["init_ms_p50"]),
            f(&row["warm_ms_p50"]),
            f(&row["warm_ms_p99"]),
            row["max_memory_mb"],
        );
    }
    println!("\n| operation | DynamoDB calls | WCU |\n|---|---:|---:|");
    let d = &r["dynamodb"];
    for (name, key) in [
        ("hold 2 seats, cold process", "hold_cold"),
        ("hold 2 seats, warm process", "hold_warm"),
        ("add-on change", "add_on_change"),
        ("checkout by card", "checkout_card"),
    ] {
        println!(
            "| {name} | {} ({}) | {} |",
            d[key]["calls"].as_array().map_or(0, Vec::len),
            d[key]["calls"]
                .as_array()
                .map(|c| c
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default(),
            f(&d[key]["wcu"]),
        );
    }
    for (name, key) in [
        (
            "queued request, accepted",
            "queued_request_accept_per_request",
        ),
        ("queued request, served", "queued_request_serve_per_request"),
    ] {
        println!(
            "| {name} (per request) | {} | {} |",
            f(&d[key]["calls"]),
            f(&d[key]["wcu"])
        );
    }
    println!(
        "| WCU per ticket sold (hold + add-on + checkout) | | {} |",
        f(&d["wcu_per_ticket_sold"])
    );
    let s = &r["flash_sale"];
    let c = &r["emulator_ceiling"];
    println!("\n| flash sale and ceiling | value |\n|---|---:|");
    println!(
        "| flash sale: {} requests, {} customers, {} seats ({} fulfilled) | all decided in {} s |",
        s["requests"],
        s["customers"],
        s["seats"],
        s["fulfilled"],
        f(&s["decided_s"])
    );
    println!(
        "| flash sale requests/s, end to end | {} |",
        f(&s["requests_per_s"])
    );
    println!(
        "| POST → decision p50 / p99 (ms) | {} / {} |",
        s["decision_ms_p50"], s["decision_ms_p99"]
    );
    println!(
        "| emulator ceiling: raw TransactWriteItems/s, one client, one in flight | {} |",
        f(&c["one_in_flight_per_s"])
    );
    println!(
        "| emulator ceiling: raw TransactWriteItems/s, one client, eight in flight | {} |",
        f(&c["eight_in_flight_per_s"])
    );
    println!(
        "| flash sale rate / ceiling (one in flight) | {} |",
        f(&r["flash_sale_share_of_ceiling"])
    );
    let t = &r["stadium_session"];
    println!(
        "| a {}-seat session created through the API (ms) | {} |",
        t["seats"],
        f(&t["create_ms"])
    );
    println!(
        "| its {}-seat sector's map: bytes, read p50 / p99 (ms) | {} B, {} / {} |",
        t["map_seats"],
        t["map_bytes"],
        f(&t["map_ms_p50"]),
        f(&t["map_ms_p99"])
    );
    println!(
        "\n| as fans see it | requests | answers | per second | p50 (ms) | p99 (ms) | CPU ms a request |\n|---|---:|---|---:|---:|---:|---:|"
    );
    let fans = &r["as_fans_see_it"];
    for (name, key) in [
        ("direct holds, 64 at a time, 300 places", "direct_holds"),
        (
            "queued, each fan reading once a second",
            "queued_with_polling",
        ),
        ("200 customers, the same 4 seats", "four_seat_race"),
    ] {
        let s = &fans[key];
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            s["requests"],
            s["statuses"],
            f(&s["per_second"]),
            f(&s["ms_p50"]),
            f(&s["ms_p99"]),
            f(&s["cpu_ms_per_request"]),
        );
    }
    println!("\n| CPU ms by part | direct holds | queued | race |\n|---|---:|---:|---:|");
    let mut parts: Vec<&String> = ["direct_holds", "queued_with_polling", "four_seat_race"]
        .iter()
        .filter_map(|k| fans[*k]["cpu_ms"].as_object())
        .flat_map(|o| o.keys())
        .collect();
    parts.sort();
    parts.dedup();
    for part in parts {
        println!(
            "| {part} | {} | {} | {} |",
            f(&fans["direct_holds"]["cpu_ms"][part]),
            f(&fans["queued_with_polling"]["cpu_ms"][part]),
            f(&fans["four_seat_race"]["cpu_ms"][part]),
        );
    }
}
