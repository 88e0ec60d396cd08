//! `announce-changes` Lambda: the table's stream consumer. Every step of a reservation is recorded
//! in its history and its session's timeline, and every committed change that makes a domain event
//! is published on the bus (see `bilheteria::announce`).

use bilheteria::{announce::announce_batch, wiring::Wiring};
use lambda_http::{
    Error,
    aws_lambda_events::{dynamodb::Event, streams::DynamoDbEventResponse},
    lambda_runtime::{LambdaEvent, run, service_fn},
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    let bus = w.bus()?;
    run(service_fn(|event: LambdaEvent<Event>| async {
        Ok::<DynamoDbEventResponse, Error>(announce_batch(event.payload, &w.store, &bus).await)
    }))
    .await
}
