//! `get-sales-queue` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::requests::get_queue, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    let queue = w.queue()?;
    api::serve(|r| get_queue(r, &w.store, &queue)).await
}
