//! `payment-webhook` Lambda: wires configuration, the store and the route handler.

use bilheteria::{
    api,
    api::purchase::payment_webhook,
    config::{Config, Sales},
    store::DynamoStore,
    telemetry,
};
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let sales = Sales::from_env()?;
    let store = DynamoStore::new(&config.aws().await, &config.table);
    run(service_fn(|req| {
        api::respond(req, |r| payment_webhook(r, &store, &sales))
    }))
    .await
}
