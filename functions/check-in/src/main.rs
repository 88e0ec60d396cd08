//! `check-in` Lambda: wires the route handler (see `bilheteria::wiring`).

use bilheteria::{
    api,
    api::door::{KeyRing, check_in},
    wiring::Wiring,
};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    let ring = KeyRing::default();
    api::serve(|r| check_in(r, &w.store, &ring)).await
}
