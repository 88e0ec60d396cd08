//! `local`: the bilheteria stack on loopback without Docker or an AWS account.

use std::{collections::BTreeMap, path::PathBuf, process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use local::{
    dynamodb::Storage,
    issuer::{ISSUER, Issuer},
    lambda::{Invoked, Logs},
    parameters::{self, ParameterError},
    seed::seed,
    stack::{Options, Stack},
    template::repository_root,
};

#[derive(Parser)]
#[command(
    name = "local",
    about = "Runs bilheteria on this machine: API, functions, DynamoDB, SQS, EventBridge"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    dev: DevArgs,
}

#[derive(clap::Args, Clone)]
struct DevArgs {
    /// The API's address.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// The API's port.
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// DynamoDB's port.
    #[arg(long, default_value_t = 8000)]
    dynamodb_port: u16,
    /// ministack's (SQS, EventBridge) port.
    #[arg(long, default_value_t = 4566)]
    queues_port: u16,
    /// The web app's port (its own origin, as CloudFront gives it in AWS).
    #[arg(long, default_value_t = 8080)]
    web_port: u16,
    /// Keep DynamoDB in memory instead of `.local/dynamodb.sqlite`.
    #[arg(long)]
    memory: bool,
    /// Skip the demo catalog.
    #[arg(long)]
    no_seed: bool,
    /// Run release builds of the functions.
    #[arg(long)]
    release: bool,
    /// The most processes one function runs at once.
    #[arg(long, default_value_t = 8)]
    max_instances: usize,
    /// Template parameters, as `sam` takes them: `HoldSeconds=60 SellerName="Cine Belas Artes"`
    /// (or `ParameterKey=HoldSeconds,ParameterValue=60`); over the config file's.
    #[arg(long, num_args = 1.., value_name = "KEY=VALUE")]
    parameter_overrides: Vec<String>,
    /// A `samconfig.toml`: its `parameter_overrides` (the `global`, then `local_start_api`
    /// sections of `--config-env`) apply when present.
    #[arg(long, default_value = "samconfig.toml")]
    config_file: PathBuf,
    /// The environment of the config file to read.
    #[arg(long, default_value = "default")]
    config_env: String,
}

#[derive(Subcommand)]
enum Command {
    /// Starts everything and serves the API until Ctrl-C (the default).
    Dev(DevArgs),
    /// Mints a token from the local issuer.
    Token {
        #[arg(long)]
        sub: String,
        /// In the `admin` group.
        #[arg(long)]
        admin: bool,
        /// Seconds the token is valid.
        #[arg(long, default_value_t = 3_600)]
        ttl: u64,
    },
    /// Invokes a function with an event file and prints its response, like `sam local invoke`.
    Invoke {
        /// The function's logical id in template.yaml, e.g. GetEventFunction.
        function: String,
        #[arg(long)]
        event: PathBuf,
        /// The running stack to invoke through; without one, an in-memory stack is started.
        #[arg(long, default_value = "http://127.0.0.1:3000")]
        api: String,
        #[arg(long)]
        release: bool,
    },
    /// Cold-starts every function `--runs` times with its events/ file and prints, from the REPORT
    /// lines, the median Init Duration and Duration and the binary's size.
    ColdStarts {
        #[arg(long, default_value_t = 10)]
        runs: usize,
        #[arg(long)]
        release: bool,
    },
    /// Checks that every place, count, unit of stock and real is accounted for (DESIGN.md §10)
    /// in the running stack's table; prints each violation and exits non-zero if there is one.
    Audit {
        /// Only what concerns this session (and its event's add-ons).
        #[arg(long)]
        session: Option<String>,
        /// The DynamoDB endpoint of the running stack.
        #[arg(long, default_value = "http://127.0.0.1:8000")]
        dynamodb: String,
        #[arg(long, default_value = "Table")]
        table: String,
        /// Seconds the functions' clock is moved (their `CLOCK_OFFSET_SECONDS`).
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        clock_offset: i64,
    },
    /// Fires a function's schedule now on the running stack.
    Tick {
        function: String,
        #[arg(long, default_value = "http://127.0.0.1:3000")]
        api: String,
    },
}

