//! `set-products` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::purchase::set_products, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| set_products(r, &w.store)).await
}
