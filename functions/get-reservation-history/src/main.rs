//! `get-reservation-history` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::desk::reservation_history, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| reservation_history(r, &w.store)).await
}
