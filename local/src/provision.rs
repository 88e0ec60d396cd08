//! Creates what the template declares in the local emulators: tables, queues (dead-letter queues
//! first, with their redrive policy), event buses and the rules that route a bus to a queue.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_sqs::types::QueueAttributeName;

use crate::{
    dynamodb::{DynamoDbError, create_table},
    template::{LOCAL_ACCOUNT, LOCAL_REGION, Template, TemplateError},
};

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Table(#[from] DynamoDbError),
    #[error("queue {queue}: {reason}")]
    Queue { queue: String, reason: String },
    #[error("event bus {bus}: {reason}")]
    Bus { bus: String, reason: String },
}

/// Local names of what was created, by logical id: what `!Ref` and `!GetAtt` resolve to.
#[derive(Clone, Debug, Default)]
pub struct Provisioned {
    pub values: HashMap<String, String>,
    pub queue_urls: BTreeMap<String, String>,
}

impl Provisioned {
    pub fn lookup(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }
}

fn describe<E: std::error::Error + 'static>(e: E) -> String {
    aws_sdk_sqs::error::DisplayErrorContext(e).to_string()
}

/// Tables into `dynamodb`; queues, buses and rules too when `sqs` and `events` are given.
pub async fn provision(
    template: &Template,
    dynamodb: &aws_sdk_dynamodb::Client,
    queues: Option<(&aws_sdk_sqs::Client, &aws_sdk_eventbridge::Client)>,
) -> Result<Provisioned, ProvisionError> {
    let mut out = Provisioned::default();
    for (id, spec) in template.tables()? {
        create_table(dynamodb, &id, &spec).await?;
        out.values.insert(id.clone(), id.clone());
        out.values.insert(
            format!("{id}.Arn"),
            format!("arn:aws:dynamodb:{LOCAL_REGION}:{LOCAL_ACCOUNT}:table/{id}"),
        );
    }
    let Some((sqs, events)) = queues else {
        return Ok(out);
    };

    let mut pending = template.queues();
    while !pending.is_empty() {
        let ready = pending.iter().position(|q| {
            q.redrive
                .as_ref()
                .is_none_or(|(dlq, _)| out.queue_urls.contains_key(dlq))
        });
        let Some(index) = ready else {
            let queue = pending[0].logical_id.clone();
            return Err(ProvisionError::Queue {
                queue,
                reason: "its dead-letter queue is not in the template".into(),
            });
        };
        let queue = pending.remove(index);
        let fail = |reason| ProvisionError::Queue {
            queue: queue.logical_id.clone(),
            reason,
        };
        let mut create = sqs.create_queue().queue_name(&queue.name);
        if queue.fifo {
            create = create
                .attributes(QueueAttributeName::FifoQueue, "true")
                .attributes(
                    QueueAttributeName::ContentBasedDeduplication,
                    queue.content_based_deduplication.to_string(),
                );
        }
        if let Some(timeout) = queue.visibility_timeout {
            create = create.attributes(QueueAttributeName::VisibilityTimeout, timeout.to_string());
        }
        if let Some((dlq, max)) = &queue.redrive {
            let arn = out.values[&format!("{dlq}.Arn")].clone();
            let policy =
                serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": max}).to_string();
            create = create.attributes(QueueAttributeName::RedrivePolicy, policy);
        }
        let url = create
            .send()
            .await
            .map_err(|e| fail(describe(e)))?
            .queue_url
            .unwrap_or_default();
        let arn = format!("arn:aws:sqs:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{}", queue.name);
        let id = &queue.logical_id;
        out.values.insert(id.clone(), url.clone());
        out.values.insert(format!("{id}.Arn"), arn);
        out.values
            .insert(format!("{id}.QueueName"), queue.name.clone());
        out.values.insert(format!("{id}.QueueUrl"), url.clone());
        out.queue_urls.insert(id.clone(), url);
    }

    for bus in template.buses() {
        let created = events.create_event_bus().name(&bus.name).send().await;
        // A persistent ministack restarts with its buses.
        if let Err(e) = created
            && !e
                .as_service_error()
                .is_some_and(|e| e.is_resource_already_exists_exception())
        {
            return Err(ProvisionError::Bus {
                bus: bus.logical_id.clone(),
                reason: describe(e),
            });
        }
        let arn = format!(
            "arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT}:event-bus/{}",
            bus.name
        );
        out.values.insert(bus.logical_id.clone(), bus.name.clone());
        out.values
            .insert(format!("{}.Name", bus.logical_id), bus.name.clone());
        out.values.insert(format!("{}.Arn", bus.logical_id), arn);
    }
    for rule in template.rules() {
        let bus = out.lookup(&rule.bus).unwrap_or(rule.bus.clone());
        let fail = |reason| ProvisionError::Bus {
            bus: bus.clone(),
            reason,
        };
        events
            .put_rule()
            .name(&rule.logical_id)
            .event_bus_name(&bus)
            .event_pattern(rule.pattern.to_string())
            .send()
            .await
            .map_err(|e| fail(describe(e)))?;
        for (i, (queue, group)) in rule.queue_targets.iter().enumerate() {
            let arn = out
                .lookup(&format!("{queue}.Arn"))
                .ok_or_else(|| fail(format!("target {queue} is not a queue")))?;
            let mut target = aws_sdk_eventbridge::types::Target::builder()
                .id(format!("{queue}-{i}"))
                .arn(arn);
            if let Some(group) = group {
                target = target.sqs_parameters(
                    aws_sdk_eventbridge::types::SqsParameters::builder()
                        .message_group_id(group)
                        .build(),
                );
            }
            let target = target.build().map_err(|e| fail(e.to_string()))?;
            events
                .put_targets()
                .rule(&rule.logical_id)
                .event_bus_name(&bus)
                .targets(target)
                .send()
                .await
                .map_err(|e| fail(describe(e)))?;
        }
    }
    Ok(out)
}
