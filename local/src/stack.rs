//! The whole local stack on loopback: DynamoDB (dynoxide, in this process), SQS and EventBridge
//! (ministack, a child process), the template's resources provisioned, the API Gateway and
//! Lambda emulators running the real function binaries, queue and stream mappings and schedules.

use std::{
    collections::BTreeMap,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
    sync::Arc,
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    dynamodb::{
        DynamoDb, DynamoDbError, Storage, function_credentials, sdk_config, sdk_config_as,
        stream_arn,
    },
    gate::{Call, Gate},
    gateway::{self, Gateway, RouteError},
    issuer::{ISSUER, Issuer, IssuerError},
    lambda::{FunctionConfig, InvokeError, Invoked, Lambda, Logs},
    ministack::{Ministack, MinistackError},
    oidc,
    openapi::{Spec, SpecError},
    provision::{ProvisionError, Provisioned, Services, provision, table_arn},
    queue_source::{self, QueueMapping},
    schedule,
    stream_source::{self, Checkpoints, Mappings, StreamMapping},
    template::{Function, Template, TemplateError, repository_root},
    web,
};

/// The API's OpenAPI document, relative to the repository.
pub const SPEC_PATH: &str = "api/openapi.yaml";

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    DynamoDb(#[from] DynamoDbError),
    #[error(transparent)]
    Queues(#[from] MinistackError),
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    #[error(transparent)]
    Issuer(#[from] IssuerError),
    #[error(transparent)]
    Route(#[from] RouteError),
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Parameter(#[from] crate::parameters::ParameterError),
    #[error("cannot listen on {addr}: {source} (is it taken? choose another with --port)")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the web app is not built: no {0}/index.html (run `make web`)")]
    WebNotBuilt(String),
    #[error("function binaries not built: {0} (run `cargo build --workspace{1}`)")]
    NotBuilt(String, &'static str),
}

#[derive(Clone, Debug)]
pub struct Options {
    /// The repository: `target/`, `.venv`.
    pub root: PathBuf,
    /// The template to run; the repository's `template.yaml` by default.
    pub template: PathBuf,
    pub host: IpAddr,
    /// The API's port; 0 picks a free one.
    pub api_port: u16,
    /// DynamoDB's port; 0 picks a free one.
    pub dynamodb_port: u16,
    /// ministack's port; 0 picks a free one.
    pub queues_port: u16,
    pub storage: Storage,
    /// Run release builds of the functions instead of debug ones.
    pub release: bool,
    /// Start ministack and provision queues, buses and rules (and run queue mappings).
    pub queues: bool,
    /// Fire schedules at their rate (a tick always works).
    pub schedules: bool,
    /// Run the stream mappings (with `queues`: their consumer publishes to the bus).
    pub streams: bool,
    pub max_instances: usize,
    pub pollers: usize,
    pub logs: Logs,
    /// Extra environment for every function (e.g. a short `HOLD_SECONDS` in tests).
    pub env: Vec<(String, String)>,
    /// Visibility timeout for messages the queue mappings receive, instead of the queue's.
    pub visibility_timeout: Option<i32>,
    /// Serve the web app (`web/dist`) on this port (0 picks a free one); not at all when `None`.
    pub web_port: Option<u16>,
    /// Where the persistent issuer key lives; a random key when `None`.
    pub issuer_key: Option<PathBuf>,
    /// Values of the template's parameters, instead of their defaults (`--parameter-overrides`).
    pub parameters: BTreeMap<String, String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            root: repository_root(),
            template: repository_root().join("template.yaml"),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            api_port: 0,
            dynamodb_port: 0,
            queues_port: 0,
            storage: Storage::Memory,
            release: false,
            queues: true,
            schedules: false,
            streams: true,
            max_instances: 8,
            pollers: 2,
            // Tests print the functions' logs with TEST_LOG set.
            logs: if std::env::var_os("TEST_LOG").is_some() {
                Logs::Print
            } else {
                Logs::Discard
            },
            env: Vec::new(),
            visibility_timeout: None,
            web_port: None,
            issuer_key: None,
            parameters: BTreeMap::new(),
        }
    }
}

pub struct Stack {
    api_url: String,
    web_url: Option<String>,
    dynamodb: DynamoDb,
    ministack: Option<Ministack>,
    queue_restart: QueueRestart,
    /// Taken while the bus is set up again (see [`Mappings::bus`]).
    bus_setup: Arc<tokio::sync::RwLock<()>>,
    lambda: Arc<Lambda>,
    /// Queue mappings turned off (`Stack::enable_mapping`).
    disabled: Arc<queue_source::Disabled>,
    gate: Arc<Gate>,
    gate_url: String,
    issuer: Arc<Issuer>,
    provisioned: Provisioned,
    functions: Vec<Function>,
    control: Arc<Control>,
    sdk: aws_config::SdkConfig,
    /// How far the functions' clock is moved from this machine's.
    clock: std::sync::Mutex<chrono::Duration>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// What starting ministack again takes.
struct QueueRestart {
    venv: PathBuf,
    host: IpAddr,
    state: Option<PathBuf>,
    /// The template's queues, buses and rules.
    template: Template,
}

/// Where ministack keeps its queues and buses across restarts: beside a persistent DynamoDB file.
fn queue_state(storage: &Storage) -> Option<PathBuf> {
    match storage {
        Storage::File(path) => Some(path.with_extension("ministack")),
        Storage::Memory => None,
    }
}

struct Control {
    lambda: Arc<Lambda>,
    functions: Vec<Function>,
}

impl Control {
    async fn tick(&self, function: &str) -> Result<Invoked, InvokeError> {
        let name = self
            .functions
            .iter()
            .find(|f| f.logical_id == function)
            .and_then(|f| f.schedules.first())
            .map_or("Schedule".to_owned(), |s| s.name.clone());
        self.lambda
            .invoke(
                function,
                schedule::scheduled_event(function, &name)
                    .to_string()
                    .into_bytes(),
            )
            .await
    }
}

fn invoked_response(result: Result<Invoked, InvokeError>) -> Response {
    match result {
        Ok(Invoked::Response(body)) => {
            (StatusCode::OK, [("content-type", "application/json")], body).into_response()
        }
        Ok(Invoked::FunctionError(error)) => (
            StatusCode::OK,
            [
                ("x-amz-function-error", "Unhandled"),
                ("content-type", "application/json"),
            ],
            error.to_string(),
        )
            .into_response(),
        Err(InvokeError::UnknownFunction(f)) => {
            (StatusCode::NOT_FOUND, format!("no function {f}\n")).into_response()
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("{e}\n")).into_response(),
    }
}

async fn tick_route(State(control): State<Arc<Control>>, Path(function): Path<String>) -> Response {
    invoked_response(control.tick(&function).await)
}

async fn invoke_route(
    State(control): State<Arc<Control>>,
    Path(function): Path<String>,
    body: Bytes,
) -> Response {
    invoked_response(control.lambda.invoke(&function, body.to_vec()).await)
}

impl Stack {
    pub async fn start(options: Options) -> Result<Self, StackError> {
        let mut template = Template::load(&options.template)?;
        crate::parameters::apply(&mut template, &options.parameters)?;
        let functions = template.functions()?;
        let profile = if options.release { "release" } else { "debug" };
        let binary = |f: &Function| {
            options
                .root
                .join("target")
                .join(profile)
                .join(f.crate_name())
        };
        let missing: Vec<String> = functions
            .iter()
            .filter(|f| !binary(f).is_file())
            .map(|f| f.crate_name().to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(StackError::NotBuilt(
                missing.join(", "),
                if options.release { " --release" } else { "" },
            ));
        }

        let dynamodb = DynamoDb::start(
            SocketAddr::new(options.host, options.dynamodb_port),
            options.storage.clone(),
        )
        .await?;
        let queue_state = queue_state(&options.storage);
        let ministack = if options.queues {
            Some(
                Ministack::start(
                    &options.root.join(".venv"),
                    options.host,
                    options.queues_port,
                    queue_state.as_deref(),
                )
                .await?,
            )
        } else {
            None
        };
        let sdk = sdk_config(dynamodb.endpoint()).await;
        let queue_sdk = match &ministack {
            Some(m) => Some(sdk_config(m.endpoint()).await),
            None => None,
        };
        let dynamodb_client = aws_sdk_dynamodb::Client::new(&sdk);
        let services = queue_sdk.as_ref().map(Services::new);
        // A persistent file keeps its tables: only a new one is provisioned.
        let kept_tables =
            matches!(options.storage, Storage::File(_)) && has_tables(&dynamodb_client).await;
        let without_tables;
        let to_provision = if kept_tables {
            without_tables = template_without_tables(&template);
            &without_tables
        } else {
            &template
        };
        let provisioned = provision(
            to_provision,
            &dynamodb_client,
            services.as_ref(),
            &BTreeMap::new(),
        )
        .await?;
        let mut provisioned = provisioned;
        for (id, spec) in template.tables()? {
            if let Some(arn) = stream_arn(&dynamodb_client, &id, &spec).await? {
                provisioned.values.insert(format!("{id}.StreamArn"), arn);
            }
            provisioned
                .values
                .insert(format!("{id}.Arn"), table_arn(&id));
            provisioned.values.entry(id.clone()).or_insert(id);
        }
        // Parameters with no default (secrets asked for at deploy) get a local value.
        for (name, parameter) in &template.parameters {
            if parameter.get("Default").is_none() {
                provisioned
                    .values
                    .entry(name.clone())
                    .or_insert_with(|| local_parameter(name));
            }
        }

        // Every AWS call of a function goes through the IAM gate, which decides with the role the
        // template gives it; a reference the stack did not provision (no ministack) matches nothing.
        let roles = functions
            .iter()
            .map(|f| {
                let names = |name: &str| {
                    if template.parameters.contains_key(name) {
                        return None;
                    }
                    Some(
                        provisioned
                            .lookup(name)
                            .unwrap_or_else(|| format!("unprovisioned:{name}")),
                    )
                };
                Ok((f.logical_id.clone(), template.role(&f.logical_id, &names)?))
            })
            .collect::<Result<_, TemplateError>>()?;
        let (gate_listener, gate_url) = listen(options.host, 0).await?;
        let gate = Arc::new(Gate::new(
            roles,
            dynamodb.endpoint().to_owned(),
            ministack.as_ref().map(|m| m.endpoint().to_owned()),
            provisioned.secrets.clone(),
            options.logs == Logs::Print,
        ));
        // Without ministack, SQS and EventBridge calls go to a closed local port: they fail at
        // once and nothing ever leaves this machine.
        let queues_endpoint = if ministack.is_some() {
            gate_url.clone()
        } else {
            format!("http://{}:1", options.host)
        };
        let endpoints = [
            ("AWS_ENDPOINT_URL_DYNAMODB", gate_url.clone()),
            ("AWS_ENDPOINT_URL_SQS", queues_endpoint.clone()),
            ("AWS_ENDPOINT_URL_EVENTBRIDGE", queues_endpoint.clone()),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", queues_endpoint),
            ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
        ];
        let configs = functions
            .iter()
            .map(|f| {
                let mut env: Vec<(String, String)> = f
                    .environment
                    .iter()
                    .filter_map(|(k, v)| {
                        Some((
                            k.clone(),
                            template.resolve(v, &|name| provisioned.lookup(name))?,
                        ))
                    })
                    .collect();
                if let Some(format) = &f.log_format {
                    env.push(("AWS_LAMBDA_LOG_FORMAT".into(), format.clone()));
                }
                env.extend(endpoints.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
                env.push(("AWS_ACCESS_KEY_ID".into(), f.logical_id.clone()));
                env.extend(options.env.iter().cloned());
                FunctionConfig {
                    name: f.logical_id.clone(),
                    binary: binary(f),
                    env,
                    timeout: Duration::from_secs(f.timeout_seconds),
                    memory_mb: f.memory_mb,
                }
            })
            .collect();
        let lambda = Arc::new(Lambda::new(configs, options.max_instances, options.logs));
        let (stop, stopped) = watch::channel(false);
        let disabled = Arc::new(queue_source::Disabled::default());

        let (listener, api_url) = listen(options.host, options.api_port).await?;
        // The web app's origin: CloudFront's in AWS, this listener's here.
        let (web, web_url) = match options.web_port {
            Some(port) => {
                let (listener, url) = listen(options.host, port).await?;
                let dist = options.root.join("web").join("dist");
                if !dist.join("index.html").is_file() {
                    return Err(StackError::WebNotBuilt(dist.display().to_string()));
                }
                (Some((listener, dist)), Some(url))
            }
            None => (None, None),
        };
        let issuer = Arc::new(match &options.issuer_key {
            Some(path) => Issuer::load_or_create(path, ISSUER)?,
            None => Issuer::random(ISSUER),
        });
        let gateway = Arc::new(Gateway::new(
            &functions,
            local_cors(&template, &provisioned, web_url.as_deref()),
            lambda.clone(),
            issuer.clone(),
        )?);
        let control = Arc::new(Control {
            lambda: lambda.clone(),
            functions: functions.clone(),
        });
        let spec = Spec::load(&options.root.join(SPEC_PATH))?;
        let yaml = spec.yaml.clone();
        // The interactive reference is a page of the web app (Swagger UI, bundled).
        let reference = web_url.as_ref().map(|w| format!("{w}/docs.html"));
        let app = Router::new()
            .route("/_local/tick/{function}", post(tick_route))
            .route("/_local/invoke/{function}", post(invoke_route))
            .with_state(control.clone())
            .route(
                "/openapi.yaml",
                get(move || async move {
                    (
                        [
                            ("content-type", "application/yaml"),
                            // The reference on the web app's origin reads it.
                            ("access-control-allow-origin", "*"),
                        ],
                        yaml,
                    )
                }),
            )
            .route(
                "/docs",
                get(move || async move {
                    match reference {
                        Some(page) => Redirect::temporary(&page).into_response(),
                        None => (
                            StatusCode::NOT_FOUND,
                            "the API reference is a page of the web app: start the stack with it\n",
                        )
                            .into_response(),
                    }
                }),
            )
            .nest(oidc::PATH, oidc::router(issuer.clone(), &api_url))
            .merge(Router::new().fallback(gateway::handle).with_state(gateway));
        let mut server_stop = stopped.clone();
        let mut tasks = vec![gate.clone().serve(gate_listener, stopped.clone())];
        tasks.push(tokio::spawn(async move {
            let served = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|s| *s).await;
            })
            .await;
            if let Err(e) = served {
                eprintln!("[gateway] stopped: {e}");
            }
        }));

        if let Some((listener, dist)) = web {
            tasks.push(web::serve(
                listener,
                &dist,
                web::config(&api_url, &oidc::authority(&api_url)),
                stopped.clone(),
            ));
        }
        if services.is_some() {
            for function in &functions {
                // Lambda reads the queue with the function's execution role.
                let sqs = aws_sdk_sqs::Client::new(
                    &sdk_config_as(&gate_url, function_credentials(&function.logical_id)).await,
                );
                for source in &function.queues {
                    let mapping = QueueMapping {
                        function: function.logical_id.clone(),
                        queue_url: provisioned
                            .queue_urls
                            .get(&source.queue)
                            .cloned()
                            .unwrap_or_default(),
                        queue_arn: provisioned
                            .lookup(&format!("{}.Arn", source.queue))
                            .unwrap_or_default(),
                        batch_size: source.batch_size,
                        report_batch_item_failures: source.report_batch_item_failures,
                        visibility_timeout: options.visibility_timeout,
                    };
                    tasks.extend(queue_source::spawn(
                        mapping,
                        sqs.clone(),
                        lambda.clone(),
                        options.pollers,
                        disabled.clone(),
                        stopped.clone(),
                    ));
                }
            }
        }
        let bus_setup = Arc::new(tokio::sync::RwLock::new(()));
        // Stream consumers publish to the bus: they run when ministack does.
        if services.is_some() && options.streams {
            let mut with = Mappings {
                streams: aws_sdk_dynamodbstreams::Client::new(&sdk),
                lambda: lambda.clone(),
                checkpoints: Arc::new(std::sync::Mutex::new(Checkpoints::load(stream_positions(
                    &options.storage,
                )))),
                bus: bus_setup.clone(),
            };
            for function in &functions {
                // Lambda reads the stream with the function's execution role.
                with.streams = aws_sdk_dynamodbstreams::Client::new(
                    &sdk_config_as(&gate_url, function_credentials(&function.logical_id)).await,
                );
                for source in &function.streams {
                    let Some(stream_arn) =
                        provisioned.lookup(&format!("{}.StreamArn", source.table))
                    else {
                        eprintln!(
                            "[stream] {}: table {} has no stream (StreamSpecification)",
                            function.logical_id, source.table
                        );
                        continue;
                    };
                    let mapping = StreamMapping {
                        function: function.logical_id.clone(),
                        stream_arn,
                        starting_position: source.starting_position.clone(),
                        batch_size: source.batch_size,
                        report_batch_item_failures: source.report_batch_item_failures,
                        maximum_retry_attempts: source.maximum_retry_attempts,
                    };
                    tasks.push(stream_source::spawn(mapping, with.clone(), stopped.clone()));
                }
            }
        }
        if options.schedules {
            for function in &functions {
                for s in function.schedules.iter().filter(|s| s.enabled) {
                    let Some(period) = schedule::rate(&s.expression) else {
                        eprintln!(
                            "[schedule] {}: only rate(...) expressions run locally; `local tick {}` fires it",
                            s.expression, function.logical_id
                        );
                        continue;
                    };
                    let (control, name, mut stopped) = (
                        control.clone(),
                        function.logical_id.clone(),
                        stopped.clone(),
                    );
                    tasks.push(tokio::spawn(async move {
                        let mut every =
                            tokio::time::interval_at(tokio::time::Instant::now() + period, period);
                        loop {
                            tokio::select! {
                                _ = every.tick() => { let _ = control.tick(&name).await; }
                                _ = stopped.changed() => break,
                            }
                        }
                    }));
                }
            }
        }

        Ok(Self {
            api_url,
            web_url,
            dynamodb,
            ministack,
            bus_setup,
            queue_restart: QueueRestart {
                venv: options.root.join(".venv"),
                host: options.host,
                state: queue_state,
                template: template_without_tables(&template),
            },
            lambda,
            disabled,
            gate,
            gate_url,
            issuer,
            provisioned,
            functions,
            control,
            sdk,
            clock: std::sync::Mutex::new(clock_offset(&options.env)),
            stop,
            tasks,
        })
    }

    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// Where the web app is served, if it is.
    pub fn web_url(&self) -> Option<&str> {
        self.web_url.as_deref()
    }

    pub fn dynamodb_endpoint(&self) -> &str {
        self.dynamodb.endpoint()
    }

    pub fn queues_endpoint(&self) -> Option<&str> {
        self.ministack.as_ref().map(Ministack::endpoint)
    }

    /// SDK configuration for DynamoDB clients of this stack.
    pub fn dynamodb_sdk(&self) -> &aws_config::SdkConfig {
        &self.sdk
    }

    pub fn lambda(&self) -> &Lambda {
        &self.lambda
    }

    /// Every distinct AWS authorisation a function (or its event source mapping) was granted.
    pub fn iam_allowed(&self) -> std::collections::BTreeSet<Call> {
        self.gate.allowed()
    }

    /// Every AWS authorisation a function was refused, in order.
    pub fn iam_denied(&self) -> Vec<Call> {
        self.gate.denied()
    }

    /// Where the functions' AWS calls go (the IAM gate in front of every emulator).
    pub fn gate_url(&self) -> &str {
        &self.gate_url
    }

    /// The IAM gate: the functions' roles, as the template gives them.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    pub fn functions(&self) -> &[Function] {
        &self.functions
    }

    /// What the template sets that the local stack does not keep or run (printed at start).
    pub fn warnings(&self) -> &[String] {
        &self.provisioned.warnings
    }

    /// The value of the secret `logical_id` (`PaymentWebhookSecret`), as the functions read it.
    pub fn secret(&self, logical_id: &str) -> Option<&str> {
        self.provisioned
            .secret_values
            .get(logical_id)
            .map(String::as_str)
    }

    /// Local names of provisioned resources by logical id (`Requests` → its queue URL).
    pub fn resource(&self, name: &str) -> Option<String> {
        self.provisioned.lookup(name)
    }

    pub fn queue_urls(&self) -> &std::collections::BTreeMap<String, String> {
        &self.provisioned.queue_urls
    }

    /// A token from the local issuer, as `local token` mints it.
    pub fn token(&self, sub: &str, admin: bool) -> String {
        self.issuer
            .mint(sub, admin, Duration::from_secs(3_600))
            .unwrap_or_default()
    }

    /// A token of a user in `groups` (`staff` for the door).
    pub fn token_in(&self, sub: &str, groups: &[&str]) -> String {
        self.issuer
            .mint_in(sub, groups, Duration::from_secs(3_600))
            .unwrap_or_default()
    }

    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    pub async fn invoke(&self, function: &str, payload: Vec<u8>) -> Result<Invoked, InvokeError> {
        self.lambda.invoke(function, payload).await
    }

    /// Moves the clock every function reads `offset` away from this machine's (what the
    /// template's `ClockOffsetSeconds` sets): processes started after this read it, so time
    /// jumps past a hold's end or a sale's close without waiting for it.
    pub async fn set_clock(&self, offset: chrono::Duration) {
        *self.clock.lock().unwrap_or_else(|e| e.into_inner()) = offset;
        self.lambda
            .set_env("CLOCK_OFFSET_SECONDS", &offset.num_seconds().to_string())
            .await;
    }

    /// Moves the functions' clock `by` further (see [`Stack::set_clock`]).
    pub async fn advance_clock(&self, by: chrono::Duration) {
        let offset = *self.clock.lock().unwrap_or_else(|e| e.into_inner()) + by;
        self.set_clock(offset).await;
    }

    /// Now, on the functions' clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + *self.clock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fires `function`'s schedule now.
    pub async fn tick(&self, function: &str) -> Result<Invoked, InvokeError> {
        self.control.tick(function).await
    }

    /// Turns `function`'s queue mapping on or off, as `UpdateEventSourceMapping` with `Enabled`
    /// does: while off, its messages wait in the queue. Turning it off returns once the batch
    /// in flight, if any, is handled.
    pub async fn enable_mapping(&self, function: &str, enabled: bool) {
        self.disabled.set(function, !enabled).await;
    }

    /// Lets `function`'s disabled queue mapping hand over `batches` more batches, and returns
    /// once they are handled: the queue's consumer, one batch at a time.
    pub async fn step_mapping(&self, function: &str, batches: usize) {
        self.disabled.step(function, batches).await;
    }

    /// Stops SQS and EventBridge (ministack) while everything else runs on: to the functions, an
    /// outage of both services. Returns the port it served, for [`Stack::start_queues`].
    pub async fn stop_queues(&mut self) -> Option<u16> {
        let ministack = self.ministack.take()?;
        let port = ministack.port();
        ministack.stop().await;
        Some(port)
    }

    /// Starts ministack again on `port` and provisions the template's queues, buses and rules
    /// (a persistent stack gets its messages back).
    pub async fn start_queues(&mut self, port: u16) -> Result<(), StackError> {
        let restart = &self.queue_restart;
        let _setting_up = self.bus_setup.write().await;
        let ministack =
            Ministack::start(&restart.venv, restart.host, port, restart.state.as_deref()).await?;
        let sdk = sdk_config(ministack.endpoint()).await;
        // Secrets come back with the values the functions already read.
        provision(
            &restart.template,
            &aws_sdk_dynamodb::Client::new(&self.sdk),
            Some(&Services::new(&sdk)),
            &self.provisioned.secret_values,
        )
        .await?;
        self.ministack = Some(ministack);
        Ok(())
    }

    /// Stops every task and child process.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(3), task).await;
        }
        self.lambda.retire_idle().await;
        if let Some(m) = self.ministack {
            m.stop().await;
        }
        self.dynamodb.stop().await;
    }
}

