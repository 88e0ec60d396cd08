//! `request-tickets` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::requests::request_tickets, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    let queue = w.queue()?;
    api::serve(|r| request_tickets(r, &w.store, &queue)).await
}
