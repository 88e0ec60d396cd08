//! `get-request` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::requests::get_request, wiring::Wiring};
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    run(service_fn(|req| {
        api::respond(req, |r| get_request(r, &w.store))
    }))
    .await
}
