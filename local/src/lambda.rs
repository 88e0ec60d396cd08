//! A Lambda Runtime API emulator that runs the real function binaries, as Lambda runs the
//! deployed `bootstrap`: one invocation per process at a time, warm processes reused, a new one
//! when all are busy (up to a cap), the function timeout enforced, and a REPORT line per
//! invocation with Duration, Init Duration (cold starts) and Max Memory Used.

use std::{
    collections::HashMap,
    path::PathBuf,
    process::Stdio,
    sync::{
        Arc, Mutex as StdMutex,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
    sync::{Mutex, Semaphore, mpsc, oneshot, watch},
};

use crate::template::{LOCAL_ACCOUNT, LOCAL_REGION};

/// Lambda gives a function's init phase ten seconds.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a function needs to run: its binary, environment and limits.
#[derive(Clone, Debug)]
pub struct FunctionConfig {
    pub name: String,
    pub binary: PathBuf,
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    pub memory_mb: u64,
}

/// One invocation's REPORT, as Lambda writes it to the log.
#[derive(Clone, Debug)]
pub struct Report {
    pub function: String,
    pub request_id: String,
    pub duration: Duration,
    pub init: Option<Duration>,
    pub memory_size_mb: u64,
    pub max_memory_used_mb: u64,
    pub outcome: &'static str,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.duration.as_secs_f64() * 1000.0;
        write!(
            f,
            "REPORT RequestId: {}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB",
            self.request_id,
            ms.ceil() as u64,
            self.memory_size_mb,
            self.max_memory_used_mb
        )?;
        if let Some(init) = self.init {
            write!(f, "\tInit Duration: {:.2} ms", init.as_secs_f64() * 1000.0)?;
        }
        if self.outcome != "success" {
            write!(f, "\tStatus: {}", self.outcome)?;
        }
        Ok(())
    }
}

/// What an invocation gave back.
#[derive(Clone, Debug, PartialEq)]
pub enum Invoked {
    /// The handler's response payload.
    Response(Vec<u8>),
    /// The handler failed; Lambda's error object (`errorType`, `errorMessage`).
    FunctionError(serde_json::Value),
}

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("no function named {0}")]
    UnknownFunction(String),
    #[error("cannot start {binary}: {source} (build it first: cargo build --workspace)")]
    Spawn {
        binary: String,
        source: std::io::Error,
    },
    #[error("{function}: task timed out after {seconds:.2} seconds")]
    Timeout { function: String, seconds: f64 },
    #[error("{function}: runtime exited before answering ({status})")]
    Exited { function: String, status: String },
    #[error("{function}: init failed: {reason}")]
    InitFailed { function: String, reason: String },
}

/// Where function logs and REPORT lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logs {
    /// Printed to this process's stderr, each line prefixed with the function's name.
    Print,
    /// Dropped (tests, unless `TEST_LOG` is set).
    Discard,
}

pub struct Lambda {
    pools: HashMap<String, Arc<Pool>>,
    reports: Arc<StdMutex<Vec<Report>>>,
    logs: Logs,
}

struct Pool {
    config: FunctionConfig,
    /// Environment set after start, as UpdateFunctionConfiguration sets it: processes started
    /// before the last change finish what they run and are not reused.
    changed: StdMutex<Changed>,
    idle: Mutex<Vec<Instance>>,
    slots: Semaphore,
    next_instance: AtomicU32,
    busy: StdMutex<HashMap<u32, u32>>,
}

#[derive(Default)]
struct Changed {
    generation: u32,
    env: Vec<(String, String)>,
}

struct Instance {
    id: u32,
    /// The environment's generation it started with.
    generation: u32,
    pid: u32,
    api: Arc<RuntimeApi>,
    exited: watch::Receiver<Option<String>>,
    spawned: Instant,
    used: bool,
}

impl Instance {
    fn alive(&self) -> bool {
        self.exited.borrow().is_none()
    }

    fn kill(&self) {
        if self.alive() {
            // SAFETY: `kill` only sends a signal to the child this instance started.
            unsafe {
                libc::kill(self.pid as i32, libc::SIGKILL);
            }
        }
    }

