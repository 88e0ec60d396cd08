//! `request-tickets` Lambda: wires configuration, the store, the queue and the route handler.

use bilheteria::{
    api, api::requests::request_tickets, config, config::Config, queue::SqsQueue,
    store::DynamoStore, telemetry,
};
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let aws = config.aws().await;
    let store = DynamoStore::new(&aws, &config.table);
    let queue = SqsQueue::new(&aws, &config::queue_url()?);
    run(service_fn(|req| {
        api::respond(req, |r| request_tickets(r, &store, &queue))
    }))
    .await
}
