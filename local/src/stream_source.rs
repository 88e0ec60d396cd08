//! The DynamoDB stream event source mapping, as Lambda runs it: each shard read in order from the
//! mapping's starting position (or from where it last got to), batches of up to `BatchSize`
//! records handed to the function, and the position moved past a record only once the function
//! took it. A batch the function fails is read again and retried until it goes through
//! (`MaximumRetryAttempts: -1`, the default) or the attempts run out; with
//! `ReportBatchItemFailures`, from the first record it reports, as Lambda does.

use std::{
    collections::{BTreeMap, HashMap},
    path::PathBuf,
    sync::Arc,
    time::Duration,
};

use aws_sdk_dynamodbstreams::{
    Client,
    types::{AttributeValue, Record, ShardIteratorType},
};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::{
    lambda::{Invoked, Lambda},
    template::LOCAL_REGION,
};

/// How often a shard with nothing new is read again (Lambda reads each shard four times a
/// second).
const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// The longest wait between two attempts at a failing batch.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

#[derive(Clone, Debug)]
pub struct StreamMapping {
    pub function: String,
    pub stream_arn: String,
    /// `TRIM_HORIZON` or `LATEST`.
    pub starting_position: String,
    pub batch_size: u32,
    pub report_batch_item_failures: bool,
    /// Retries of a failing batch before it is passed over; `None`: until it goes through.
    pub maximum_retry_attempts: Option<u32>,
}

/// Where each mapping got to in each shard, kept in a file beside a persistent table so that a
/// restarted stack goes on from there instead of announcing everything again.
#[derive(Debug, Default)]
pub struct Checkpoints {
    file: Option<PathBuf>,
    done: BTreeMap<String, String>,
}

impl Checkpoints {
    pub fn load(file: Option<PathBuf>) -> Self {
        let done = file
            .as_ref()
            .and_then(|f| std::fs::read(f).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Self { file, done }
    }

    fn key(function: &str, shard: &str) -> String {
        format!("{function}/{shard}")
    }

    fn get(&self, function: &str, shard: &str) -> Option<String> {
        self.done.get(&Self::key(function, shard)).cloned()
    }

    fn set(&mut self, function: &str, shard: &str, sequence: &str) {
        self.done
            .insert(Self::key(function, shard), sequence.to_owned());
        let Some(file) = &self.file else { return };
        let temporary = file.with_extension("tmp");
        let written = serde_json::to_vec(&self.done)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&temporary, bytes))
            .and_then(|()| std::fs::rename(&temporary, file));
        if let Err(e) = written {
            eprintln!(
                "[stream] cannot keep the position in {}: {e}",
                file.display()
            );
        }
    }
}

/// What a stream mapping works with.
#[derive(Clone)]
pub struct Mappings {
    pub streams: Client,
    pub lambda: Arc<Lambda>,
    pub checkpoints: Arc<std::sync::Mutex<Checkpoints>>,
    /// Held for writing while the bus is being set up again (a restarted ministack has its
    /// rules provisioned anew): in AWS a rule exists whenever its bus takes events, so no
    /// batch is delivered in between.
    pub bus: Arc<tokio::sync::RwLock<()>>,
}

/// Reads `mapping`'s stream until `stop` turns true.
pub fn spawn(
    mapping: StreamMapping,
    with: Mappings,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut reader = Reader {
            mapping,
            with,
            iterators: HashMap::new(),
            failures: 0,
        };
        while !*stop.borrow() {
            let wait = match reader.poll().await {
                Ok(true) => continue,
                Ok(false) => POLL_INTERVAL,
                Err(e) => {
                    eprintln!("[stream] {}: {e}", reader.mapping.stream_arn);
                    reader.backoff()
                }
            };
            tokio::select! {
                _ = stop.changed() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    })
}

