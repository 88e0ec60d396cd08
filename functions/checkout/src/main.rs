//! `checkout` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{
    api, api::purchase::checkout, config::Sales, payments::SimulatedProvider, wiring::Wiring,
};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    let sales = Sales::from_env()?;
    let signer = w.ticket_signer().await?;
    api::serve(|r| checkout(r, &w.store, &SimulatedProvider, &sales, &signer)).await
}
