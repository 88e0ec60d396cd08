//! bilheteria: the box office's rules (`domain`), its DynamoDB adapter (`store`) and the glue
//! between API Gateway and both (`api`). Function binaries under `functions/` only wire these.

pub mod api;
pub mod config;
pub mod domain;
pub mod payments;
pub mod store;
pub mod telemetry;
