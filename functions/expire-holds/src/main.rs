//! `expire-holds` Lambda: the scheduled sweep of lapsed holds, bounded by the invocation's deadline.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bilheteria::{
    expiry::{scheduled, sweep},
    wiring::Wiring,
};
use lambda_http::{
    Error,
    aws_lambda_events::cloudwatch_events::CloudWatchEvent,
    lambda_runtime::{LambdaEvent, run, service_fn},
};

/// Time kept back from the deadline to finish the transaction in hand and answer.
const MARGIN: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> Result<(), Error> {
    let w = Wiring::init().await?;
    run(service_fn(|event: LambdaEvent<CloudWatchEvent>| {
        let store = &w.store;
        async move {
            scheduled(&event.payload)?;
            let now_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let left = Duration::from_millis(event.context.deadline.saturating_sub(now_ms));
            let swept = sweep(store, bilheteria::clock::now(), left.saturating_sub(MARGIN)).await?;
            Ok::<_, Error>(swept)
        }
    }))
    .await
}
