//! The SQS FIFO queue that orders flash-sale requests.

use std::future::Future;

use crate::{domain::TicketRequest, store::StoreError};

/// Where requests wait their turn (the port).
pub trait RequestQueue: Sync {
    /// Enqueues a request: group per session and sector, deduplicated by the request id.
    fn send(&self, request: &TicketRequest) -> impl Future<Output = Result<(), StoreError>> + Send;
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
            .map_err(|e| {
                StoreError::Unavailable(
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                        .to_string()
                        .into(),
                )
            })?;
        Ok(())
    }
}
