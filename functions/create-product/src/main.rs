//! `create-product` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::catalog::create_product, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| create_product(r, &w.store)).await
}
