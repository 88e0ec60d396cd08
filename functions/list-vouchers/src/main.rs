//! `list-vouchers` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::vouchers::list_vouchers, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| list_vouchers(r, &w.store)).await
}
