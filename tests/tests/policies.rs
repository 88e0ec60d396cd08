//! IAM as AWS enforces it, before anything is deployed: every function's role in `template.yaml`
//! grants exactly the calls its binary makes (`bilheteria::calls`), and on the local stack a
//! function refused a call gets the `AccessDeniedException` AWS answers.

mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use bilheteria::calls::{self, On};
use local::{
    dynamodb::{function_credentials, sdk_config_as},
    iam::{Decision, Effect, Request, glob},
    stack::{Options, Stack},
    template::{LOCAL_ACCOUNT, LOCAL_REGION, Template, repository_root},
};

/// What `!Ref X` and `!GetAtt X.Attr` would be in a deployed stack, by X's resource type.
fn deployed_names(template: &Template) -> impl Fn(&str) -> Option<String> + '_ {
    move |name: &str| {
        let (id, attribute) = name.split_once('.').unwrap_or((name, ""));
        let kind = template.resources.get(id)?.kind.as_str();
        let arn = match kind {
            "AWS::DynamoDB::Table" if attribute == "StreamArn" => format!(
                "arn:aws:dynamodb:{LOCAL_REGION}:{LOCAL_ACCOUNT}:table/{id}/stream/2026-12-04T00:00:00.000"
            ),
            "AWS::DynamoDB::Table" => {
                format!("arn:aws:dynamodb:{LOCAL_REGION}:{LOCAL_ACCOUNT}:table/{id}")
            }
            "AWS::SQS::Queue" => format!("arn:aws:sqs:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{id}"),
            "AWS::Events::EventBus" => {
                format!("arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT}:event-bus/{id}")
            }
            "AWS::SecretsManager::Secret" => {
                format!("arn:aws:secretsmanager:{LOCAL_REGION}:{LOCAL_ACCOUNT}:secret:{id}-AbCdEf")
            }
            _ => format!("arn:aws:unknown:::{id}"),
        };
        Some(arn)
    }
}

/// The authorisation a call of the table needs, with the deployed ARN of what it is made on.
fn request(call: &calls::Call, names: &dyn Fn(&str) -> Option<String>) -> Request {
    let arn = |id: &str| names(&format!("{id}.Arn")).unwrap();
    match call.on {
        On::Table => Request::new(call.action, arn("Table")),
        On::Index(index) => Request::new(call.action, format!("{}/index/{index}", arn("Table"))),
        On::Queue(id) => Request::new(call.action, arn(id)),
        On::Bus(id, source) => Request::new(call.action, arn(id)).with("events:source", source),
        On::Secret(id) => Request::new(call.action, names(id).unwrap()),
    }
}

