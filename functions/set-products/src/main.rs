//! `set-products` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::purchase::set_products, wiring::Wiring};
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    run(service_fn(|req| {
        api::respond(req, |r| set_products(r, &w.store))
    }))
    .await
}
