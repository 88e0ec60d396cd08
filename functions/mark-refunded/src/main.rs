//! `mark-refunded` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::desk::mark_refunded, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| mark_refunded(r, &w.store)).await
}
