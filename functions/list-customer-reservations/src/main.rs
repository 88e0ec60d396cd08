//! `list-customer-reservations` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::desk::customer_reservations, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| customer_reservations(r, &w.store)).await
}