struct Reader {
    mapping: StreamMapping,
    with: Mappings,
    /// The next read of each shard; a shard that is closed and read to its end has none.
    iterators: HashMap<String, Option<String>>,
    /// Failed attempts in a row at the batch in hand.
    failures: u32,
}

impl Reader {
    fn backoff(&self) -> Duration {
        (POLL_INTERVAL * 2u32.saturating_pow(self.failures.min(8))).min(MAX_BACKOFF)
    }

    /// Reads one batch from each shard and hands it to the function; whether any had records.
    async fn poll(&mut self) -> Result<bool, String> {
        let described = self
            .with
            .streams
            .describe_stream()
            .stream_arn(&self.mapping.stream_arn)
            .send()
            .await
            .map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string())?;
        let shards: Vec<String> = described
            .stream_description()
            .map(|d| d.shards())
            .unwrap_or_default()
            .iter()
            .filter_map(|s| s.shard_id().map(str::to_owned))
            .collect();
        let mut any = false;
        for shard in shards {
            let iterator = match self.iterators.get(&shard) {
                Some(Some(iterator)) => iterator.clone(),
                Some(None) => continue,
                None => self.iterator(&shard, None).await?,
            };
            let read = self
                .with
                .streams
                .get_records()
                .shard_iterator(iterator)
                .limit(self.mapping.batch_size.clamp(1, 1_000) as i32)
                .send()
                .await
                .map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string())?;
            let records = read.records();
            if records.is_empty() {
                self.iterators
                    .insert(shard, read.next_shard_iterator().map(str::to_owned));
                continue;
            }
            any = true;
            match self.deliver(records).await {
                None => {
                    self.failures = 0;
                    let last = records.last().and_then(|r| r.dynamodb()?.sequence_number());
                    if let Some(last) = last {
                        self.with
                            .checkpoints
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .set(&self.mapping.function, &shard, last);
                    }
                    self.iterators
                        .insert(shard, read.next_shard_iterator().map(str::to_owned));
                }
                Some(first_failed) => {
                    self.failures += 1;
                    let give_up = self
                        .mapping
                        .maximum_retry_attempts
                        .is_some_and(|max| self.failures > max);
                    let (done, again) = if give_up {
                        eprintln!(
                            "[stream] {}: gave up on {} records after {} attempts",
                            self.mapping.function,
                            records.len() - first_failed,
                            self.failures
                        );
                        self.failures = 0;
                        (records.len(), None)
                    } else {
                        (first_failed, Some(&records[first_failed]))
                    };
                    if let Some(last) = done
                        .checked_sub(1)
                        .and_then(|i| records[i].dynamodb()?.sequence_number())
                    {
                        self.with
                            .checkpoints
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .set(&self.mapping.function, &shard, last);
                    }
                    let next = match again.and_then(|r| r.dynamodb()?.sequence_number()) {
                        Some(at) => Some(self.iterator(&shard, Some(at)).await?),
                        None => read.next_shard_iterator().map(str::to_owned),
                    };
                    self.iterators.insert(shard, next);
                    if !give_up {
                        tokio::time::sleep(self.backoff()).await;
                    }
                }
            }
        }
        Ok(any)
    }

    /// An iterator at record `at`, or after the checkpoint, or at the starting position.
    async fn iterator(&self, shard: &str, at: Option<&str>) -> Result<String, String> {
        let after = self
            .with
            .checkpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&self.mapping.function, shard);
        let (kind, sequence) = match (at, after) {
            (Some(at), _) => (ShardIteratorType::AtSequenceNumber, Some(at.to_owned())),
            (None, Some(after)) => (ShardIteratorType::AfterSequenceNumber, Some(after)),
            (None, None) => (
                ShardIteratorType::from(self.mapping.starting_position.as_str()),
                None,
            ),
        };
        self.with
            .streams
            .get_shard_iterator()
            .stream_arn(&self.mapping.stream_arn)
            .shard_id(shard)
            .shard_iterator_type(kind)
            .set_sequence_number(sequence)
            .send()
            .await
            .map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string())?
            .shard_iterator()
            .map(str::to_owned)
            .ok_or_else(|| format!("no iterator for shard {shard}"))
    }

    /// Invokes the function with `records`; the index of the first record to read again, if any.
    async fn deliver(&self, records: &[Record]) -> Option<usize> {
        let event = json!({
            "Records": records.iter().map(|r| record(r, &self.mapping.stream_arn)).collect::<Vec<_>>()
        });
        let sequences: Vec<&str> = records
            .iter()
            .map(|r| {
                r.dynamodb()
                    .and_then(|d| d.sequence_number())
                    .unwrap_or_default()
            })
            .collect();
        let _bus = self.with.bus.read().await;
        match self
            .with
            .lambda
            .invoke(&self.mapping.function, event.to_string().into_bytes())
            .await
        {
            Ok(Invoked::Response(body)) => {
                first_failed(&body, &sequences, self.mapping.report_batch_item_failures)
            }
            Ok(Invoked::FunctionError(_)) | Err(_) => Some(0),
        }
    }
}

