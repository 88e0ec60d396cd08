//! `TransactWriteItems` with what real DynamoDB needs around it: cancellation reasons decoded
//! per item (with the old item, so a caller can say which seat was taken without another read),
//! and bounded, jittered retries of transaction conflicts.

use aws_sdk_dynamodb::{
    Client,
    error::SdkError,
    operation::{
        transact_write_items::TransactWriteItemsError,
        update_item::{UpdateItemError, builders::UpdateItemFluentBuilder},
    },
    types::{
        AttributeValue, ConditionCheck, Put, ReturnConsumedCapacity, ReturnValue,
        ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
    },
};

use super::{
    StoreError,
    dynamo::{Attributes, backoff},
};

/// Attempts at a transaction that real DynamoDB cancels for a conflicting concurrent one.
pub const CONFLICT_ATTEMPTS: u32 = 5;

/// Why each item of a cancelled transaction failed, in the order the items were given.
#[derive(Debug, Default)]
pub struct Cancelled {
    /// `ConditionalCheckFailed`, `None`, `TransactionConflict`, ... per item.
    pub codes: Vec<String>,
    /// The item as it was, for items whose condition failed.
    pub old: Vec<Option<Attributes>>,
}

impl Cancelled {
    /// Indexes of the items whose condition did not hold.
    pub fn failed(&self) -> impl Iterator<Item = usize> + '_ {
        self.codes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.as_str() == "ConditionalCheckFailed")
            .map(|(i, _)| i)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TransactError {
    #[error("a condition did not hold")]
    Cancelled(Cancelled),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes `items` all or nothing; retries transaction conflicts, then gives up as unavailable.
/// Every attempt carries the same `ClientRequestToken`: one that committed but whose answer was
/// lost is answered as committed when retried, not refused by its own writes.
pub async fn transact(client: &Client, items: Vec<TransactWriteItem>) -> Result<(), TransactError> {
    let token = ulid::Ulid::generate().to_string();
    for round in 0..CONFLICT_ATTEMPTS {
        let sent = client
            .transact_write_items()
            .set_transact_items(Some(items.clone()))
            .client_request_token(&token)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        let err = match sent {
            Ok(out) => {
                let units: f64 = out
                    .consumed_capacity()
                    .iter()
                    .filter_map(|c| c.capacity_units())
                    .sum();
                tracing::debug!(
                    items = items.len(),
                    write_units = units,
                    "transaction written"
                );
                return Ok(());
            }
            Err(err) => err,
        };
        match cancellation(&err) {
            Some(cancelled)
                if cancelled
                    .codes
                    .iter()
                    .any(|c| c == "ConditionalCheckFailed") =>
            {
                return Err(TransactError::Cancelled(cancelled));
            }
            Some(cancelled)
                if cancelled
                    .codes
                    .iter()
                    .any(|c| c == "TransactionConflict" || c == "ThrottlingError") =>
            {
                tracing::info!(round, "transaction conflict; retrying");
            }
            _ => match StoreError::from(err) {
                StoreError::Unavailable(_) if round + 1 < CONFLICT_ATTEMPTS => {
                    tracing::info!(round, "store busy; retrying")
                }
                other => return Err(other.into()),
            },
        }
        tokio::time::sleep(backoff(round)).await;
    }
    Err(StoreError::Unavailable(
        format!("transaction still conflicting after {CONFLICT_ATTEMPTS} attempts").into(),
    )
    .into())
}

fn cancellation<R>(err: &SdkError<TransactWriteItemsError, R>) -> Option<Cancelled> {
    let TransactWriteItemsError::TransactionCanceledException(e) = err.as_service_error()? else {
        return None;
    };
    let reasons = e.cancellation_reasons();
    Some(Cancelled {
        codes: reasons
            .iter()
            .map(|r| r.code().unwrap_or("None").to_owned())
            .collect(),
        old: reasons.iter().map(|r| r.item().cloned()).collect(),
    })
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// One update of a transaction: key, expression, condition, names and values.
#[derive(Clone)]
pub struct Change {
    table: String,
    pk: String,
    sk: String,
    update: Option<String>,
    condition: Option<String>,
    names: Vec<(String, String)>,
    values: Vec<(String, AttributeValue)>,
}

impl Change {
    pub fn on(table: &str, pk: String, sk: &str) -> Self {
        Self {
            table: table.to_owned(),
            pk,
            sk: sk.to_owned(),
            update: None,
            condition: None,
            names: Vec::new(),
            values: Vec::new(),
        }
    }

    pub fn set(mut self, expression: &str) -> Self {
        self.update = Some(expression.to_owned());
        self
    }

    pub fn when(mut self, condition: &str) -> Self {
        self.condition = Some(condition.to_owned());
        self
    }

    pub fn name(mut self, placeholder: &str, name: &str) -> Self {
        self.names.push((placeholder.to_owned(), name.to_owned()));
        self
    }

    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.push((placeholder.to_owned(), value));
        self
    }

    fn key(&self) -> Attributes {
        Attributes::from([
            ("PK".to_owned(), s(&self.pk)),
            ("SK".to_owned(), s(&self.sk)),
        ])
    }

    /// The change as an `UpdateItem` request, to be sent on its own.
    fn update_item(&self, client: &Client) -> UpdateItemFluentBuilder {
        let names = (!self.names.is_empty()).then(|| self.names.iter().cloned().collect());
        let values = (!self.values.is_empty()).then(|| self.values.iter().cloned().collect());
        client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key()))
            .set_update_expression(self.update.clone())
            .set_condition_expression(self.condition.clone())
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
    }

    /// The same change on its own, as a conditional `UpdateItem` (half the write units of a
    /// transaction): whether its condition held.
    pub async fn apply(self, client: &Client) -> Result<bool, StoreError> {
        let sent = self
            .update_item(client)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match sent.map_err(StoreError::from) {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The same change as a conditional `UpdateItem` that answers with the item: as written
    /// when its condition held (`Ok`), as it was when it did not (`Err`, `None` if absent).
    pub async fn apply_returning(
        self,
        client: &Client,
    ) -> Result<Result<Attributes, Option<Attributes>>, StoreError> {
        let sent = self
            .update_item(client)
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match sent {
            Ok(out) => Ok(Ok(out.attributes.unwrap_or_default())),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    Ok(Err(failed.item.clone()))
                }
                _ => Err(err.into()),
            },
        }
    }

    /// An `Update` (or, without an update expression, a `ConditionCheck`).
    pub fn build(self) -> Result<TransactWriteItem, StoreError> {
        let fail = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Failed(Box::new(e));
        let names = (!self.names.is_empty()).then(|| self.names.iter().cloned().collect());
        let values = (!self.values.is_empty()).then(|| self.values.iter().cloned().collect());
        let item = match self.update {
            Some(ref expression) => TransactWriteItem::builder().update(
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(self.key()))
                    .update_expression(expression)
                    .set_condition_expression(self.condition.clone())
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .map_err(fail)?,
            ),
            None => TransactWriteItem::builder().condition_check(
                ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(self.key()))
                    .condition_expression(
                        self.condition
                            .clone()
                            .unwrap_or_else(|| "attribute_exists(PK)".into()),
                    )
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .map_err(fail)?,
            ),
        };
        Ok(item.build())
    }
}

