//! Reads `template.yaml`, the one source of truth for tables, functions and routes.
//!
//! CloudFormation's short-form tags (`!Ref`, `!GetAtt`, `!Sub`) are kept as tagged values; only
//! the parts the local stack needs are mapped to types.

use std::{collections::BTreeMap, path::Path};

use serde::Deserialize;
use serde_norway::Value;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("template is not valid YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    #[error("resource {resource}: {reason}")]
    Resource { resource: String, reason: String },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Template {
    #[serde(default)]
    pub parameters: BTreeMap<String, Value>,
    #[serde(default)]
    pub globals: Value,
    #[serde(default)]
    pub resources: BTreeMap<String, Resource>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(default)]
    pub properties: Value,
    #[serde(default)]
    pub metadata: Value,
}

/// An `AWS::DynamoDB::Table`'s key schema, indexes and TTL, as CloudFormation names them.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableSpec {
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeyElement>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
    pub time_to_live_specification: Option<TimeToLive>,
    pub stream_specification: Option<StreamSpecification>,
    #[serde(rename = "SSESpecification")]
    pub sse_specification: Option<SseSpecification>,
}

/// A table's encryption at rest.
#[derive(Clone, Debug, Deserialize)]
pub struct SseSpecification {
    #[serde(rename = "SSEEnabled")]
    pub sse_enabled: bool,
    #[serde(rename = "SSEType")]
    pub sse_type: Option<String>,
}

/// A table's stream: which images its records carry.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSpecification {
    pub stream_view_type: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyElement {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GlobalSecondaryIndex {
    pub index_name: String,
    pub key_schema: Vec<KeyElement>,
    pub projection: Projection,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    pub projection_type: String,
    #[serde(default)]
    pub non_key_attributes: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLive {
    pub attribute_name: String,
    pub enabled: bool,
}

/// An `AWS::Serverless::Function`: its code, settings (Globals merged in) and event sources.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    pub logical_id: String,
    pub code_uri: String,
    pub routes: Vec<Route>,
    pub timeout_seconds: u64,
    pub memory_mb: u64,
    /// Environment variables as written, tags unresolved (see [`Template::resolve`]).
    pub environment: BTreeMap<String, Value>,
    pub log_format: Option<String>,
    pub queues: Vec<QueueSource>,
    pub streams: Vec<StreamSource>,
    pub schedules: Vec<Schedule>,
}

impl Function {
    /// The crate (and binary) name: the last part of `CodeUri`.
    pub fn crate_name(&self) -> &str {
        self.code_uri
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(&self.code_uri)
    }
}

/// An `SQS` event: the queue (its logical id) and how batches are formed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSource {
    pub queue: String,
    pub batch_size: u32,
    pub report_batch_item_failures: bool,
}

/// A `DynamoDB` event: the table whose stream it reads (its logical id) and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSource {
    pub table: String,
    /// `TRIM_HORIZON` (every record kept) or `LATEST` (records written from now on).
    pub starting_position: String,
    pub batch_size: u32,
    pub report_batch_item_failures: bool,
    /// Retries of a failing batch; `None` (`-1`, the default): until it goes through.
    pub maximum_retry_attempts: Option<u32>,
}

/// A `Schedule` or `ScheduleV2` event: `rate(...)` or `cron(...)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub name: String,
    pub expression: String,
    pub enabled: bool,
}

/// An `AWS::SQS::Queue`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queue {
    pub logical_id: String,
    pub name: String,
    pub fifo: bool,
    pub content_based_deduplication: bool,
    pub visibility_timeout: Option<u64>,
    /// The dead-letter queue's logical id and the receives before a message moves there.
    pub redrive: Option<(String, u32)>,
    /// Every property as the template writes it.
    pub properties: Value,
}

/// An `AWS::SecretsManager::Secret`: a `SecretString` given, or generated as
/// `GenerateSecretString` asks.
#[derive(Clone, Debug, PartialEq)]
pub struct Secret {
    pub logical_id: String,
    pub name: String,
    pub value: Option<String>,
    pub generate: Option<GenerateSecretString>,
    pub description: Option<String>,
}

