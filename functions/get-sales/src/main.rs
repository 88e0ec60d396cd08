//! `get-sales` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::sales::get_sales, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| get_sales(r, &w.store)).await
}
