//! The door every function's AWS call goes through on the local stack: it reads who signed the
//! request (the access key id names the function), which actions on which resources the request
//! needs as IAM authorises them, decides with that function's role, and passes the request on to
//! the emulator unchanged or answers `AccessDeniedException` as AWS does.
//!
//! Functions reach it through the SDK's standard endpoint settings (`AWS_ENDPOINT_URL_DYNAMODB`,
//! `…_SQS`, `…_EVENTBRIDGE`, `…_SECRETS_MANAGER`); the event source mappings read their queues
//! and streams through it with the function's identity, as Lambda uses its execution role.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::{
    iam::{Decision, Request, Role},
    template::{LOCAL_ACCOUNT, LOCAL_REGION},
};

/// The access key id of the stack's operator (provisioning, tests, `local` commands): it may do
/// anything, as an account's administrator.
pub const OPERATOR_KEY: &str = "local";

/// Who did what through the gate.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Call {
    /// The function's logical id.
    pub principal: String,
    pub request: Request,
}

/// What the gate knows: the roles, where each service really is, and what it let through.
pub struct Gate {
    roles: BTreeMap<String, Role>,
    dynamodb: String,
    /// ministack (SQS, EventBridge, Secrets Manager); `None` when the stack runs without it.
    others: Option<String>,
    /// Secret names to their ARNs (a `SecretId` may be either).
    secrets: HashMap<String, String>,
    client: reqwest::Client,
    allowed: Mutex<BTreeSet<Call>>,
    denied: Mutex<Vec<Call>>,
    print: bool,
}

impl Gate {
    pub fn new(
        roles: BTreeMap<String, Role>,
        dynamodb: String,
        others: Option<String>,
        secrets: HashMap<String, String>,
        print: bool,
    ) -> Self {
        Self {
            roles,
            dynamodb,
            others,
            secrets,
            client: reqwest::Client::new(),
            allowed: Mutex::default(),
            denied: Mutex::default(),
            print,
        }
    }

    /// Every distinct authorisation granted so far.
    pub fn allowed(&self) -> BTreeSet<Call> {
        self.allowed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every authorisation refused so far, in order.
    pub fn denied(&self) -> Vec<Call> {
        self.denied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn role(&self, function: &str) -> Option<&Role> {
        self.roles.get(function)
    }

    /// Serves the gate on `listener` until `stop` turns true.
    pub fn serve(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        mut stop: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let app = Router::new().fallback(handle).with_state(self);
        tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await;
            if let Err(e) = served {
                eprintln!("[iam] stopped: {e}");
            }
        })
    }

