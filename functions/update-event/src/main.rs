//! `update-event` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::catalog::update_event, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| update_event(r, &w.store)).await
}