    /// The process's peak resident memory (VmHWM) in MB.
    fn max_memory_mb(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb.div_ceil(1024))
    }
}

struct Pending {
    request_id: String,
    payload: Vec<u8>,
    deadline_ms: u64,
    delivered: oneshot::Sender<Instant>,
    done: oneshot::Sender<Completion>,
}

enum Completion {
    Response(Vec<u8>),
    Error(Vec<u8>),
}

/// The Runtime API one process talks to (`AWS_LAMBDA_RUNTIME_API`).
struct RuntimeApi {
    function_arn: String,
    queue: Mutex<mpsc::Receiver<Pending>>,
    sender: mpsc::Sender<Pending>,
    inflight: StdMutex<HashMap<String, oneshot::Sender<Completion>>>,
    first_next: StdMutex<Option<Instant>>,
    init_error: StdMutex<Option<String>>,
}

async fn next(State(api): State<Arc<RuntimeApi>>) -> Response {
    api.first_next
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(Instant::now);
    let Some(pending) = api.queue.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let _ = pending.delivered.send(Instant::now());
    api.inflight
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(pending.request_id.clone(), pending.done);
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", &pending.request_id);
    set(
        "lambda-runtime-deadline-ms",
        &pending.deadline_ms.to_string(),
    );
    set("lambda-runtime-invoked-function-arn", &api.function_arn);
    let trace: String = pending
        .request_id
        .chars()
        .filter(|c| *c != '-')
        .take(24)
        .collect();
    let root = format!(
        "Root=1-{:08x}-{trace};Sampled=0",
        chrono::Utc::now().timestamp()
    );
    set("lambda-runtime-trace-id", &root);
    set("content-type", "application/json");
    (StatusCode::OK, headers, pending.payload).into_response()
}