fn state_dir() -> PathBuf {
    repository_root().join(".local")
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => dev(cli.dev).await,
        Some(Command::Dev(args)) => dev(args).await,
        Some(Command::Token { sub, admin, ttl }) => token(&sub, admin, ttl),
        Some(Command::Invoke {
            function,
            event,
            api,
            release,
        }) => invoke(&function, &event, &api, release).await,
        Some(Command::ColdStarts { runs, release }) => cold_starts(runs, release).await,
        Some(Command::Audit {
            session,
            dynamodb,
            table,
            clock_offset,
        }) => audit(session.as_deref(), &dynamodb, &table, clock_offset).await,
        Some(Command::Tick { function, api }) => {
            post_and_print(&format!("{api}/_local/tick/{function}"), Vec::new()).await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("local: {e}");
            ExitCode::FAILURE
        }
    }
}

type Fallible = Result<(), Box<dyn std::error::Error>>;

async fn audit(session: Option<&str>, dynamodb: &str, table: &str, offset: i64) -> Fallible {
    let sdk = local::dynamodb::sdk_config(dynamodb).await;
    let store = bilheteria::store::DynamoStore::new(&sdk, table);
    let now = chrono::Utc::now() + chrono::Duration::seconds(offset);
    let mut audit = store.audit(now).await?;
    if let Some(session) = session {
        let id: bilheteria::domain::SessionId = session
            .parse()
            .map_err(|_| format!("`{session}` is not a session id"))?;
        let event = bilheteria::store::Catalog::session(&store, id)
            .await?
            .ok_or_else(|| format!("no session {id}"))?
            .event_id;
        audit = audit.of_session(id, Some(event));
    }
    print!("{audit}");
    if audit.violations.is_empty() {
        Ok(())
    } else {
        Err(format!("{} violations", audit.violations.len()).into())
    }
}

fn token(sub: &str, admin: bool, ttl: u64) -> Fallible {
    let issuer = Issuer::load_or_create(&state_dir().join("issuer.key"), ISSUER)?;
    println!("{}", issuer.mint(sub, admin, Duration::from_secs(ttl))?);
    Ok(())
}

/// The config file's parameter overrides, then the command line's.
fn parameters(args: &DevArgs) -> Result<BTreeMap<String, String>, ParameterError> {
    let config = repository_root().join(&args.config_file);
    let mut parameters = parameters::from_config(&config, &args.config_env)?;
    parameters.extend(parameters::parse(&args.parameter_overrides)?);
    Ok(parameters)
}

async fn dev(args: DevArgs) -> Fallible {
    let storage = if args.memory {
        Storage::Memory
    } else {
        Storage::File(state_dir().join("dynamodb.sqlite"))
    };
    if let Storage::File(path) = &storage {
        std::fs::create_dir_all(path.parent().unwrap_or(&state_dir()))?;
    }
    let overrides = parameters(&args)?;
    let options = Options {
        host: args.host,
        api_port: args.port,
        dynamodb_port: args.dynamodb_port,
        queues_port: args.queues_port,
        storage: storage.clone(),
        release: args.release,
        schedules: true,
        max_instances: args.max_instances,
        logs: Logs::Print,
        issuer_key: Some(state_dir().join("issuer.key")),
        web_port: Some(args.web_port),
        parameters: overrides.clone(),
        ..Options::default()
    };
    let stack = Stack::start(options).await?;
    let api = stack.api_url().to_owned();
    println!("bilheteria is running on loopback");
    if let Some(web) = stack.web_url() {
        println!("  storefront   {web}   ← open this");
    }
    println!("  API          {api}");
    println!("  API docs     {api}/docs  ({api}/openapi.yaml)");
    println!(
        "  DynamoDB     {}  ({})",
        stack.dynamodb_endpoint(),
        match &storage {
            Storage::Memory => "in memory".to_owned(),
            Storage::File(p) => p.display().to_string(),
        }
    );
    if let Some(queues) = stack.queues_endpoint() {
        println!("  SQS, EventBridge, Secrets Manager  {queues}");
    }
    if let Some(secret) = stack.secret("PaymentWebhookSecret") {
        println!("  webhook secret  {secret}  (signs simulated PIX and boleto notices)");
    }
    println!("  IAM          every function's AWS calls checked against its role in the template");
    for warning in stack.warnings() {
        println!("  not as in AWS: {warning}");
    }
    for (id, url) in stack.queue_urls() {
        println!("  queue {id}  {url}");
    }
    if !overrides.is_empty() {
        let given: Vec<String> = overrides.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("  parameters   {}", given.join(" "));
    }
    println!(
        "  functions    {} ({} build)",
        stack.functions().len(),
        if args.release { "release" } else { "debug" }
    );
    if !args.no_seed {
        match seed(&api, &stack.token("organiser", true)).await {
            Ok(Some(event)) => println!("  demo event   {api}/events/{event}"),
            Ok(None) => println!("  demo event   (the catalog already has events)"),
            Err(e) => eprintln!("local: {e}"),
        }
    }
    println!(
        "Tokens: cargo run -q -p local -- token --sub alice [--admin]. Ctrl-C stops everything."
    );
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    println!("stopping");
    stack.stop().await;
    Ok(())
}

