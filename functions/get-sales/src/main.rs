//! `get-sales` Lambda: wires configuration, the store and the route handler.

use bilheteria::{api, api::sales::get_sales, config::Config, store::DynamoStore, telemetry};
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let store = DynamoStore::new(&config.aws().await, &config.table);
    run(service_fn(|req| {
        api::respond(req, |r| get_sales(r, &store))
    }))
    .await
}
