//! What can go wrong talking to the store, in terms a caller can act on.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

type Source = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write's condition did not hold (e.g. the item already exists).
    #[error("the write's condition did not hold")]
    ConditionFailed,
    /// A list cursor that this store did not hand out.
    #[error("the cursor is not one this list gave")]
    BadCursor,
    /// Throttled or unreachable: worth retrying later.
    #[error("the store is unavailable right now")]
    Unavailable(#[source] Source),
    /// A stored item that does not map to its type.
    #[error("a stored item is malformed")]
    Corrupt(#[from] serde_dynamo::Error),
    #[error("the store failed")]
    Failed(#[source] Source),
}

/// Error codes DynamoDB answers when a retry later may succeed.
const RETRYABLE: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
];

impl<E, R> From<SdkError<E, R>> for StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    fn from(err: SdkError<E, R>) -> Self {
        let retryable = match &err {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
            SdkError::ServiceError(service) => {
                service.err().code().is_some_and(|c| RETRYABLE.contains(&c))
            }
            _ => false,
        };
        if err.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
        {
            return StoreError::ConditionFailed;
        }
        if retryable {
            StoreError::Unavailable(Box::new(err))
        } else {
            StoreError::Failed(Box::new(err))
        }
    }
}
