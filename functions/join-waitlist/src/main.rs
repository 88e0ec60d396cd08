//! `join-waitlist` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::waitlist::join_waitlist, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| join_waitlist(r, &w.store)).await
}
