//! The local stack: AWS's services emulated on loopback, provisioned from `template.yaml`.

pub mod dynamodb;
pub mod template;
