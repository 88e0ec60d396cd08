//! `hold-seats` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::purchase::hold_seats, config::Sales, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    let sales = Sales::from_env()?;
    api::serve(|r| hold_seats(r, &w.store, &sales)).await
}
