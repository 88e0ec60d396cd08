//! `list-checkin-conflicts` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::door::checkin_conflicts, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| checkin_conflicts(r, &w.store)).await
}