    /// The authorisations `target` (`DynamoDB_20120810.GetItem`) with `body` needs.
    fn requests(&self, service: &str, target: &str, body: &Value) -> Result<Vec<Request>, String> {
        let operation = target.rsplit('.').next().unwrap_or(target);
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        match service {
            "dynamodb" if target.starts_with("DynamoDBStreams") => {
                let stream = text(body, "StreamArn").unwrap_or_else(|| {
                    format!("arn:aws:dynamodb:{LOCAL_REGION}:{LOCAL_ACCOUNT}:table/*/stream/*")
                });
                let resource = if operation == "ListStreams" {
                    "*".to_owned()
                } else {
                    stream
                };
                Ok(vec![Request::new(
                    format!("dynamodb:{operation}"),
                    resource,
                )])
            }
            "dynamodb" => {
                let table = |name: &str| crate::provision::table_arn(name);
                match operation {
                    "TransactWriteItems" | "TransactGetItems" => {
                        let items = body
                            .get("TransactItems")
                            .and_then(Value::as_array)
                            .ok_or("no TransactItems")?;
                        items
                            .iter()
                            .map(|item| {
                                let (kind, inner) = item
                                    .as_object()
                                    .and_then(|o| o.iter().next())
                                    .ok_or("an empty transaction item")?;
                                let action = match kind.as_str() {
                                    "Put" => "PutItem",
                                    "Update" => "UpdateItem",
                                    "Delete" => "DeleteItem",
                                    "ConditionCheck" => "ConditionCheckItem",
                                    "Get" => "GetItem",
                                    other => return Err(format!("transaction item {other}")),
                                };
                                let name = text(inner, "TableName").ok_or("no TableName")?;
                                Ok(Request::new(format!("dynamodb:{action}"), table(&name)))
                            })
                            .collect()
                    }
                    "BatchGetItem" | "BatchWriteItem" => {
                        let tables = body
                            .get("RequestItems")
                            .and_then(Value::as_object)
                            .ok_or("no RequestItems")?;
                        Ok(tables
                            .keys()
                            .map(|name| Request::new(format!("dynamodb:{operation}"), table(name)))
                            .collect())
                    }
                    "ListTables" => Ok(vec![Request::new("dynamodb:ListTables", "*")]),
                    _ => {
                        let name = text(body, "TableName").ok_or("no TableName")?;
                        let resource = match text(body, "IndexName") {
                            Some(index) => format!("{}/index/{index}", table(&name)),
                            None => table(&name),
                        };
                        Ok(vec![Request::new(
                            format!("dynamodb:{operation}"),
                            resource,
                        )])
                    }
                }
            }
            "sqs" => {
                let action = operation.strip_suffix("Batch").unwrap_or(operation);
                let name = match (text(body, "QueueUrl"), text(body, "QueueName")) {
                    (Some(url), _) => url.rsplit('/').next().unwrap_or_default().to_owned(),
                    (None, Some(name)) => name,
                    (None, None) if operation == "ListQueues" => "*".into(),
                    _ => return Err("no QueueUrl".into()),
                };
                Ok(vec![Request::new(
                    format!("sqs:{action}"),
                    format!("arn:aws:sqs:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{name}"),
                )])
            }
            "events" => {
                let bus = |v: &Value| {
                    let name = text(v, "EventBusName").unwrap_or_else(|| "default".into());
                    if name.starts_with("arn:") {
                        name
                    } else {
                        format!("arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT}:event-bus/{name}")
                    }
                };
                if operation == "PutEvents" {
                    let entries = body
                        .get("Entries")
                        .and_then(Value::as_array)
                        .ok_or("no Entries")?;
                    return Ok(entries
                        .iter()
                        .map(|entry| {
                            let mut request = Request::new("events:PutEvents", bus(entry));
                            for (key, field) in [
                                ("events:source", "Source"),
                                ("events:detail-type", "DetailType"),
                            ] {
                                if let Some(value) = text(entry, field) {
                                    request = request.with(key, value);
                                }
                            }
                            request
                        })
                        .collect());
                }
                Ok(vec![Request::new(format!("events:{operation}"), bus(body))])
            }
            "secretsmanager" => {
                let id = text(body, "SecretId")
                    .or_else(|| text(body, "Name"))
                    .ok_or("no SecretId")?;
                let arn = if id.starts_with("arn:") {
                    id
                } else {
                    self.secrets.get(&id).cloned().unwrap_or_else(|| {
                        format!("arn:aws:secretsmanager:{LOCAL_REGION}:{LOCAL_ACCOUNT}:secret:{id}")
                    })
                };
                Ok(vec![Request::new(
                    format!("secretsmanager:{operation}"),
                    arn,
                )])
            }
            other => Err(format!("service {other}")),
        }
    }
}

/// The access key id and service of a SigV4 `Authorization` header.
fn signer(headers: &HeaderMap) -> Option<(String, String)> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let credential = auth.split("Credential=").nth(1)?.split(',').next()?;
    let mut scope = credential.split('/');
    let key = scope.next()?.to_owned();
    let service = scope.nth(2)?.to_owned();
    Some((key, service))
}

/// An error as the JSON protocols carry it (`__type` and the `x-amzn-ErrorType` header).
fn refuse(code: &str, message: &str, service: &str) -> Response {
    let mut response = (
        StatusCode::BAD_REQUEST,
        [
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amzn-errortype", code),
        ],
        json!({"__type": format!("com.amazon.coral.service#{code}"), "message": message})
            .to_string(),
    )
        .into_response();
    if service == "sqs" {
        // SQS's JSON protocol also names the error as its query protocol did.
        let legacy = if code == "AccessDeniedException" {
            "AccessDenied"
        } else {
            code
        };
        if let Ok(value) = HeaderValue::from_str(&format!("{legacy};Sender")) {
            response.headers_mut().insert("x-amzn-query-error", value);
        }
    }
    response
}

async fn handle(
    State(gate): State<Arc<Gate>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((key, service)) = signer(&headers) else {
        return refuse(
            "MissingAuthenticationTokenException",
            "Request is missing Authentication Token",
            "",
        );
    };
    if key != OPERATOR_KEY {
        let Some(role) = gate.roles.get(&key) else {
            return refuse(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
                &service,
            );
        };
        let target = headers
            .get("x-amz-target")
            .and_then(|t| t.to_str().ok())
            .unwrap_or_default();
        let parsed = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
        let requests = match gate.requests(&service, target, &parsed) {
            Ok(requests) => requests,
            Err(reason) => {
                return refuse(
                    "AccessDeniedException",
                    &format!("the local stack cannot authorise {service} {target:?}: {reason}"),
                    &service,
                );
            }
        };
        for request in requests {
            let decision = role.decide(&request);
            let call = Call {
                principal: key.clone(),
                request,
            };
            if decision == Decision::Allowed {
                gate.allowed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(call);
                continue;
            }
            let why = match decision {
                Decision::ExplicitlyDenied => "with an explicit deny in an identity-based policy",
                _ => "because no identity-based policy allows the action",
            };
            let message = format!(
                "User: arn:aws:sts::{LOCAL_ACCOUNT}:assumed-role/{key}Role/{key} is not authorized \
                 to perform: {} on resource: {} {why}",
                call.request.action, call.request.resource
            );
            if gate.print {
                eprintln!("[iam] {message}");
            }
            gate.denied
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(call);
            return refuse("AccessDeniedException", &message, &service);
        }
    }
    let backend = if service == "dynamodb" {
        Some(gate.dynamodb.as_str())
    } else {
        gate.others.as_deref()
    };
    let Some(backend) = backend else {
        return refuse(
            "ServiceUnavailable",
            &format!("{service} does not run on this stack"),
            &service,
        );
    };
    forward(&gate.client, backend, method, &uri, &headers, body).await
}

