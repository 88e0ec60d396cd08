//! `payment-webhook` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{api, api::purchase::payment_webhook, config::Sales, wiring::Wiring};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    let sales = Sales::from_env()?;
    let signer = w.ticket_signer().await?;
    let webhook = w.webhook_secrets().await?;
    api::serve(|r| payment_webhook(r, &w.store, &sales, &signer, &webhook)).await
}
