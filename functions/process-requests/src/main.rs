//! `process-requests` Lambda: the SQS FIFO consumer of flash-sale requests.

use bilheteria::{
    config::{self, Sales},
    consumer::{SeatCache, Settings, process_batch},
    wiring::Wiring,
};
use lambda_http::{
    Error,
    aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent},
    lambda_runtime::{LambdaEvent, run, service_fn},
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    let settings = Settings {
        hold: Sales::from_env()?.hold,
        fail_after_first_record: config::fail_after_first_record(),
    };
    let seats = SeatCache::default();
    run(service_fn(|event: LambdaEvent<SqsEvent>| async {
        Ok::<SqsBatchResponse, Error>(
            process_batch(event.payload, &w.store, settings, &seats).await,
        )
    }))
    .await
}
