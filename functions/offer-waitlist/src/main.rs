//! `offer-waitlist` Lambda: the consumer of the events of places coming back (an expiry, a
//! cancellation, a refund), offering them to the sectors' waiting lines in order.

use bilheteria::{api::waitlist::offer_returned, config::Sales, wiring::Wiring};
use lambda_http::{
    Error,
    aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent},
    lambda_runtime::{LambdaEvent, run, service_fn},
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    let sales = Sales::from_env()?;
    run(service_fn(|event: LambdaEvent<SqsEvent>| async {
        Ok::<SqsBatchResponse, Error>(offer_returned(event.payload, &w.store, &sales).await)
    }))
    .await
}
