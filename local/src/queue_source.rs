//! The SQS event source mapping, as Lambda runs it for a FIFO queue: batches of up to
//! `BatchSize` records with their FIFO attributes, `batchItemFailures` honoured (only the records
//! that succeeded are deleted), the rest left to come back after the visibility timeout and, past
//! `maxReceiveCount`, to move to the dead-letter queue.
//!
//! SQS itself keeps a message group's order: while a group has a message in flight it hands out
//! no other message of that group, so each group has at most one batch in flight.

use std::{collections::HashSet, sync::Arc, time::Duration};

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use serde_json::{Map, Value, json};
use tokio::sync::watch;

use crate::{
    lambda::{Invoked, Lambda},
    template::LOCAL_REGION,
};

#[derive(Clone, Debug)]
pub struct QueueMapping {
    pub function: String,
    pub queue_url: String,
    pub queue_arn: String,
    pub batch_size: u32,
    pub report_batch_item_failures: bool,
    /// Overrides the queue's visibility timeout for received messages (tests use a short one).
    pub visibility_timeout: Option<i32>,
}

/// The functions whose queue mappings are disabled (`UpdateEventSourceMapping`, `Enabled:
/// false`): their pollers receive nothing until enabled again, or until stepped one batch at a
/// time ([`Disabled::step`]); messages wait in the queue.
#[derive(Debug, Default)]
pub struct Disabled {
    functions: std::sync::RwLock<HashSet<String>>,
    /// Polls under way (a receive, then the batch's invocation), per function.
    polling: std::sync::Mutex<std::collections::HashMap<String, usize>>,
    /// Batches a disabled mapping may still hand over, per function.
    steps: std::sync::Mutex<std::collections::HashMap<String, usize>>,
}

impl Disabled {
    /// Turns `function`'s mapping off or on; turning it off returns once no poll of it is under
    /// way, so that nothing more is handed to the function.
    pub async fn set(&self, function: &str, disabled: bool) {
        if let Ok(mut set) = self.functions.write() {
            match disabled {
                true => set.insert(function.to_owned()),
                false => set.remove(function),
            };
        }
        if disabled {
            self.settled(function).await;
        }
    }

    /// Lets a disabled mapping hand `function` `batches` more batches (of messages waiting), and
    /// returns once they are handled.
    pub async fn step(&self, function: &str, batches: usize) {
        if let Ok(mut steps) = self.steps.lock() {
            *steps.entry(function.to_owned()).or_default() += batches;
        }
        self.settled(function).await;
    }

    async fn settled(&self, function: &str) {
        while count(&self.polling, function) > 0
            || (self.contains(function) && count(&self.steps, function) > 0)
        {
            tokio::time::sleep(DISABLED_POLL).await;
        }
    }

    fn contains(&self, function: &str) -> bool {
        self.functions.read().is_ok_and(|s| s.contains(function))
    }

    /// Counts a poll of `function` while it runs; `None` when its mapping is off (and has no
    /// step left).
    fn poll(&self, function: &str) -> Option<Polling<'_>> {
        let mut polling = self.polling.lock().ok()?;
        let step = self.contains(function);
        if step {
            let mut steps = self.steps.lock().ok()?;
            let left = steps.get_mut(function).filter(|n| **n > 0)?;
            *left -= 1;
        }
        *polling.entry(function.to_owned()).or_default() += 1;
        Some(Polling {
            disabled: self,
            function: function.to_owned(),
            step,
        })
    }
}

fn count(counts: &std::sync::Mutex<std::collections::HashMap<String, usize>>, key: &str) -> usize {
    counts
        .lock()
        .map(|c| c.get(key).copied().unwrap_or(0))
        .unwrap_or(0)
}

/// A poll under way.
struct Polling<'a> {
    disabled: &'a Disabled,
    function: String,
    /// Taken from a disabled mapping's steps.
    step: bool,
}

impl Polling<'_> {
    /// A step that found nothing to hand over is given back.
    fn delivered(self, delivered: bool) {
        if self.step
            && !delivered
            && let Ok(mut steps) = self.disabled.steps.lock()
        {
            *steps.entry(self.function.clone()).or_default() += 1;
        }
    }
}

impl Drop for Polling<'_> {
    fn drop(&mut self) {
        if let Ok(mut polling) = self.disabled.polling.lock()
            && let Some(n) = polling.get_mut(&self.function)
        {
            *n = n.saturating_sub(1);
        }
    }
}

/// How often a disabled mapping looks whether it was enabled again.
const DISABLED_POLL: Duration = Duration::from_millis(50);

/// Polls `mapping`'s queue with `pollers` concurrent receivers until `stop` turns true.
pub fn spawn(
    mapping: QueueMapping,
    sqs: aws_sdk_sqs::Client,
    lambda: Arc<Lambda>,
    pollers: usize,
    disabled: Arc<Disabled>,
    stop: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..pollers.max(1))
        .map(|_| {
            let (mapping, sqs, lambda, disabled, mut stop) = (
                mapping.clone(),
                sqs.clone(),
                lambda.clone(),
                disabled.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                while !*stop.borrow() {
                    let Some(polling) = disabled.poll(&mapping.function) else {
                        tokio::select! {
                            _ = stop.changed() => {}
                            _ = tokio::time::sleep(DISABLED_POLL) => {}
                        }
                        continue;
                    };
                    tokio::select! {
                        _ = stop.changed() => {}
                        delivered = poll_once(&mapping, &sqs, &lambda) => polling.delivered(delivered),
                    }
                }
            })
        })
        .collect()
}