/// Which record of a batch to start again from: none if the function took them all; the lowest
/// reported in `batchItemFailures` (honoured only with `ReportBatchItemFailures`); the first if a
/// failure names no record of the batch, as Lambda does.
pub fn first_failed(response: &[u8], sequences: &[&str], report_failures: bool) -> Option<usize> {
    if !report_failures {
        return None;
    }
    let value = serde_json::from_slice::<Value>(response).ok()?;
    let failures = value.get("batchItemFailures")?.as_array()?;
    failures
        .iter()
        .map(|f| {
            f.get("itemIdentifier")
                .and_then(Value::as_str)
                .and_then(|id| sequences.iter().position(|s| *s == id))
                .unwrap_or(0)
        })
        .min()
}

fn image(map: Option<&HashMap<String, AttributeValue>>) -> Option<Value> {
    map.and_then(|m| serde_json::to_value(serde_dynamo::Item::from(m.clone())).ok())
}

/// One stream record as Lambda delivers it.
pub fn record(r: &Record, stream_arn: &str) -> Value {
    let change = r.dynamodb();
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": change.and_then(|c| c.approximate_creation_date_time()).map(|t| t.secs()),
        "Keys": image(change.and_then(|c| c.keys())),
        "SequenceNumber": change.and_then(|c| c.sequence_number()),
        "SizeBytes": change.and_then(|c| c.size_bytes()),
        "StreamViewType": change.and_then(|c| c.stream_view_type()).map(|v| v.as_str()),
    });
    for (name, value) in [
        ("NewImage", image(change.and_then(|c| c.new_image()))),
        ("OldImage", image(change.and_then(|c| c.old_image()))),
    ] {
        if let Some(value) = value {
            dynamodb[name] = value;
        }
    }
    json!({
        "eventID": r.event_id(),
        "eventName": r.event_name().map(|n| n.as_str()),
        "eventVersion": r.event_version(),
        "eventSource": "aws:dynamodb",
        "awsRegion": LOCAL_REGION,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_starts_again_from_its_lowest_reported_failure() {
        let sequences = ["100", "200", "300"];
        let response =
            br#"{"batchItemFailures":[{"itemIdentifier":"300"},{"itemIdentifier":"200"}]}"#;
        assert_eq!(first_failed(response, &sequences, true), Some(1));
        assert_eq!(
            first_failed(response, &sequences, false),
            None,
            "ignored without ReportBatchItemFailures"
        );
        assert_eq!(
            first_failed(br#"{"batchItemFailures":[]}"#, &sequences, true),
            None
        );
        assert_eq!(first_failed(b"null", &sequences, true), None);
        let unknown = br#"{"batchItemFailures":[{"itemIdentifier":"999"}]}"#;
        assert_eq!(
            first_failed(unknown, &sequences, true),
            Some(0),
            "a failure naming no record fails the whole batch"
        );
    }
}
