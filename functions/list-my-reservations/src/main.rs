//! `list-my-reservations` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::purchase::list_my_reservations, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| list_my_reservations(r, &w.store)).await
}
