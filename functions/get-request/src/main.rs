//! `get-request` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::requests::get_request, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| get_request(r, &w.store)).await
}
