//! A 60,000-place stadium's sale, simulated with the box office's own allocation
//! (`domain::allocation::allocate`, the consumer's per-batch pool, the per-customer limit) and
//! the costs measured per operation, to check `docs/scale.md`:
//!
//! ```text
//! cargo run --release -p bilheteria --example stadium [-- --requests 1000000 --batch-ms 40]
//! ```
//!
//! Each sector is one FIFO message group, served one batch of up to 10 at a time; a batch takes
//! `--batch-ms` (receive, one BatchGetItem, the holds side by side, the line's progress) and a
//! batch of a sold-out sector `--reject-ms` (the records only); once a sector is marked sold out,
//! its new requests are turned away at the door (`request-tickets`). Requests arrive over ten
//! minutes, 40 % of them in the first minute; each asks for 1 to 4 tickets of one sector (chosen
//! in proportion to the sectors' sizes), from 400,000 customers. Deterministic (seeded).

use std::collections::{BinaryHeap, HashMap, VecDeque};

use bilheteria::domain::{
    RejectReason, SectorLayout,
    allocation::{Allocated, Ask, Pool, allocate},
    stock,
};

/// Per-operation figures, measured by `cargo nextest run -p bilheteria-tests --test capacity`
/// (write and read units) and assumed for AWS latencies (see docs/scale.md).
const ACCEPT_WCU: f64 = 3.0;
const ACCEPT_RCU: f64 = 3.0;
const SERVE_WCU_FULFILLED: f64 = 15.0;
const SERVE_WCU_REJECTED: f64 = 2.0;
const POLL_RCU: f64 = 0.5;
const WCU_PER_TICKET_AFTER_HOLD: f64 = 18.0;
const LIMIT: u32 = 6;
/// An answer at the door (a request for a sector marked sold out), in milliseconds.
const ACCEPT_MS: u64 = 20;
const CUSTOMERS: u64 = 400_000;

/// US dollars, us-east-1 list prices.
const PRICE_LAMBDA_REQUEST: f64 = 0.20 / 1e6;
const PRICE_LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
const PRICE_HTTP_API_REQUEST: f64 = 1.00 / 1e6;
const PRICE_SQS_FIFO_REQUEST: f64 = 0.50 / 1e6;
const PRICE_WRU: f64 = 0.625 / 1e6;
const PRICE_RRU: f64 = 0.125 / 1e6;
const PRICE_EVENT: f64 = 1.00 / 1e6;

struct Request {
    at_ms: u64,
    customer: String,
    quantity: u32,
}