/// A listener on `host:port` (0 picks a free port) and its URL.
async fn listen(host: IpAddr, port: u16) -> Result<(tokio::net::TcpListener, String), StackError> {
    let addr = SocketAddr::new(host, port);
    let fail = |source| StackError::Listen { addr, source };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(fail)?;
    let bound = listener.local_addr().map_err(fail)?;
    Ok((listener, format!("http://{bound}")))
}

/// The template's CORS configuration on this machine: the storefront distribution's origin is
/// the local web server's (plain http, as it serves without TLS).
fn local_cors(
    template: &Template,
    provisioned: &Provisioned,
    web_url: Option<&str>,
) -> Option<crate::template::Cors> {
    let web_host = web_url.map(|u| u.trim_start_matches("http://").to_owned());
    let mut cors = template.cors(&|name| match name {
        "StorefrontDistribution.DomainName" => web_host.clone(),
        other => provisioned.lookup(other),
    })?;
    if let Some(host) = &web_host {
        for origin in &mut cors.allow_origins {
            if *origin == format!("https://{host}") {
                *origin = format!("http://{host}");
            }
        }
    }
    Some(cors)
}

/// Where the stream mappings keep their positions: beside a persistent DynamoDB file.
fn stream_positions(storage: &Storage) -> Option<PathBuf> {
    match storage {
        Storage::File(path) => Some(path.with_extension("stream-positions")),
        Storage::Memory => None,
    }
}

