//! `checkout` Lambda: wires configuration, the store and the route handler.

use bilheteria::{
    api,
    api::purchase::checkout,
    bus::EventBridgeBus,
    config,
    config::{Config, Sales},
    payments::SimulatedProvider,
    store::DynamoStore,
    telemetry,
};
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let sales = Sales::from_env()?;
    let aws = config.aws().await;
    let store = DynamoStore::new(&aws, &config.table);
    let bus = EventBridgeBus::new(&aws, &config::event_bus()?);
    run(service_fn(|req| {
        api::respond(req, |r| {
            checkout(r, &store, &SimulatedProvider, &sales, &bus)
        })
    }))
    .await
}
