//! `cancel-sale` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::desk::cancel_sale, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| cancel_sale(r, &w.store)).await
}
