//! `get-waitlist` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::waitlist::my_waitlist, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| my_waitlist(r, &w.store)).await
}