/// How CloudFormation generates a secret's value: Secrets Manager's `GetRandomPassword` options.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateSecretString {
    pub password_length: Option<i64>,
    pub exclude_characters: Option<String>,
    #[serde(default)]
    pub exclude_numbers: bool,
    #[serde(default)]
    pub exclude_punctuation: bool,
    #[serde(default)]
    pub exclude_uppercase: bool,
    #[serde(default)]
    pub exclude_lowercase: bool,
    #[serde(default)]
    pub include_space: bool,
    pub require_each_included_type: Option<bool>,
    /// A JSON secret: the generated value goes under this key of `SecretStringTemplate`.
    pub generate_string_key: Option<String>,
    pub secret_string_template: Option<String>,
}

/// An `AWS::Events::EventBus`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventBus {
    pub logical_id: String,
    pub name: String,
}

/// An `AWS::Events::Rule` on a bus, with its SQS targets (queue logical ids).
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub logical_id: String,
    pub bus: String,
    pub pattern: serde_json::Value,
    pub queue_targets: Vec<(String, Option<String>)>,
    /// The template's `Id` of each queue target, in the same order.
    pub target_ids: Vec<Option<String>>,
}

/// An HTTP API's `CorsConfiguration`: the browsers' cross-origin requests it lets through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<u64>,
    pub allow_credentials: bool,
}

impl Cors {
    /// The `Access-Control-Allow-Origin` to answer `origin` with, if it may call.
    pub fn allowed_origin(&self, origin: &str) -> Option<String> {
        if self.allow_origins.iter().any(|o| o == "*") && !self.allow_credentials {
            return Some("*".into());
        }
        self.allow_origins
            .iter()
            .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
            .then(|| origin.to_owned())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub path: String,
    /// `false` when the route sets `Auth: Authorizer: NONE`.
    pub authorized: bool,
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        Ok(serde_norway::from_str(text)?)
    }

    /// The repository's own template (two levels up from this crate).
    pub fn of_repository() -> Result<Self, TemplateError> {
        Self::load(&repository_root().join("template.yaml"))
    }

