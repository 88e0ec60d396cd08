//! The local stack: AWS's services emulated on loopback, provisioned from `template.yaml`, running
//! the real function binaries.

pub mod dynamodb;
pub mod gate;
pub mod gateway;
pub mod iam;
pub mod issuer;
pub mod lambda;
pub mod ministack;
pub mod oidc;
pub mod openapi;
pub mod parameters;
pub mod provision;
pub mod queue_source;
pub mod schedule;
pub mod seed;
pub mod stack;
pub mod stream_source;
pub mod template;
pub mod web;
