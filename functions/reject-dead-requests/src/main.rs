//! `reject-dead-requests` Lambda: the consumer of the requests' dead-letter queue. A request the
//! queue gave up on is decided REJECTED `FAILED`, so that its customer is not left waiting.

use bilheteria::{consumer::reject_dead_letters, wiring::Wiring};
use lambda_http::{
    Error,
    aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent},
    lambda_runtime::{LambdaEvent, run, service_fn},
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    run(service_fn(|event: LambdaEvent<SqsEvent>| async {
        Ok::<SqsBatchResponse, Error>(reject_dead_letters(event.payload, &w.store).await)
    }))
    .await
}