    pub fn of_type<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Resource)> + 'a {
        self.resources.iter().filter(move |(_, r)| r.kind == kind)
    }

    /// Every table, by logical id (its local name).
    pub fn tables(&self) -> Result<BTreeMap<String, TableSpec>, TemplateError> {
        self.of_type("AWS::DynamoDB::Table")
            .map(|(id, r)| {
                let spec = serde_norway::from_value(r.properties.clone()).map_err(|e| {
                    TemplateError::Resource {
                        resource: id.clone(),
                        reason: e.to_string(),
                    }
                })?;
                Ok((id.clone(), spec))
            })
            .collect()
    }

    /// Every function with its settings and event sources.
    pub fn functions(&self) -> Result<Vec<Function>, TemplateError> {
        let globals = self.globals.get("Function").cloned().unwrap_or(Value::Null);
        self.of_type("AWS::Serverless::Function")
            .map(|(id, r)| {
                let bad = |reason: &str| TemplateError::Resource {
                    resource: id.clone(),
                    reason: reason.into(),
                };
                let props = &r.properties;
                let setting = |key: &str| props.get(key).or_else(|| globals.get(key));
                let code_uri = setting("CodeUri")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("no CodeUri"))?;
                let mut environment = BTreeMap::new();
                for source in [globals.get("Environment"), props.get("Environment")]
                    .into_iter()
                    .flatten()
                {
                    if let Some(Value::Mapping(vars)) = source.get("Variables") {
                        for (k, v) in vars {
                            if let Some(k) = k.as_str() {
                                environment.insert(k.to_owned(), v.clone());
                            }
                        }
                    }
                }
                let mut function = Function {
                    logical_id: id.clone(),
                    code_uri: code_uri.to_owned(),
                    routes: Vec::new(),
                    timeout_seconds: setting("Timeout").and_then(Value::as_u64).unwrap_or(3),
                    memory_mb: setting("MemorySize").and_then(Value::as_u64).unwrap_or(128),
                    environment,
                    log_format: setting("LoggingConfig")
                        .and_then(|l| l.get("LogFormat"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    queues: Vec::new(),
                    streams: Vec::new(),
                    schedules: Vec::new(),
                };
                if let Some(Value::Mapping(events)) = props.get("Events") {
                    for (name, event) in events {
                        let name = name.as_str().unwrap_or_default().to_owned();
                        let empty = Value::Null;
                        let p = event.get("Properties").unwrap_or(&empty);
                        let text =
                            |key: &str| p.get(key).and_then(Value::as_str).map(str::to_owned);
                        let report = p
                            .get("FunctionResponseTypes")
                            .and_then(Value::as_sequence)
                            .is_some_and(|types| {
                                types
                                    .iter()
                                    .any(|t| t.as_str() == Some("ReportBatchItemFailures"))
                            });
                        match event.get("Type").and_then(Value::as_str) {
                            Some("HttpApi") => {
                                let authorizer = p
                                    .get("Auth")
                                    .and_then(|a| a.get("Authorizer"))
                                    .and_then(Value::as_str);
                                function.routes.push(Route {
                                    method: text("Method")
                                        .ok_or_else(|| bad("HttpApi event without Method"))?
                                        .to_uppercase(),
                                    path: text("Path")
                                        .ok_or_else(|| bad("HttpApi event without Path"))?,
                                    authorized: authorizer != Some("NONE"),
                                });
                            }
                            Some("SQS") => {
                                let queue = p
                                    .get("Queue")
                                    .and_then(referenced)
                                    .ok_or_else(|| bad("SQS event without a Queue reference"))?;
                                function.queues.push(QueueSource {
                                    queue,
                                    batch_size: p
                                        .get("BatchSize")
                                        .and_then(Value::as_u64)
                                        .unwrap_or(10)
                                        as u32,
                                    report_batch_item_failures: report,
                                });
                            }
                            Some("DynamoDB") => {
                                let table =
                                    p.get("Stream").and_then(referenced).ok_or_else(|| {
                                        bad("DynamoDB event without a Stream reference")
                                    })?;
                                function.streams.push(StreamSource {
                                    table,
                                    starting_position: text("StartingPosition")
                                        .unwrap_or_else(|| "LATEST".into()),
                                    batch_size: p
                                        .get("BatchSize")
                                        .and_then(Value::as_u64)
                                        .unwrap_or(100)
                                        as u32,
                                    report_batch_item_failures: report,
                                    maximum_retry_attempts: p
                                        .get("MaximumRetryAttempts")
                                        .and_then(Value::as_i64)
                                        .and_then(|n| u32::try_from(n).ok()),
                                });
                            }
                            Some("Schedule") | Some("ScheduleV2") => {
                                let expression = text("Schedule")
                                    .or_else(|| text("ScheduleExpression"))
                                    .ok_or_else(|| bad("schedule event without an expression"))?;
                                let enabled =
                                    p.get("Enabled").and_then(Value::as_bool).unwrap_or(true)
                                        && p.get("State")
                                            .and_then(Value::as_str)
                                            .is_none_or(|s| s == "ENABLED");
                                function.schedules.push(Schedule {
                                    name,
                                    expression,
                                    enabled,
                                });
                            }
                            _ => {}
                        }
                    }
                }
                Ok(function)
            })
            .collect()
    }

    /// The HTTP API's CORS configuration, if it has one, with `!Ref`/`!Sub` resolved by `names`
    /// (an entry that does not resolve is left out).
    pub fn cors(&self, names: &dyn Fn(&str) -> Option<String>) -> Option<Cors> {
        let c = self
            .of_type("AWS::Serverless::HttpApi")
            .find_map(|(_, r)| r.properties.get("CorsConfiguration"))?;
        let list = |key: &str| -> Vec<String> {
            c.get(key)
                .and_then(Value::as_sequence)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|v| self.resolve(v, names))
                        .collect()
                })
                .unwrap_or_default()
        };
        Some(Cors {
            allow_origins: list("AllowOrigins"),
            allow_methods: list("AllowMethods"),
            allow_headers: list("AllowHeaders"),
            expose_headers: list("ExposeHeaders"),
            max_age: c.get("MaxAge").and_then(Value::as_u64),
            allow_credentials: c
                .get("AllowCredentials")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    /// Every SQS queue; names without a `QueueName` are their logical id (`.fifo` added for FIFO).
    pub fn queues(&self) -> Vec<Queue> {
        self.of_type("AWS::SQS::Queue")
            .map(|(id, r)| {
                let p = &r.properties;
                let fifo = p.get("FifoQueue").and_then(Value::as_bool).unwrap_or(false);
                let name = p
                    .get("QueueName")
                    .and_then(|n| self.resolve(n, &|_| None))
                    .unwrap_or_else(|| {
                        if fifo {
                            format!("{id}.fifo")
                        } else {
                            id.clone()
                        }
                    });
                let redrive = p.get("RedrivePolicy").and_then(|policy| {
                    let dlq = policy.get("deadLetterTargetArn").and_then(referenced)?;
                    let max = policy
                        .get("maxReceiveCount")
                        .and_then(|m| m.as_u64().or_else(|| m.as_str()?.parse().ok()))?;
                    Some((dlq, max as u32))
                });
                Queue {
                    logical_id: id.clone(),
                    name,
                    fifo,
                    content_based_deduplication: p
                        .get("ContentBasedDeduplication")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    visibility_timeout: p.get("VisibilityTimeout").and_then(Value::as_u64),
                    redrive,
                    properties: p.clone(),
                }
            })
            .collect()
    }

    /// Every secret; names without a `Name` are their logical id.
    pub fn secrets(&self) -> Vec<Secret> {
        self.of_type("AWS::SecretsManager::Secret")
            .map(|(id, r)| {
                let p = &r.properties;
                Secret {
                    logical_id: id.clone(),
                    name: p
                        .get("Name")
                        .and_then(|n| self.resolve(n, &|_| None))
                        .unwrap_or_else(|| id.clone()),
                    value: p
                        .get("SecretString")
                        .and_then(|v| self.resolve(v, &|_| None)),
                    generate: p
                        .get("GenerateSecretString")
                        .and_then(|g| serde_norway::from_value(g.clone()).ok()),
                    description: p
                        .get("Description")
                        .and_then(|v| self.resolve(v, &|_| None)),
                }
            })
            .collect()
    }

    /// Every custom event bus.
    pub fn buses(&self) -> Vec<EventBus> {
        self.of_type("AWS::Events::EventBus")
            .map(|(id, r)| EventBus {
                logical_id: id.clone(),
                name: r
                    .properties
                    .get("Name")
                    .and_then(|n| self.resolve(n, &|_| None))
                    .unwrap_or_else(|| id.clone()),
            })
            .collect()
    }

    /// Every rule with an event pattern, and the SQS queues it targets.
    pub fn rules(&self) -> Vec<Rule> {
        self.of_type("AWS::Events::Rule")
            .filter_map(|(id, r)| {
                let p = &r.properties;
                let pattern = serde_json::to_value(p.get("EventPattern")?).ok()?;
                let bus = p
                    .get("EventBusName")
                    .and_then(referenced)
                    .unwrap_or_else(|| "default".into());
                let queue_targets = p
                    .get("Targets")
                    .and_then(Value::as_sequence)
                    .map(|targets| {
                        targets
                            .iter()
                            .filter_map(|t| {
                                let queue = t.get("Arn").and_then(referenced)?;
                                let group = t
                                    .get("SqsParameters")
                                    .and_then(|s| s.get("MessageGroupId"))
                                    .and_then(Value::as_str);
                                Some((queue, group.map(str::to_owned)))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let target_ids = p
                    .get("Targets")
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .filter(|t| t.get("Arn").and_then(referenced).is_some())
                    .map(|t| t.get("Id").and_then(Value::as_str).map(str::to_owned))
                    .collect();
                Some(Rule {
                    logical_id: id.clone(),
                    bus,
                    pattern,
                    queue_targets,
                    target_ids,
                })
            })
            .collect()
    }

    /// A value as JSON, every `!Ref`, `!GetAtt` and `!Sub` in it resolved as [`Template::resolve`]
    /// does; `None` if one of them cannot be.
    pub fn resolve_json(
        &self,
        value: &Value,
        names: &dyn Fn(&str) -> Option<String>,
    ) -> Option<serde_json::Value> {
        Some(match value {
            Value::Tagged(_) => serde_json::Value::String(self.resolve(value, names)?),
            Value::Mapping(map) => serde_json::Value::Object(
                map.iter()
                    .map(|(k, v)| Some((plain(k)?, self.resolve_json(v, names)?)))
                    .collect::<Option<_>>()?,
            ),
            Value::Sequence(items) => serde_json::Value::Array(
                items
                    .iter()
                    .map(|v| self.resolve_json(v, names))
                    .collect::<Option<_>>()?,
            ),
            Value::Null => serde_json::Value::Null,
            other => serde_json::to_value(other).ok()?,
        })
    }

    /// Every resource of a type the local stack does not run, by type, with how many.
    pub fn not_emulated(&self) -> BTreeMap<String, usize> {
        const EMULATED: &[&str] = &[
            "AWS::Serverless::Function",
            "AWS::Serverless::HttpApi",
            "AWS::DynamoDB::Table",
            "AWS::SQS::Queue",
            "AWS::SQS::QueuePolicy",
            "AWS::Events::EventBus",
            "AWS::Events::Rule",
            "AWS::SecretsManager::Secret",
        ];
        let mut out = BTreeMap::new();
        for r in self.resources.values() {
            if !EMULATED.contains(&r.kind.as_str()) {
                *out.entry(r.kind.clone()).or_default() += 1;
            }
        }
        out
    }

    /// A value as a string, with `!Ref`, `!GetAtt` and `!Sub` resolved: parameters to their
    /// defaults, pseudo parameters to local values, and resources through `names`.
    pub fn resolve(&self, value: &Value, names: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        let lookup = |name: &str| -> Option<String> {
            match name {
                "AWS::Region" => Some(LOCAL_REGION.into()),
                "AWS::AccountId" => Some(LOCAL_ACCOUNT.into()),
                "AWS::StackName" => Some(LOCAL_STACK.into()),
                "AWS::Partition" => Some("aws".into()),
                "AWS::URLSuffix" => Some("amazonaws.com".into()),
                _ => names(name).or_else(|| {
                    let default = self.parameters.get(name)?.get("Default")?;
                    plain(default)
                }),
            }
        };
        match value {
            Value::Tagged(tagged) => match tagged.tag.to_string().trim_start_matches('!') {
                "Ref" => lookup(tagged.value.as_str()?),
                "GetAtt" => {
                    let path = match &tagged.value {
                        Value::String(s) => s.clone(),
                        Value::Sequence(parts) => parts
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join("."),
                        _ => return None,
                    };
                    lookup(&path)
                }
                "Sub" => {
                    let mut text = tagged.value.as_str()?.to_owned();
                    while let Some(start) = text.find("${") {
                        let end = start + text[start..].find('}')?;
                        let name = &text[start + 2..end];
                        let value = lookup(name)?;
                        text.replace_range(start..=end, &value);
                    }
                    Some(text)
                }
                _ => None,
            },
            other => plain(other),
        }
    }
}

/// The region, account and stack name the local stack uses where AWS would put its own.
pub const LOCAL_REGION: &str = "us-east-1";
pub const LOCAL_ACCOUNT: &str = "000000000000";
pub const LOCAL_STACK: &str = "bilheteria";

fn plain(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The logical id a `!Ref X` or `!GetAtt X.Arn` points at.
fn referenced(value: &Value) -> Option<String> {
    match value {
        Value::Tagged(tagged) => {
            let target = match &tagged.value {
                Value::String(s) => s.clone(),
                Value::Sequence(parts) => parts.first()?.as_str()?.to_owned(),
                _ => return None,
            };
            Some(target.split('.').next()?.to_owned())
        }
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// The repository's root directory, where `template.yaml` lives.
pub fn repository_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Parameters:
  HoldSeconds:
    Type: Number
    Default: 600
Globals:
  Function:
    Timeout: 10
    MemorySize: 256
    LoggingConfig:
      LogFormat: JSON
    Environment:
      Variables:
        RUST_LOG: info
Resources:
  Requests:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      VisibilityTimeout: 60
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt RequestsDlq.Arn
        maxReceiveCount: 5
  RequestsDlq:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-requests-dlq.fifo"
      FifoQueue: true
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: bilheteria
  ToQueue:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern:
        source: [bilheteria]
      Targets:
        - Id: q
          Arn: !GetAtt Requests.Arn
          SqsParameters:
            MessageGroupId: events
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/consumer/
      Timeout: 5
      Environment:
        Variables:
          HOLD_SECONDS: !Ref HoldSeconds
          QUEUE_URL: !Ref Requests
          REGION: !Sub "${AWS::Region}"
      Events:
        Batch:
          Type: SQS
          Properties:
            Queue: !GetAtt Requests.Arn
            BatchSize: 10
            FunctionResponseTypes: [ReportBatchItemFailures]
        Sweep:
          Type: Schedule
          Properties:
            Schedule: rate(1 minute)
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-table"
      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
      StreamSpecification:
        StreamViewType: NEW_AND_OLD_IMAGES
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/hello
      Environment:
        Variables:
          TABLE_NAME: !Ref Table
          ARN: !GetAtt Table.Arn
      Events:
        Get:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /hello/{id}
            Method: get
            Auth:
              Authorizer: NONE
        Post:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /hello, Method: POST}
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            StartingPosition: TRIM_HORIZON
            FunctionResponseTypes: [ReportBatchItemFailures]
"#;

    #[test]
    fn short_form_tags_do_not_stop_the_reading() {
        let template = Template::parse(TEMPLATE).unwrap();
        let tables = template.tables().unwrap();
        assert_eq!(tables["Table"].key_schema[0].attribute_name, "PK");
        assert_eq!(
            tables["Table"]
                .stream_specification
                .as_ref()
                .map(|s| s.stream_view_type.as_str()),
            Some("NEW_AND_OLD_IMAGES")
        );
        let functions = template.functions().unwrap();
        assert_eq!(functions.len(), 2);
        let hello = functions.iter().find(|f| f.logical_id == "Hello").unwrap();
        assert_eq!(hello.code_uri, "functions/hello");
        let routes = &hello.routes;
        assert!(routes.contains(&Route {
            method: "GET".into(),
            path: "/hello/{id}".into(),
            authorized: false
        }));
        assert!(routes.contains(&Route {
            method: "POST".into(),
            path: "/hello".into(),
            authorized: true
        }));
        assert_eq!(
            hello.streams,
            [StreamSource {
                table: "Table".into(),
                starting_position: "TRIM_HORIZON".into(),
                batch_size: 100,
                report_batch_item_failures: true,
                maximum_retry_attempts: None
            }]
        );
    }

    #[test]
    fn globals_queues_schedules_and_rules_are_read() {
        let template = Template::parse(TEMPLATE).unwrap();
        let functions = template.functions().unwrap();
        let consumer = functions
            .iter()
            .find(|f| f.logical_id == "Consumer")
            .unwrap();
        assert_eq!(consumer.crate_name(), "consumer");
        assert_eq!(
            (consumer.timeout_seconds, consumer.memory_mb),
            (5, 256),
            "own Timeout, global MemorySize"
        );
        assert_eq!(consumer.log_format.as_deref(), Some("JSON"));
        assert_eq!(consumer.environment.len(), 4, "global and own variables");
        let names = |id: &str| (id == "Requests").then(|| "http://queue".to_string());
        let env = |k: &str| template.resolve(&consumer.environment[k], &names);
        assert_eq!(env("HOLD_SECONDS").as_deref(), Some("600"));
        assert_eq!(env("QUEUE_URL").as_deref(), Some("http://queue"));
        assert_eq!(env("REGION").as_deref(), Some(LOCAL_REGION));
        assert_eq!(
            consumer.queues,
            [QueueSource {
                queue: "Requests".into(),
                batch_size: 10,
                report_batch_item_failures: true
            }]
        );
        assert_eq!(consumer.schedules[0].expression, "rate(1 minute)");

        let queues = template.queues();
        let requests = queues.iter().find(|q| q.logical_id == "Requests").unwrap();
        assert_eq!(requests.name, "Requests.fifo");
        assert_eq!(requests.redrive, Some(("RequestsDlq".into(), 5)));
        let dlq = queues
            .iter()
            .find(|q| q.logical_id == "RequestsDlq")
            .unwrap();
        assert_eq!(dlq.name, "bilheteria-requests-dlq.fifo");

        assert_eq!(
            template.buses(),
            [EventBus {
                logical_id: "Bus".into(),
                name: "bilheteria".into()
            }]
        );
        let rules = template.rules();
        assert_eq!(rules[0].bus, "Bus");
        assert_eq!(
            rules[0].pattern,
            serde_json::json!({"source": ["bilheteria"]})
        );
        assert_eq!(
            rules[0].queue_targets,
            [("Requests".to_string(), Some("events".to_string()))]
        );
    }

    #[test]
    fn a_table_without_keys_is_reported_by_name() {
        let template = Template::parse(
            "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {}\n",
        )
        .unwrap();
        let err = template.tables().unwrap_err().to_string();
        assert!(err.starts_with("resource T:"), "{err}");
    }
}
