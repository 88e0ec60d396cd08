//! bilheteria: the box office's rules (`domain`), its DynamoDB adapter (`store`) and the glue
//! between API Gateway and both (`api`). Function binaries under `functions/` only wire these.

pub mod announce;
pub mod api;
pub mod bus;
pub mod calls;
pub mod clock;
pub mod config;
pub mod consumer;
pub mod domain;
pub mod expiry;
pub mod payments;
pub mod queue;
pub mod secrets;
pub mod store;
pub mod telemetry;
pub mod wiring;
