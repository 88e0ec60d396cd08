//! `process-requests` Lambda: the SQS FIFO consumer of flash-sale requests.

use bilheteria::{
    bus::EventBridgeBus,
    config::{self, Config, Sales},
    consumer::{Settings, process_batch},
    store::DynamoStore,
    telemetry,
};
use lambda_http::{
    Error,
    aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent},
    lambda_runtime::{LambdaEvent, run, service_fn},
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let settings = Settings {
        hold: Sales::from_env()?.hold,
        fail_after_first_record: config::fail_after_first_record(),
    };
    let aws = config.aws().await;
    let store = DynamoStore::new(&aws, &config.table);
    let bus = EventBridgeBus::new(&aws, &config::event_bus()?);
    run(service_fn(|event: LambdaEvent<SqsEvent>| async {
        Ok::<SqsBatchResponse, Error>(process_batch(event.payload, &store, &bus, settings).await)
    }))
    .await
}