struct Sector {
    code: &'static str,
    layout: SectorLayout,
    line: VecDeque<Request>,
    pool: Pool,
    sold_out_ms: Option<u64>,
    sold: u32,
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The reads of a request that waits `wait_ms`, as the storefront makes them (`web/src/storefront/
/// poll.ts`): one at once, then a quarter of the wait left (the estimate taken as exact) apart,
/// between 1 and 5 seconds.
fn polls(wait_ms: u64) -> u64 {
    let (mut at, mut reads) = (0, 0);
    while at < wait_ms {
        reads += 1;
        at += ((wait_ms - at) / 4).clamp(1_000, 5_000);
    }
    reads
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted
        .get(((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or(0)
}

fn main() {
    let requests = arg("--requests", 1_000_000);
    let batch_ms = arg("--batch-ms", 40);
    let reject_ms = arg("--reject-ms", 20);
    let mut rng = fastrand::Rng::with_seed(2026);

    let numbered = |rows, seats| SectorLayout::numbered(rows, seats, vec![]).unwrap();
    let ga = |capacity| SectorLayout::general_admission(capacity).unwrap();
    let mut sectors: Vec<Sector> = [
        ("norte", numbered(100, 100)),
        ("sul", numbered(100, 100)),
        ("leste", numbered(100, 100)),
        ("oeste", numbered(100, 100)),
        ("pista", ga(15_000)),
        ("pista-premium", ga(5_000)),
    ]
    .into_iter()
    .map(|(code, layout)| Sector {
        code,
        pool: Pool {
            free: layout.seats().collect(),
            places: i64::from(layout.capacity()),
            held: HashMap::new(),
            limit: LIMIT,
        },
        layout,
        line: VecDeque::new(),
        sold_out_ms: None,
        sold: 0,
    })
    .collect();
    let capacity: u32 = sectors.iter().map(|s| s.layout.capacity()).sum();

    // Arrivals: 40 % in the first minute, the rest over the next nine.
    let mut arrivals: Vec<(u64, usize, Request)> = (0..requests)
        .map(|i| {
            let at_ms = if i < requests * 4 / 10 {
                rng.u64(0..60_000)
            } else {
                rng.u64(60_000..600_000)
            };
            let mut pick = rng.u32(0..capacity);
            let sector = sectors
                .iter()
                .position(|s| {
                    let c = s.layout.capacity();
                    let here = pick < c;
                    pick = pick.saturating_sub(c);
                    here
                })
                .unwrap_or(0);
            let request = Request {
                at_ms,
                customer: format!("fan-{}", rng.u64(0..CUSTOMERS)),
                quantity: rng.u32(1..=4),
            };
            (at_ms, sector, request)
        })
        .collect();
    arrivals.sort_by_key(|(at, _, _)| *at);
    let peak_per_second = {
        let mut per_second: HashMap<u64, u64> = HashMap::new();
        for (at, _, _) in &arrivals {
            *per_second.entry(at / 1_000).or_default() += 1;
        }
        per_second.values().copied().max().unwrap_or(0)
    };
    for (_, sector, request) in arrivals {
        sectors[sector].line.push_back(request);
    }

    // Each sector's server: ready at a time; the earliest goes first.
    let mut ready: BinaryHeap<std::cmp::Reverse<(u64, usize)>> = (0..sectors.len())
        .map(|s| std::cmp::Reverse((0, s)))
        .collect();
    let mut held: HashMap<String, u32> = HashMap::new();
    let (mut waits_ms, mut batches, mut fulfilled, mut rejected) = (Vec::new(), 0u64, 0u64, 0u64);
    let mut at_door = 0u64;
    let mut by_reason: std::collections::BTreeMap<String, u64> = Default::default();
    let mut last_decision_ms = 0;
    while let Some(std::cmp::Reverse((now, s))) = ready.pop() {
        let sector = &mut sectors[s];
        let Some(first) = sector.line.front() else {
            continue;
        };
        if first.at_ms > now {
            ready.push(std::cmp::Reverse((first.at_ms, s)));
            continue;
        }
        let take = sector
            .line
            .iter()
            .take(10)
            .take_while(|r| r.at_ms <= now)
            .count();
        let batch: Vec<Request> = sector.line.drain(..take).collect();
        // What the consumer reads for a batch: its customers' counts.
        sector.pool.held = batch
            .iter()
            .map(|r| {
                (
                    r.customer.clone(),
                    held.get(&r.customer).copied().unwrap_or(0),
                )
            })
            .collect();
        let asks: Vec<Ask> = batch
            .iter()
            .map(|r| Ask {
                customer: r.customer.clone(),
                quantity: r.quantity,
            })
            .collect();
        let sold_out = sector.sold_out_ms.is_some();
        let given = if sold_out {
            vec![Allocated::Rejected(RejectReason::SoldOut); asks.len()]
        } else {
            allocate(&sector.layout, &mut sector.pool, &asks)
        };
        let took = if given.iter().any(|g| !matches!(g, Allocated::Rejected(_))) {
            batch_ms
        } else {
            reject_ms
        };
        let decided = now + took;
        for (request, given) in batch.iter().zip(&given) {
            waits_ms.push(decided - request.at_ms);
            match given {
                Allocated::Rejected(reason) => {
                    rejected += 1;
                    *by_reason.entry(format!("{reason:?}")).or_default() += 1;
                }
                _ => {
                    fulfilled += 1;
                    sector.sold += request.quantity;
                    *held.entry(request.customer.clone()).or_default() += request.quantity;
                }
            }
        }
        if !sold_out && sector.sold == sector.layout.capacity() {
            sector.sold_out_ms = Some(decided);
            // From the mark on (seen by `request-tickets` within a second), requests for the
            // sector are turned away at the door: they never join the line.
            let door = decided + 1_000;
            let before = sector.line.len();
            sector.line.retain(|r| r.at_ms <= door);
            let turned_away = (before - sector.line.len()) as u64;
            at_door += turned_away;
            waits_ms.extend(std::iter::repeat_n(ACCEPT_MS, turned_away as usize));
        }
        batches += 1;
        last_decision_ms = last_decision_ms.max(decided);
        ready.push(std::cmp::Reverse((decided, s)));
    }

    waits_ms.sort_unstable();
    let polls: u64 = waits_ms.iter().map(|w| polls(*w)).sum();
    let sold: u32 = sectors.iter().map(|s| s.sold).sum();
    let sold_out_at = sectors.iter().filter_map(|s| s.sold_out_ms).max();
    println!("stadium: {capacity} places in {} sectors", sectors.len());
    for s in &sectors {
        let shards = match s.layout {
            SectorLayout::GeneralAdmission { capacity } => stock::shards(capacity).len(),
            SectorLayout::Numbered { .. } => 0,
        };
        println!(
            "  {:<14} {:>6} places, {:>2} stock shards, sold {:>6}, sold out at {}",
            s.code,
            s.layout.capacity(),
            shards,
            s.sold,
            s.sold_out_ms
                .map_or("never".to_owned(), |t| format!("{:.1} s", t as f64 / 1e3))
        );
    }
    println!(
        "requests: {requests} over 10 minutes, peak {peak_per_second} a second; fulfilled {fulfilled}, refused in line {rejected} ({by_reason:?}), turned away at the door {at_door}"
    );
    println!(
        "sold {sold} of {capacity}; sold out at {}; last decision at {:.1} s; {batches} batches",
        sold_out_at.map_or("never".to_owned(), |t| format!("{:.1} s", t as f64 / 1e3)),
        last_decision_ms as f64 / 1e3
    );
    println!(
        "POST -> decision: p50 {:.1} s, p99 {:.1} s, max {:.1} s; {polls} polls (every second near the front, up to every 5 s further back)",
        percentile(&waits_ms, 0.5) as f64 / 1e3,
        percentile(&waits_ms, 0.99) as f64 / 1e3,
        waits_ms.last().copied().unwrap_or(0) as f64 / 1e3
    );

    // Costs of the sale until every request is decided and every ticket paid.
    let queued = requests - at_door;
    let wru = queued as f64 * ACCEPT_WCU
        + fulfilled as f64 * SERVE_WCU_FULFILLED
        + rejected as f64 * SERVE_WCU_REJECTED
        + f64::from(sold) * WCU_PER_TICKET_AFTER_HOLD;
    let rru = queued as f64 * ACCEPT_RCU + polls as f64 * POLL_RCU + batches as f64 * 25.0;
    let http = requests + polls + fulfilled * 2;
    let lambda_requests = http + batches;
    // 256 MB functions: an API call about 20 ms, a batch `batch_ms`.
    let gb_seconds = http as f64 * 0.020 * 0.25 + batches as f64 * batch_ms as f64 / 1e3 * 0.25;
    let sqs = queued + batches * 2;
    let events = fulfilled * 3;
    let cost = [
        ("API Gateway HTTP API", http as f64 * PRICE_HTTP_API_REQUEST),
        (
            "Lambda",
            lambda_requests as f64 * PRICE_LAMBDA_REQUEST + gb_seconds * PRICE_LAMBDA_GB_SECOND,
        ),
        ("DynamoDB writes", wru * PRICE_WRU),
        ("DynamoDB reads", rru * PRICE_RRU),
        ("SQS FIFO", sqs as f64 * PRICE_SQS_FIFO_REQUEST),
        ("EventBridge", events as f64 * PRICE_EVENT),
    ];
    println!(
        "units: {:.1} M write units, {:.1} M read units, {:.1} M HTTP requests, {:.1} M Lambda invocations, {:.0} GB-s, {:.2} M SQS requests",
        wru / 1e6,
        rru / 1e6,
        http as f64 / 1e6,
        lambda_requests as f64 / 1e6,
        gb_seconds,
        sqs as f64 / 1e6
    );
    for (what, usd) in &cost {
        println!("  {what:<22} US$ {usd:>8.2}");
    }
    println!(
        "  {:<22} US$ {:>8.2}",
        "total",
        cost.iter().map(|(_, c)| c).sum::<f64>()
    );
    println!(
        "peak Lambda concurrency: API about {:.0} (peak arrivals x 20 ms, polls included), consumer {} (one a sector)",
        (peak_per_second as f64 * 2.0) * 0.020,
        sectors.len()
    );
}
