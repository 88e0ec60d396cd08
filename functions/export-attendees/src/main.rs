//! `export-attendees` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::sales::export_attendees, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    api::serve(|r| export_attendees(r, &w.store)).await
}
