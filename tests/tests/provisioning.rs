//! The local stack's resources are what the template asks for: every attribute of every queue,
//! the table, the bus, its rule and the secrets, read back from the emulators and compared with
//! the template; what cannot be kept is said at start.

use aws_sdk_sqs::types::QueueAttributeName;
use local::{
    dynamodb::sdk_config,
    stack::{Options, Stack},
    template::Template,
};
use serde_json::{Value, json};

/// The template's properties of `id`, intrinsics resolved to the stack's local names.
fn properties(template: &Template, stack: &Stack, id: &str) -> Value {
    let names = |name: &str| stack.resource(name);
    template
        .resolve_json(&template.resources[id].properties, &names)
        .unwrap_or_else(|| panic!("{id}'s properties resolve"))
}

/// CloudFormation tags as a map.
fn tags(properties: &Value) -> Value {
    properties["Tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| (t["Key"].as_str().unwrap().to_owned(), t["Value"].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// An attribute as SQS reports it: text, or JSON text for a policy.
fn as_attribute(value: &Value) -> Value {
    match value {
        Value::String(_) => value.clone(),
        Value::Object(_) => value.clone(),
        other => Value::String(other.to_string()),
    }
}

/// The attribute `name` of the queue at `url`, as SQS reports it.
async fn attribute(sqs: &aws_sdk_sqs::Client, url: &str, name: QueueAttributeName) -> String {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(name.clone())
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default()
        .remove(&name)
        .unwrap_or_else(|| panic!("{url}: no {name}"))
}

fn parsed(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

#[tokio::test]
async fn every_provisioned_resource_has_the_attributes_the_template_gives_it() {
    let stack = Stack::start(Options::default())
        .await
        .expect("the stack starts");
    let template = Template::of_repository().unwrap();
    let services = sdk_config(stack.queues_endpoint().unwrap()).await;
    let sqs = aws_sdk_sqs::Client::new(&services);

    // Queues: every property is an attribute of the same name.
    let queues = template.queues();
    assert!(queues.len() >= 3, "the template's queues");
    for queue in &queues {
        let wanted = properties(&template, &stack, &queue.logical_id);
        let url = stack.resource(&queue.logical_id).unwrap();
        let kept = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap_or_default();
        for (name, value) in wanted.as_object().unwrap() {
            if name == "QueueName" || name == "Tags" {
                continue;
            }
            let kept = kept
                .get(&QueueAttributeName::from(name.as_str()))
                .unwrap_or_else(|| panic!("{}: {name} not set", queue.logical_id));
            let wanted = as_attribute(value);
            let kept = if wanted.is_object() {
                parsed(kept)
            } else {
                json!(kept)
            };
            // Policy numbers may be kept as text.
            assert_eq!(
                kept.to_string().replace('"', ""),
                wanted.to_string().replace('"', ""),
                "{}: {name}",
                queue.logical_id
            );
        }
        let kept_tags = sqs
            .list_queue_tags()
            .queue_url(&url)
            .send()
            .await
            .unwrap()
            .tags
            .unwrap_or_default();
        assert_eq!(
            json!(kept_tags),
            tags(&wanted),
            "{}: tags",
            queue.logical_id
        );
    }
    let dlq = stack.resource("RequestsDeadLetterQueue").unwrap();
    assert_eq!(
        attribute(&sqs, &dlq, QueueAttributeName::MessageRetentionPeriod).await,
        "1209600",
        "the dead-letter queue keeps a message 14 days"
    );
    // The queue policy is kept on its queue.
    let policy = properties(&template, &stack, "EventsQueuePolicy");
    let events_queue = stack.resource("EventsQueue").unwrap();
    assert_eq!(
        parsed(&attribute(&sqs, &events_queue, QueueAttributeName::Policy).await),
        policy["PolicyDocument"]
    );

    // The table.
    let dynamodb = aws_sdk_dynamodb::Client::new(stack.dynamodb_sdk());
    let wanted = properties(&template, &stack, "Table");
    let table = dynamodb
        .describe_table()
        .table_name("Table")
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    assert_eq!(
        table
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str()),
        wanted["BillingMode"].as_str()
    );
    assert_eq!(
        table
            .sse_description()
            .and_then(|s| s.status())
            .map(|s| s.as_str()),
        Some("ENABLED"),
        "encrypted at rest, as SSESpecification asks"
    );
    assert_eq!(
        table
            .stream_specification()
            .and_then(|s| s.stream_view_type())
            .map(|v| v.as_str()),
        wanted["StreamSpecification"]["StreamViewType"].as_str()
    );
    let mut indexes: Vec<(String, Value, String)> = table
        .global_secondary_indexes()
        .iter()
        .map(|g| {
            (
                g.index_name().unwrap().to_owned(),
                g.key_schema()
                    .iter()
                    .map(|k| json!({"AttributeName": k.attribute_name(), "KeyType": k.key_type().as_str()}))
                    .collect(),
                g.projection()
                    .and_then(|p| p.projection_type())
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect();
    indexes.sort_by(|a, b| a.0.cmp(&b.0));
    let mut wanted_indexes: Vec<(String, Value, String)> = wanted["GlobalSecondaryIndexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["IndexName"].as_str().unwrap().to_owned(),
                g["KeySchema"].clone(),
                g["Projection"]["ProjectionType"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    wanted_indexes.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(indexes, wanted_indexes);
    let ttl = dynamodb
        .describe_time_to_live()
        .table_name("Table")
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(
        ttl.attribute_name(),
        wanted["TimeToLiveSpecification"]["AttributeName"].as_str()
    );
    let table_tags: serde_json::Map<String, Value> = dynamodb
        .list_tags_of_resource()
        .resource_arn(table.table_arn().unwrap())
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), json!(t.value())))
        .collect();
    assert_eq!(Value::Object(table_tags), tags(&wanted));

    // The bus and its rule, with its target as the template names it.
    let events = aws_sdk_eventbridge::Client::new(&services);
    let bus = stack.resource("EventBus").unwrap();
    events.describe_event_bus().name(&bus).send().await.unwrap();
    let wanted = properties(&template, &stack, "EventsToQueueRule");
    let rule = events
        .describe_rule()
        .name("EventsToQueueRule")
        .event_bus_name(&bus)
        .send()
        .await
        .unwrap();
    assert_eq!(rule.description(), wanted["Description"].as_str());
    assert_eq!(
        parsed(rule.event_pattern().unwrap()),
        wanted["EventPattern"]
    );
    assert_eq!(rule.state().map(|s| s.as_str()), Some("ENABLED"));
    let targets: Vec<Value> = events
        .list_targets_by_rule()
        .rule("EventsToQueueRule")
        .event_bus_name(&bus)
        .send()
        .await
        .unwrap()
        .targets()
        .iter()
        .map(|t| json!({"Id": t.id(), "Arn": t.arn()}))
        .collect();
    assert_eq!(Value::Array(targets), wanted["Targets"]);

    // The secrets: described as the template says, their values generated as it asks.
    let secrets = aws_sdk_secretsmanager::Client::new(&services);
    for id in ["TicketSigningKey", "PaymentWebhookSecret"] {
        let wanted = properties(&template, &stack, id);
        let described = secrets
            .describe_secret()
            .secret_id(stack.resource(id).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(
            described.description(),
            wanted["Description"].as_str(),
            "{id}"
        );
        let value = stack.secret(id).unwrap();
        let generate = &wanted["GenerateSecretString"];
        assert_eq!(
            value.len() as u64,
            generate["PasswordLength"].as_u64().unwrap(),
            "{id}"
        );
        assert!(
            value.chars().all(|c| c.is_ascii_alphanumeric()),
            "{id}: ExcludePunctuation"
        );
    }
    assert_ne!(
        stack.secret("TicketSigningKey"),
        stack.secret("PaymentWebhookSecret")
    );

    // What the emulators cannot keep is said, and nothing else.
    let warnings = stack.warnings();
    assert!(
        !warnings.iter().any(|w| w.contains("does not keep")),
        "ministack keeps every queue attribute: {warnings:#?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("table Table: PointInTimeRecoverySpecification")),
        "{warnings:#?}"
    );
    assert!(
        warnings.iter().any(
            |w| w.starts_with("deployed to AWS only") && w.contains("AWS::CloudWatch::Alarm (")
        ),
        "{warnings:#?}"
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_persistent_stack_keeps_its_secrets_and_brings_old_queues_to_the_template() {
    let dir = std::env::temp_dir().join(format!("provisioning-{}", ulid::Ulid::generate()));
    std::fs::create_dir_all(&dir).unwrap();
    let storage = local::dynamodb::Storage::File(dir.join("dynamodb.sqlite"));
    let options = Options {
        storage: storage.clone(),
        ..Options::default()
    };
    let first = Stack::start(options.clone())
        .await
        .expect("the stack starts");
    let key = first.secret("TicketSigningKey").unwrap().to_owned();
    let dlq = first.resource("RequestsDeadLetterQueue").unwrap();
    // A queue made before the template asked for 14 days.
    let services = sdk_config(first.queues_endpoint().unwrap()).await;
    aws_sdk_sqs::Client::new(&services)
        .set_queue_attributes()
        .queue_url(&dlq)
        .attributes(QueueAttributeName::MessageRetentionPeriod, "345600")
        .send()
        .await
        .unwrap();
    first.stop().await;

    let again = Stack::start(options).await.expect("the stack starts again");
    assert_eq!(
        again.secret("TicketSigningKey"),
        Some(key.as_str()),
        "tickets sold before the restart still verify"
    );
    let services = sdk_config(again.queues_endpoint().unwrap()).await;
    assert_eq!(
        attribute(
            &aws_sdk_sqs::Client::new(&services),
            &again.resource("RequestsDeadLetterQueue").unwrap(),
            QueueAttributeName::MessageRetentionPeriod
        )
        .await,
        "1209600"
    );
    again.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
