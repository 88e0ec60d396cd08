//! `get-invoice` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::purchase::get_invoice, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| get_invoice(r, &w.store)).await
}