/// A `Put` of a new item (its key must not exist yet); when one does, the cancellation carries it.
pub fn create(table: &str, item: Attributes) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(PK)")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .map_err(|e| StoreError::Failed(Box::new(e)))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

#[cfg(test)]
mod tests {
    //! Real DynamoDB cancels transactions for conflicts and throttles; no emulator does, so the
    //! SDK's mock client stands in here.

    use aws_sdk_dynamodb::{
        operation::transact_write_items::{TransactWriteItemsError, TransactWriteItemsOutput},
        types::{CancellationReason, error::TransactionCanceledException},
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    fn cancelled(code: &'static str) -> impl Fn() -> TransactWriteItemsError {
        move || {
            TransactWriteItemsError::TransactionCanceledException(
                TransactionCanceledException::builder()
                    .message("Transaction cancelled")
                    .cancellation_reasons(CancellationReason::builder().code(code).build())
                    .build(),
            )
        }
    }

    fn one_item() -> Vec<TransactWriteItem> {
        vec![
            Change::on("Table", "PK#1".into(), "SK")
                .set("ADD n :one")
                .value(":one", n(1))
                .build()
                .unwrap(),
        ]
    }

    #[tokio::test]
    async fn a_conflicting_transaction_is_retried_until_it_goes_through() {
        let rule = mock!(Client::transact_write_items)
            .sequence()
            .error(cancelled("TransactionConflict"))
            .times(2)
            .output(|| TransactWriteItemsOutput::builder().build())
            .build();
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&rule]);
        assert!(transact(&client, one_item()).await.is_ok());
        assert_eq!(rule.num_calls(), 3);
    }

    #[tokio::test]
    async fn every_attempt_of_one_write_carries_the_same_request_token() {
        let tokens = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = tokens.clone();
        let rule = mock!(Client::transact_write_items)
            .match_requests(move |input| {
                seen.lock()
                    .unwrap()
                    .push(input.client_request_token().unwrap_or_default().to_owned());
                true
            })
            .sequence()
            .error(cancelled("TransactionConflict"))
            .times(2)
            .output(|| TransactWriteItemsOutput::builder().build())
            .repeatedly()
            .build();
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&rule]);
        transact(&client, one_item()).await.unwrap();
        transact(&client, one_item()).await.unwrap();
        let tokens = tokens.lock().unwrap().clone();
        assert_eq!(tokens.len(), 4, "{tokens:?}");
        assert!(!tokens[0].is_empty());
        assert!(
            tokens[..3].iter().all(|t| *t == tokens[0]),
            "one write, one token: {tokens:?}"
        );
        assert_ne!(tokens[3], tokens[0], "another write, another token");
    }

    #[tokio::test]
    async fn a_transaction_that_keeps_conflicting_ends_as_unavailable() {
        let rule = mock!(Client::transact_write_items)
            .sequence()
            .error(cancelled("TransactionConflict"))
            .repeatedly()
            .build();
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&rule]);
        let err = transact(&client, one_item()).await.unwrap_err();
        assert!(
            matches!(err, TransactError::Store(StoreError::Unavailable(_))),
            "{err:?}"
        );
        assert_eq!(rule.num_calls(), CONFLICT_ATTEMPTS as usize);
        let response = crate::api::ApiError::from(match err {
            TransactError::Store(e) => e,
            TransactError::Cancelled(_) => unreachable!(),
        })
        .into_response();
        assert_eq!(response.status(), 503);
        assert!(response.headers().contains_key("retry-after"));
    }

    #[tokio::test]
    async fn a_failed_condition_is_not_retried() {
        let rule = mock!(Client::transact_write_items)
            .sequence()
            .error(cancelled("ConditionalCheckFailed"))
            .repeatedly()
            .build();
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&rule]);
        let err = transact(&client, one_item()).await.unwrap_err();
        assert!(
            matches!(err, TransactError::Cancelled(ref c) if c.failed().collect::<Vec<_>>() == [0]),
            "{err:?}"
        );
        assert_eq!(rule.num_calls(), 1);
    }
}
