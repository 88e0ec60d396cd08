//! DynamoDB on loopback: dynoxide (SQLite-backed) served over HTTP in this process, on threads of
//! its own (named `dynamodb`, so that what it costs can be told apart from the rest of the
//! stack), with the template's tables created in it.

use std::{net::SocketAddr, path::PathBuf};

use aws_sdk_dynamodb::{
    Client,
    config::Credentials,
    types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType, SseSpecification, SseType,
        StreamSpecification, StreamViewType, TimeToLiveSpecification,
    },
};
use tokio::sync::oneshot;

use crate::template::{KeyElement, TableSpec};

#[derive(Debug, thiserror::Error)]
pub enum DynamoDbError {
    #[error("cannot open the database: {0}")]
    Open(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot create table {table}: {reason}")]
    CreateTable { table: String, reason: String },
}

/// Where the emulated tables keep their items.
#[derive(Clone, Debug)]
pub enum Storage {
    Memory,
    File(PathBuf),
}

/// A running emulator; dropping it stops the server.
pub struct DynamoDb {
    endpoint: String,
    stop: Option<oneshot::Sender<()>>,
    /// Answered when the server has ended.
    server: Option<oneshot::Receiver<()>>,
}

/// Worker threads of the emulator's own runtime.
const WORKERS: usize = 2;

impl DynamoDb {
    /// Serves DynamoDB's API on `addr` (port 0 picks a free one).
    pub async fn start(addr: SocketAddr, storage: Storage) -> Result<Self, DynamoDbError> {
        let db = match &storage {
            Storage::Memory => dynoxide::Database::memory(),
            Storage::File(path) => dynoxide::Database::new(&path.to_string_lossy()),
        }
        .map_err(|e| DynamoDbError::Open(e.to_string()))?;
        let bind = |source| DynamoDbError::Bind { addr, source };
        let listener = std::net::TcpListener::bind(addr).map_err(bind)?;
        listener.set_nonblocking(true).map_err(bind)?;
        let bound = listener.local_addr().map_err(bind)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .thread_name("dynamodb")
            .enable_all()
            .build()
            .map_err(bind)?;
        let (stop, stopped) = oneshot::channel();
        let (ended, server) = oneshot::channel();
        std::thread::Builder::new()
            .name("dynamodb".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => {
                            let shutdown = async {
                                let _ = stopped.await;
                            };
                            if let Err(e) =
                                dynoxide::server::serve_with_shutdown(listener, db, shutdown).await
                            {
                                eprintln!("[dynamodb] stopped: {e}");
                            }
                        }
                        Err(e) => eprintln!("[dynamodb] cannot listen: {e}"),
                    }
                });
                // Connections still open end with the runtime, and the database with them.
                drop(runtime);
                let _ = ended.send(());
            })
            .map_err(bind)?;
        Ok(Self {
            endpoint: format!("http://{bound}"),
            stop: Some(stop),
            server: Some(server),
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// SDK configuration for a client of this emulator (local credentials, any region).
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config(&self.endpoint).await
    }

    /// Stops accepting, lets running requests finish, and waits for the server to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for DynamoDb {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The operator's credentials: the stack itself, its tests and `local` commands.
pub fn local_credentials() -> Credentials {
    Credentials::new(
        crate::gate::OPERATOR_KEY,
        "local",
        None,
        None,
        "bilheteria-local",
    )
}

pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    sdk_config_as(endpoint, local_credentials()).await
}

/// SDK configuration for a client of `endpoint` signing as `credentials`.
pub async fn sdk_config_as(endpoint: &str, credentials: Credentials) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(bilheteria::config::https_client())
        .endpoint_url(endpoint)
        .region("us-east-1")
        .credentials_provider(credentials)
        .load()
        .await
}

/// The credentials a function's process signs with on the local stack: its access key id is the
/// function's logical id, which is how the IAM gate knows whose role decides.
pub fn function_credentials(function: &str) -> Credentials {
    Credentials::new(function, "local", None, None, "bilheteria-local-function")
}

fn key_schema(keys: &[KeyElement]) -> Vec<KeySchemaElement> {
    keys.iter()
        .filter_map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
                .ok()
        })
        .collect()
}

/// Creates `name` as the template's `spec` describes it: keys, GSIs, TTL, stream, encryption;
/// on-demand billing.
pub async fn create_table(
    client: &Client,
    name: &str,
    spec: &TableSpec,
) -> Result<(), DynamoDbError> {
    let fail = |reason: String| DynamoDbError::CreateTable {
        table: name.to_owned(),
        reason,
    };
    let attributes = spec
        .attribute_definitions
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(&a.attribute_name)
                .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(e.to_string()))?;
    let indexes = spec
        .global_secondary_indexes
        .iter()
        .map(|g| {
            let projection = Projection::builder()
                .projection_type(ProjectionType::from(g.projection.projection_type.as_str()))
                .set_non_key_attributes(
                    (!g.projection.non_key_attributes.is_empty())
                        .then(|| g.projection.non_key_attributes.clone()),
                )
                .build();
            GlobalSecondaryIndex::builder()
                .index_name(&g.index_name)
                .set_key_schema(Some(key_schema(&g.key_schema)))
                .projection(projection)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(e.to_string()))?;
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(&spec.key_schema)))
        .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
        .set_stream_specification(
            spec.stream_specification
                .as_ref()
                .map(|s| {
                    StreamSpecification::builder()
                        .stream_enabled(true)
                        .stream_view_type(StreamViewType::from(s.stream_view_type.as_str()))
                        .build()
                })
                .transpose()
                .map_err(|e| fail(e.to_string()))?,
        )
        .set_sse_specification(spec.sse_specification.as_ref().map(|s| {
            SseSpecification::builder()
                .enabled(s.sse_enabled)
                .set_sse_type(s.sse_type.as_deref().map(SseType::from))
                .build()
        }))
        .send()
        .await
        .map_err(|e| fail(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()))?;
    if let Some(ttl) = &spec.time_to_live_specification {
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name(&ttl.attribute_name)
            .enabled(ttl.enabled)
            .build()
            .map_err(|e| fail(e.to_string()))?;
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| fail(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()))?;
    }
    Ok(())
}

/// The ARN of `name`'s stream, if `spec` gives it one; a table made before the template asked for
/// a stream (a persistent local stack) gets it now, as an `UpdateTable` would.
pub async fn stream_arn(
    client: &Client,
    name: &str,
    spec: &TableSpec,
) -> Result<Option<String>, DynamoDbError> {
    let fail = |reason: String| DynamoDbError::CreateTable {
        table: name.to_owned(),
        reason,
    };
    let Some(wanted) = &spec.stream_specification else {
        return Ok(None);
    };
    let described = client
        .describe_table()
        .table_name(name)
        .send()
        .await
        .map_err(|e| fail(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()))?;
    let table = described.table();
    let enabled = table
        .and_then(|t| t.stream_specification())
        .is_some_and(|s| s.stream_enabled());
    if enabled && let Some(arn) = table.and_then(|t| t.latest_stream_arn()) {
        return Ok(Some(arn.to_owned()));
    }
    let stream = StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::from(wanted.stream_view_type.as_str()))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let updated = client
        .update_table()
        .table_name(name)
        .stream_specification(stream)
        .send()
        .await
        .map_err(|e| fail(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()))?;
    Ok(updated
        .table_description()
        .and_then(|t| t.latest_stream_arn())
        .map(str::to_owned))
}
