//! `get-sales-timeline` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::sales::get_timeline, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| get_timeline(r, &w.store)).await
}
