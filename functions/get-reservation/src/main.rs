//! `get-reservation` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::purchase::get_reservation, wiring::Wiring};
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    run(service_fn(|req| {
        api::respond(req, |r| get_reservation(r, &w.store))
    }))
    .await
}