#[test]
fn every_function_is_granted_what_its_binary_calls_and_nothing_more() {
    let template = Template::of_repository().unwrap();
    let names = deployed_names(&template);
    let functions = template.functions().unwrap();
    assert_eq!(
        functions.len(),
        calls::FUNCTIONS.len(),
        "a function without calls listed"
    );
    let mut problems = Vec::new();
    for function in &functions {
        let Some(calls) = calls::of(function.crate_name()) else {
            problems.push(format!("{}: not in bilheteria::calls", function.logical_id));
            continue;
        };
        let role = template.role(&function.logical_id, &names).unwrap();
        let requests: Vec<Request> = calls.iter().map(|c| request(c, &names)).collect();
        for request in &requests {
            if role.decide(request) != Decision::Allowed {
                problems.push(format!(
                    "{}: calls {} on {} without a grant",
                    function.logical_id, request.action, request.resource
                ));
            }
        }
        for statement in role.inline() {
            assert_eq!(statement.effect, Effect::Allow, "{}", function.logical_id);
            for action in &statement.actions {
                for resource in &statement.resources {
                    let used = requests.iter().any(|r| {
                        glob(&action.to_ascii_lowercase(), &r.action.to_ascii_lowercase())
                            && glob(resource, &r.resource)
                    });
                    if !used {
                        problems.push(format!(
                            "{}: grants {action} on {resource}, which no call of its binary needs",
                            function.logical_id
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The template with `function`'s statements for `action` taken out.
fn without_grant(function: &str, action: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(repository_root().join("template.yaml")).unwrap();
    let start = text.find(&format!("\n  {function}:\n")).unwrap();
    let line = format!("                - {action}\n");
    let at = start + text[start..].find(&line).unwrap();
    let edited = format!("{}{}", &text[..at], &text[at + line.len()..]);
    let dir = std::env::temp_dir().join(format!("bilheteria-policy-{}", ulid::Ulid::generate()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("template.yaml");
    std::fs::write(&path, edited).unwrap();
    path
}

#[tokio::test]
async fn a_function_whose_policy_lacks_an_action_it_calls_gets_access_denied() {
    // GetSessionFunction reads a session's sectors with BatchGetItem: the grant the template
    // once lacked.
    let stack = Stack::start(Options {
        template: without_grant("GetSessionFunction", "dynamodb:BatchGetItem"),
        queues: false,
        ..Options::default()
    })
    .await
    .expect("the stack starts");
    let event = local::seed::seed(stack.api_url(), &stack.token("organiser", true))
        .await
        .unwrap()
        .expect("a new catalog");
    let found: serde_json::Value = reqwest::get(format!("{}/events/{event}", stack.api_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = found["sessions"][0]["id"]
        .as_str()
        .expect("a session")
        .to_owned();
    assert!(stack.iam_denied().is_empty(), "{:#?}", stack.iam_denied());
    let resp = reqwest::get(format!("{}/sessions/{session}", stack.api_url()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    assert_eq!(
        resp.headers()["content-type"],
        "application/problem+json",
        "the function answers its own error"
    );
    let denied = stack.iam_denied();
    assert_eq!(denied.len(), 1, "{denied:#?}");
    assert_eq!(denied[0].principal, "GetSessionFunction");
    assert_eq!(denied[0].request.action, "dynamodb:BatchGetItem");
    assert_eq!(
        denied[0].request.resource,
        format!("arn:aws:dynamodb:{LOCAL_REGION}:{LOCAL_ACCOUNT}:table/Table")
    );

    // What the function's SDK got: AWS's error, with its code and message.
    let sdk = sdk_config_as(stack.gate_url(), function_credentials("GetSessionFunction")).await;
    let key = std::collections::HashMap::from([
        (
            "PK".to_owned(),
            AttributeValue::S(format!("SESSION#{session}")),
        ),
        ("SK".to_owned(), AttributeValue::S("SESSION".into())),
    ]);
    let error = aws_sdk_dynamodb::Client::new(&sdk)
        .batch_get_item()
        .request_items(
            "Table",
            aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .keys(key)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    let service = error.as_service_error().expect("a service error");
    assert_eq!(service.meta().code(), Some("AccessDeniedException"));
    let message = service.meta().message().unwrap_or_default();
    assert!(
        message.contains("GetSessionFunction is not authorized to perform: dynamodb:BatchGetItem"),
        "{message}"
    );

    // Another function's grant is its own: GetEventFunction may query GSI1.
    let sdk = sdk_config_as(stack.gate_url(), function_credentials("GetEventFunction")).await;
    aws_sdk_dynamodb::Client::new(&sdk)
        .query()
        .table_name("Table")
        .index_name("GSI1")
        .key_condition_expression("GSI1PK = :pk")
        .expression_attribute_values(":pk", AttributeValue::S("EVENTS".into()))
        .send()
        .await
        .expect("granted");
    // And a key that names no function is no one.
    let sdk = sdk_config_as(stack.gate_url(), function_credentials("NoSuchFunction")).await;
    let error = aws_sdk_dynamodb::Client::new(&sdk)
        .list_tables()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error.as_service_error().and_then(|e| e.meta().code()),
        Some("UnrecognizedClientException")
    );
    stack.stop().await;
}