fn complete(api: &RuntimeApi, request_id: &str, completion: Completion) -> StatusCode {
    match api
        .inflight
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(request_id)
    {
        Some(done) => {
            let _ = done.send(completion);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn response(
    State(api): State<Arc<RuntimeApi>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    complete(&api, &id, Completion::Response(body.to_vec()))
}

async fn error(
    State(api): State<Arc<RuntimeApi>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    complete(&api, &id, Completion::Error(body.to_vec()))
}

async fn init_error(State(api): State<Arc<RuntimeApi>>, body: Bytes) -> StatusCode {
    *api.init_error.lock().unwrap_or_else(|e| e.into_inner()) =
        Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

/// A fresh id in UUID form, as Lambda's request ids and EventBridge's event ids are.
pub fn request_id() -> String {
    // A ULID's 128 bits, printed as a UUID.
    let v = ulid::Ulid::generate().0;
    let h = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

impl Pool {
    /// Whether `instance` runs with the environment as it is now.
    fn current(&self, instance: &Instance) -> bool {
        self.changed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .generation
            == instance.generation
    }
}

impl Lambda {
    /// `max_instances`: the most processes one function runs at once.
    pub fn new(functions: Vec<FunctionConfig>, max_instances: usize, logs: Logs) -> Self {
        let pools = functions
            .into_iter()
            .map(|config| {
                let pool = Pool {
                    config,
                    changed: StdMutex::default(),
                    idle: Mutex::new(Vec::new()),
                    slots: Semaphore::new(max_instances.max(1)),
                    next_instance: AtomicU32::new(1),
                    busy: StdMutex::new(HashMap::new()),
                };
                (pool.config.name.clone(), Arc::new(pool))
            })
            .collect();
        Self {
            pools,
            reports: Arc::default(),
            logs,
        }
    }

    pub fn functions(&self) -> impl Iterator<Item = &FunctionConfig> {
        self.pools.values().map(|p| &p.config)
    }

    /// Every REPORT so far.
    pub fn reports(&self) -> Vec<Report> {
        self.reports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Kills every process of `function` that is running an invocation now; returns how many.
    pub fn kill_busy(&self, function: &str) -> usize {
        let Some(pool) = self.pools.get(function) else {
            return 0;
        };
        let busy = pool.busy.lock().unwrap_or_else(|e| e.into_inner());
        for pid in busy.values() {
            // SAFETY: signals a child process this emulator started.
            unsafe {
                libc::kill(*pid as i32, libc::SIGKILL);
            }
        }
        busy.len()
    }

    /// Sets `name` in every function's environment; the next invocations start new processes.
    pub async fn set_env(&self, name: &str, value: &str) {
        for pool in self.pools.values() {
            {
                let mut changed = pool.changed.lock().unwrap_or_else(|e| e.into_inner());
                changed.env.retain(|(k, _)| k != name);
                changed.env.push((name.to_owned(), value.to_owned()));
                changed.generation += 1;
            }
            for instance in pool.idle.lock().await.drain(..) {
                instance.kill();
            }
        }
    }

    /// Stops every idle process (the next invocation starts cold).
    pub async fn retire_idle(&self) {
        for pool in self.pools.values() {
            for instance in pool.idle.lock().await.drain(..) {
                instance.kill();
            }
        }
    }

    /// Invokes `function` with `payload` and waits for its answer.
    pub async fn invoke(&self, function: &str, payload: Vec<u8>) -> Result<Invoked, InvokeError> {
        let pool = self
            .pools
            .get(function)
            .ok_or_else(|| InvokeError::UnknownFunction(function.to_owned()))?;
        let _slot = pool
            .slots
            .acquire()
            .await
            .map_err(|_| InvokeError::UnknownFunction(function.to_owned()))?;
        let mut instance = loop {
            match pool.idle.lock().await.pop() {
                Some(i) if i.alive() && pool.current(&i) => break i,
                Some(i) => i.kill(),
                None => break self.spawn(pool).await?,
            }
        };
        let cold = !instance.used;
        instance.used = true;
        pool.busy
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(instance.id, instance.pid);
        let result = self.run(pool, &instance, cold, payload).await;
        pool.busy
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&instance.id);
        match &result {
            Ok(_) if instance.alive() && pool.current(&instance) => {
                pool.idle.lock().await.push(instance)
            }
            _ => instance.kill(),
        }
        result
    }

    async fn run(
        &self,
        pool: &Pool,
        instance: &Instance,
        cold: bool,
        payload: Vec<u8>,
    ) -> Result<Invoked, InvokeError> {
        let config = &pool.config;
        let name = config.name.clone();
        let request_id = request_id();
        let (delivered_tx, delivered_rx) = oneshot::channel();
        let (done_tx, done_rx) = oneshot::channel();
        let deadline = chrono::Utc::now() + config.timeout;
        let pending = Pending {
            request_id: request_id.clone(),
            payload,
            deadline_ms: deadline.timestamp_millis() as u64,
            delivered: delivered_tx,
            done: done_tx,
        };
        let exited_now =
            |exited: &watch::Receiver<Option<String>>| exited.borrow().clone().unwrap_or_default();
        let _ = instance.api.sender.send(pending).await;
        let mut exited = instance.exited.clone();
        let started = tokio::select! {
            at = delivered_rx => at.unwrap_or_else(|_| Instant::now()),
            _ = tokio::time::sleep(INIT_TIMEOUT) => {
                return Err(InvokeError::InitFailed { function: name, reason: "no call to /next within 10 s".into() });
            }
            _ = exited.wait_for(Option::is_some) => {
                let reason = instance.api.init_error.lock().unwrap_or_else(|e| e.into_inner()).clone();
                return Err(match reason {
                    Some(reason) => InvokeError::InitFailed { function: name, reason },
                    None => InvokeError::Exited { function: name, status: exited_now(&instance.exited) },
                });
            }
        };
        let init = cold
            .then(|| {
                *instance
                    .api
                    .first_next
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
            })
            .flatten()
            .map(|first| first.duration_since(instance.spawned));
        let (result, outcome) = tokio::select! {
            done = done_rx => match done {
                Ok(Completion::Response(body)) => (Ok(Invoked::Response(body)), "success"),
                Ok(Completion::Error(body)) => {
                    let error = serde_json::from_slice(&body).unwrap_or_else(|_| {
                        serde_json::json!({"errorType": "Unhandled", "errorMessage": String::from_utf8_lossy(&body)})
                    });
                    (Ok(Invoked::FunctionError(error)), "error")
                }
                Err(_) => (Err(InvokeError::Exited { function: name.clone(), status: exited_now(&instance.exited) }), "error"),
            },
            _ = tokio::time::sleep(config.timeout) => {
                (Err(InvokeError::Timeout { function: name.clone(), seconds: config.timeout.as_secs_f64() }), "timeout")
            }
            _ = exited.wait_for(Option::is_some) => {
                (Err(InvokeError::Exited { function: name.clone(), status: exited_now(&instance.exited) }), "error")
            }
        };
        let report = Report {
            function: name.clone(),
            request_id,
            duration: started.elapsed(),
            init,
            memory_size_mb: config.memory_mb,
            max_memory_used_mb: instance.max_memory_mb(),
            outcome,
        };
        if self.logs == Logs::Print {
            eprintln!("[{name}] {report}");
        }
        self.reports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(report);
        result
    }

    async fn spawn(&self, pool: &Pool) -> Result<Instance, InvokeError> {
        let config = &pool.config;
        let (generation, changed_env) = {
            let changed = pool.changed.lock().unwrap_or_else(|e| e.into_inner());
            (changed.generation, changed.env.clone())
        };
        let id = pool.next_instance.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(1);
        let api = Arc::new(RuntimeApi {
            function_arn: format!(
                "arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:{}",
                config.name
            ),
            queue: Mutex::new(receiver),
            sender,
            inflight: StdMutex::default(),
            first_next: StdMutex::default(),
            init_error: StdMutex::default(),
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(api.clone());
        let spawn_error = |source| InvokeError::Spawn {
            binary: config.binary.display().to_string(),
            source,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(spawn_error)?;
        let runtime_api = listener.local_addr().map_err(spawn_error)?.to_string();
        let server = tokio::spawn(async move { axum::serve(listener, router).await });

        let spawned = Instant::now();
        let mut command = Command::new(&config.binary);
        command
            .env_clear()
            .envs(config.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(changed_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", &runtime_api)
            .env("AWS_LAMBDA_FUNCTION_NAME", &config.name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                config.memory_mb.to_string(),
            )
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", config.name),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", format!("local/{id}"))
            .env("AWS_REGION", LOCAL_REGION)
            .env("AWS_DEFAULT_REGION", LOCAL_REGION)
            .env(
                "LAMBDA_TASK_ROOT",
                config.binary.parent().unwrap_or(&config.binary),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(spawn_error)?;
        let pid = child.id().unwrap_or(0);
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            child.stderr.take().map(|s| Box::new(s) as _),
        ]
        .into_iter()
        .flatten()
        {
            let logs = self.logs;
            let prefix = format!("[{}#{id}]", config.name);
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if logs == Logs::Print {
                        eprintln!("{prefix} {line}");
                    }
                }
            });
        }
        let (exited_tx, exited) = watch::channel(None);
        tokio::spawn(async move {
            let status = child
                .wait()
                .await
                .map_or_else(|e| e.to_string(), |s| s.to_string());
            server.abort();
            let _ = exited_tx.send(Some(status));
        });
        Ok(Instance {
            id,
            generation,
            pid,
            api,
            exited,
            spawned,
            used: false,
        })
    }
}

impl Drop for Lambda {
    fn drop(&mut self) {
        for pool in self.pools.values() {
            if let Ok(idle) = pool.idle.try_lock() {
                idle.iter().for_each(Instance::kill);
            }
            for pid in pool.busy.lock().unwrap_or_else(|e| e.into_inner()).values() {
                // SAFETY: signals a child process this emulator started.
                unsafe {
                    libc::kill(*pid as i32, libc::SIGKILL);
                }
            }
        }
    }
}
