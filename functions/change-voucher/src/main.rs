//! `change-voucher` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::vouchers::change_voucher, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| change_voucher(r, &w.store)).await
}