async fn post_and_print(url: &str, body: Vec<u8>) -> Fallible {
    let resp = reqwest::Client::new()
        .post(url)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{url}: {e} (is `make dev` running?)"))?;
    let status = resp.status();
    let failed = resp.headers().contains_key("x-amz-function-error");
    let text = resp.text().await?;
    println!("{}", pretty(text.as_bytes()));
    if !status.is_success() || failed {
        return Err(format!(
            "{url}: {status}{}",
            if failed { " (function error)" } else { "" }
        )
        .into());
    }
    Ok(())
}

fn pretty(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| String::from_utf8_lossy(bytes).into_owned())
}

async fn invoke(function: &str, event: &PathBuf, api: &str, release: bool) -> Fallible {
    let payload = std::fs::read(event).map_err(|e| format!("{}: {e}", event.display()))?;
    serde_json::from_slice::<serde_json::Value>(&payload)
        .map_err(|e| format!("{} is not JSON: {e}", event.display()))?;
    let running = reqwest::Client::new()
        .post(format!("{api}/_local/invoke/"))
        .send()
        .await
        .is_ok();
    if running {
        return post_and_print(&format!("{api}/_local/invoke/{function}"), payload).await;
    }
    let queues = repository_root().join(".venv/bin/ministack").is_file();
    let stack = Stack::start(Options {
        release,
        queues,
        logs: Logs::Print,
        ..Options::default()
    })
    .await?;
    let result = stack.invoke(function, payload).await;
    stack.stop().await;
    match result? {
        Invoked::Response(body) => println!("{}", pretty(&body)),
        Invoked::FunctionError(error) => {
            println!("{}", serde_json::to_string_pretty(&error)?);
            return Err("the function returned an error".into());
        }
    }
    Ok(())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

async fn cold_starts(runs: usize, release: bool) -> Fallible {
    let queues = repository_root().join(".venv/bin/ministack").is_file();
    let stack = Stack::start(Options {
        release,
        queues,
        ..Options::default()
    })
    .await?;
    let functions = stack.functions().to_vec();
    for _ in 0..runs {
        stack.lambda().retire_idle().await;
        for function in &functions {
            let event = repository_root()
                .join("events")
                .join(format!("{}.json", function.crate_name()));
            let payload = std::fs::read(&event).map_err(|e| format!("{}: {e}", event.display()))?;
            stack.invoke(&function.logical_id, payload).await?;
        }
    }
    let reports = stack.lambda().reports();
    let sizes: std::collections::HashMap<String, u64> = stack
        .lambda()
        .functions()
        .map(|f| {
            (
                f.name.clone(),
                std::fs::metadata(&f.binary).map_or(0, |m| m.len()),
            )
        })
        .collect();
    stack.stop().await;
    println!(
        "{runs} cold starts each, {} build",
        if release { "release" } else { "debug" }
    );
    println!(
        "{:<26} {:>10} {:>16} {:>14} {:>10}",
        "function", "size (KB)", "init p50 (ms)", "duration p50", "max mem"
    );
    for function in &functions {
        let mine: Vec<_> = reports
            .iter()
            .filter(|r| r.function == function.logical_id)
            .collect();
        let init = median(
            mine.iter()
                .filter_map(|r| r.init)
                .map(|d| d.as_secs_f64() * 1000.0)
                .collect(),
        );
        let duration = median(
            mine.iter()
                .map(|r| r.duration.as_secs_f64() * 1000.0)
                .collect(),
        );
        let memory = mine.iter().map(|r| r.max_memory_used_mb).max().unwrap_or(0);
        let size = sizes.get(&function.logical_id).copied().unwrap_or(0) / 1024;
        println!(
            "{:<26} {size:>10} {init:>16.2} {duration:>11.2} ms {memory:>7} MB",
            function.logical_id
        );
    }
    Ok(())
}
