//! `remove-voucher` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::vouchers::remove_voucher, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| remove_voucher(r, &w.store)).await
}