/// The clock offset `env` gives the functions (`CLOCK_OFFSET_SECONDS`), if any.
fn clock_offset(env: &[(String, String)]) -> chrono::Duration {
    env.iter()
        .rev()
        .find(|(k, _)| k == "CLOCK_OFFSET_SECONDS")
        .and_then(|(_, v)| v.parse().ok())
        .map_or_else(chrono::Duration::zero, chrono::Duration::seconds)
}

/// The local value of a template parameter that has no default: `local-<Name>`.
pub fn local_parameter(name: &str) -> String {
    format!("local-{name}")
}

async fn has_tables(client: &aws_sdk_dynamodb::Client) -> bool {
    client
        .list_tables()
        .send()
        .await
        .is_ok_and(|t| !t.table_names().is_empty())
}

fn template_without_tables(template: &Template) -> Template {
    Template {
        parameters: template.parameters.clone(),
        globals: template.globals.clone(),
        resources: template
            .resources
            .iter()
            .filter(|(_, r)| r.kind != "AWS::DynamoDB::Table")
            .map(|(k, r)| {
                (
                    k.clone(),
                    crate::template::Resource {
                        kind: r.kind.clone(),
                        properties: r.properties.clone(),
                        metadata: r.metadata.clone(),
                    },
                )
            })
            .collect(),
    }
}
