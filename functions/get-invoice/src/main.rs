//! `get-invoice` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::purchase::get_invoice, wiring::Wiring};
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    run(service_fn(|req| {
        api::respond(req, |r| get_invoice(r, &w.store))
    }))
    .await
}