/// Sends the request on as it came and answers what the emulator answered.
async fn forward(
    client: &reqwest::Client,
    backend: &str,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = client
        .request(method, format!("{backend}{path}"))
        .body(body);
    for (name, value) in headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection") {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(answer) => {
            let status = answer.status();
            let mut out = Response::builder().status(status);
            for (name, value) in answer.headers() {
                if !matches!(
                    name.as_str(),
                    "content-length" | "connection" | "transfer-encoding"
                ) {
                    out = out.header(name, value);
                }
            }
            let bytes = answer.bytes().await.unwrap_or_default();
            out.body(Body::from(bytes))
                .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
        }
        // The emulator is down (an outage a test made): the service is unavailable.
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [("content-type", "application/x-amz-json-1.0")],
            json!({"__type": "ServiceUnavailable", "message": e.to_string()}).to_string(),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate() -> Gate {
        Gate::new(
            BTreeMap::new(),
            String::new(),
            None,
            HashMap::from([(
                "ticket-key".to_owned(),
                "arn:aws:secretsmanager:us-east-1:000000000000:secret:ticket-key-AbCdEf".to_owned(),
            )]),
            false,
        )
    }

    fn resources(service: &str, target: &str, body: Value) -> Vec<(String, String)> {
        gate()
            .requests(service, target, &body)
            .unwrap()
            .into_iter()
            .map(|r| (r.action, r.resource))
            .collect()
    }

    const TABLE: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/Table";

    #[test]
    fn a_transaction_needs_each_item_s_own_action() {
        let body = json!({"TransactItems": [
            {"Put": {"TableName": "Table"}},
            {"Update": {"TableName": "Table"}},
            {"ConditionCheck": {"TableName": "Table"}},
        ]});
        assert_eq!(
            resources("dynamodb", "DynamoDB_20120810.TransactWriteItems", body),
            vec![
                ("dynamodb:PutItem".into(), TABLE.into()),
                ("dynamodb:UpdateItem".into(), TABLE.into()),
                ("dynamodb:ConditionCheckItem".into(), TABLE.into()),
            ]
        );
    }

    #[test]
    fn a_query_on_an_index_needs_the_index() {
        let body = json!({"TableName": "Table", "IndexName": "GSI1"});
        assert_eq!(
            resources("dynamodb", "DynamoDB_20120810.Query", body),
            vec![("dynamodb:Query".into(), format!("{TABLE}/index/GSI1"))]
        );
    }

    #[test]
    fn batches_are_authorised_as_their_single_actions_where_iam_says_so() {
        let body = json!({"QueueUrl": "http://h/000000000000/q.fifo", "Entries": []});
        assert_eq!(
            resources("sqs", "AmazonSQS.DeleteMessageBatch", body),
            vec![(
                "sqs:DeleteMessage".into(),
                "arn:aws:sqs:us-east-1:000000000000:q.fifo".into()
            )]
        );
        let body = json!({"RequestItems": {"Table": {}}});
        assert_eq!(
            resources("dynamodb", "DynamoDB_20120810.BatchGetItem", body),
            vec![("dynamodb:BatchGetItem".into(), TABLE.into())]
        );
    }

    #[test]
    fn each_event_is_authorised_with_its_source() {
        let body = json!({"Entries": [{"EventBusName": "bus", "Source": "bilheteria", "DetailType": "X"}]});
        let requests = gate()
            .requests("events", "AWSEvents.PutEvents", &body)
            .unwrap();
        assert_eq!(
            requests[0].resource,
            "arn:aws:events:us-east-1:000000000000:event-bus/bus"
        );
        assert_eq!(requests[0].context["events:source"], "bilheteria");
    }

    #[test]
    fn a_secret_named_is_authorised_by_its_arn() {
        assert_eq!(
            resources(
                "secretsmanager",
                "secretsmanager.GetSecretValue",
                json!({"SecretId": "ticket-key"})
            ),
            vec![(
                "secretsmanager:GetSecretValue".into(),
                "arn:aws:secretsmanager:us-east-1:000000000000:secret:ticket-key-AbCdEf".into()
            )]
        );
    }

    #[test]
    fn the_signer_is_read_from_the_credential_scope() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=GetSessionFunction/20261204/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            ),
        );
        assert_eq!(
            signer(&headers),
            Some(("GetSessionFunction".into(), "dynamodb".into()))
        );
    }
}
