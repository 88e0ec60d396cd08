//! `leave-waitlist` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::waitlist::leave_waitlist, config::Sales, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    let sales = Sales::from_env()?;
    api::serve(|r| leave_waitlist(r, &w.store, &sales)).await
}
