//! `cancel-reservation` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::purchase::cancel_reservation, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| cancel_reservation(r, &w.store)).await
}
