//! `get-product` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::catalog::get_product, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| get_product(r, &w.store)).await
}
