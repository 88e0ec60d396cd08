//! The SQS FIFO queue that orders flash-sale requests.

use std::future::Future;

use serde::Serialize;

use crate::{domain::TicketRequest, store::StoreError};

/// Where requests wait their turn (the port).
pub trait RequestQueue: Sync {
    /// Enqueues a request: group per session and sector, deduplicated by the request id.
    fn send(&self, request: &TicketRequest) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The queue's messages (every session's), as SQS approximates them.
    fn depth(&self) -> impl Future<Output = Result<QueueDepth, StoreError>> + Send;
}

/// A queue's messages by state, SQS's approximate figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct QueueDepth {
    /// Waiting to be received.
    pub waiting: u64,
    /// Received by the consumer and not yet deleted: being decided.
    pub in_flight: u64,
    /// Sent with a delay that has not passed.
    pub delayed: u64,
}

fn unavailable<E: std::error::Error + Send + Sync + 'static, R: std::fmt::Debug>(
    e: aws_sdk_sqs::error::SdkError<E, R>,
) -> StoreError {
    StoreError::Unavailable(
        aws_sdk_sqs::error::DisplayErrorContext(e)
            .to_string()
            .into(),
    )
}

#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    pub fn new(sdk: &aws_config::SdkConfig, url: &str) -> Self {
        Self {
            client: aws_sdk_sqs::Client::new(sdk),
            url: url.to_owned(),
        }
    }
}

impl RequestQueue for SqsQueue {
    async fn send(&self, request: &TicketRequest) -> Result<(), StoreError> {
        let body = serde_json::to_string(request).map_err(|e| StoreError::Failed(Box::new(e)))?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_group_id(request.group())
            .message_deduplication_id(request.request_id.to_string())
            .message_body(body)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn depth(&self) -> Result<QueueDepth, StoreError> {
        use aws_sdk_sqs::types::QueueAttributeName as Name;
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(Name::ApproximateNumberOfMessages)
            .attribute_names(Name::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(Name::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(unavailable)?;
        let attributes = out.attributes.unwrap_or_default();
        let count = |name: Name| {
            attributes
                .get(&name)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Ok(QueueDepth {
            waiting: count(Name::ApproximateNumberOfMessages),
            in_flight: count(Name::ApproximateNumberOfMessagesNotVisible),
            delayed: count(Name::ApproximateNumberOfMessagesDelayed),
        })
    }
}