/// Receives a batch and hands it to the function: whether there was one.
async fn poll_once(mapping: &QueueMapping, sqs: &aws_sdk_sqs::Client, lambda: &Lambda) -> bool {
    let received = sqs
        .receive_message()
        .queue_url(&mapping.queue_url)
        .max_number_of_messages(mapping.batch_size.clamp(1, 10) as i32)
        .wait_time_seconds(1)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .set_visibility_timeout(mapping.visibility_timeout)
        .send()
        .await;
    let messages = match received {
        Ok(out) => out.messages.unwrap_or_default(),
        Err(e) => {
            eprintln!(
                "[sqs] receive from {} failed: {}",
                mapping.queue_url,
                aws_sdk_sqs::error::DisplayErrorContext(e)
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
            return false;
        }
    };
    if messages.is_empty() {
        return false;
    }
    let event = json!({ "Records": messages.iter().map(|m| record(m, &mapping.queue_arn)).collect::<Vec<_>>() });
    let ids: Vec<&str> = messages.iter().filter_map(|m| m.message_id()).collect();
    let succeeded: HashSet<&str> = match lambda
        .invoke(&mapping.function, event.to_string().into_bytes())
        .await
    {
        Ok(Invoked::Response(body)) => succeeded(&body, &ids, mapping.report_batch_item_failures),
        Ok(Invoked::FunctionError(_)) | Err(_) => HashSet::new(),
    };
    let entries: Vec<DeleteMessageBatchRequestEntry> = messages
        .iter()
        .filter(|m| m.message_id().is_some_and(|id| succeeded.contains(id)))
        .filter_map(|m| {
            DeleteMessageBatchRequestEntry::builder()
                .id(m.message_id()?)
                .receipt_handle(m.receipt_handle()?)
                .build()
                .ok()
        })
        .collect();
    if entries.is_empty() {
        return true;
    }
    let deleted = sqs
        .delete_message_batch()
        .queue_url(&mapping.queue_url)
        .set_entries(Some(entries))
        .send()
        .await;
    if let Err(e) = deleted {
        eprintln!(
            "[sqs] delete from {} failed: {}",
            mapping.queue_url,
            aws_sdk_sqs::error::DisplayErrorContext(e)
        );
    }
    true
}

/// The records of a batch that succeeded: all, unless the response lists `batchItemFailures`
/// (honoured only with `ReportBatchItemFailures`); a failure naming no record of the batch fails
/// the whole batch, as Lambda does.
pub fn succeeded<'a>(response: &[u8], ids: &[&'a str], report_failures: bool) -> HashSet<&'a str> {
    let all: HashSet<&str> = ids.iter().copied().collect();
    if !report_failures {
        return all;
    }
    let Ok(value) = serde_json::from_slice::<Value>(response) else {
        return all;
    };
    let Some(failures) = value.get("batchItemFailures").and_then(Value::as_array) else {
        return all;
    };
    let mut failed = HashSet::new();
    for failure in failures {
        match failure
            .get("itemIdentifier")
            .and_then(Value::as_str)
            .and_then(|id| all.get(id))
        {
            Some(id) => {
                failed.insert(*id);
            }
            None => return HashSet::new(),
        }
    }
    all.difference(&failed).copied().collect()
}

/// One SQS record as Lambda delivers it.
pub fn record(message: &Message, queue_arn: &str) -> Value {
    let attributes: Map<String, Value> = message
        .attributes()
        .map(|attrs| {
            attrs
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone())))
                .collect()
        })
        .unwrap_or_default();
    let message_attributes: Map<String, Value> = message
        .message_attributes()
        .map(|attrs| {
            attrs
                .iter()
                .map(|(k, v)| {
                    let value = json!({
                        "stringValue": v.string_value(),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": v.data_type(),
                    });
                    (k.clone(), value)
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "messageId": message.message_id(),
        "receiptHandle": message.receipt_handle(),
        "body": message.body().unwrap_or_default(),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.md5_of_body(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": LOCAL_REGION,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_item_failures_keep_only_the_failed_records() {
        let ids = ["a", "b", "c"];
        let response = br#"{"batchItemFailures":[{"itemIdentifier":"b"},{"itemIdentifier":"c"}]}"#;
        assert_eq!(succeeded(response, &ids, true), HashSet::from(["a"]));
        assert_eq!(
            succeeded(response, &ids, false).len(),
            3,
            "ignored without ReportBatchItemFailures"
        );
        assert_eq!(
            succeeded(br#"{"batchItemFailures":[]}"#, &ids, true).len(),
            3
        );
        assert_eq!(succeeded(b"null", &ids, true).len(), 3);
        let unknown = br#"{"batchItemFailures":[{"itemIdentifier":"zzz"}]}"#;
        assert!(
            succeeded(unknown, &ids, true).is_empty(),
            "an unknown id fails the batch"
        );
    }
}
