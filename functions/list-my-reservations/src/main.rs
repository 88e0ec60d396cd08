//! `list-my-reservations` Lambda: wires configuration, the store and the route handler.

use bilheteria::{
    api, api::purchase::list_my_reservations, config::Config, store::DynamoStore, telemetry,
};
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let store = DynamoStore::new(&config.aws().await, &config.table);
    run(service_fn(|req| {
        api::respond(req, |r| list_my_reservations(r, &store))
    }))
    .await
}
