//! Configuration read from the environment once, at init; a missing variable stops the start.

use std::env;

use chrono::Duration;

use crate::domain::{Party, TicketSigner};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {0} is not valid: {1}")]
    Invalid(&'static str, String),
}

#[derive(Clone, Debug)]
pub struct Config {
    /// The single DynamoDB table (`TABLE_NAME`).
    pub table: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table: required("TABLE_NAME")?,
        })
    }

    /// The AWS SDK's own configuration chain: region, credentials and `AWS_ENDPOINT_URL_*`.
    pub async fn aws(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(https_client())
            .load()
            .await
    }
}

/// The HTTPS client of every AWS SDK client: hyper and rustls with ring, whose code is a fraction
/// of aws-lc's in each function's binary.
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// What the purchase routes need besides the table.
#[derive(Clone)]
pub struct Sales {
    /// How long a hold lasts (`HOLD_SECONDS`, default 600).
    pub hold: Duration,
    /// How long a hold offered from a waiting list lasts (`WAITLIST_OFFER_SECONDS`, default
    /// 1800).
    pub waitlist_offer: Duration,
    /// The seller on invoices (`SELLER_NAME`, `SELLER_TAX_ID`).
    pub seller: Party,
}

impl Sales {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            hold: seconds("HOLD_SECONDS", 600)?,
            waitlist_offer: seconds("WAITLIST_OFFER_SECONDS", 1_800)?,
            seller: Party {
                name: env::var("SELLER_NAME")
                    .ok()
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| "bilheteria".into()),
                tax_id: env::var("SELLER_TAX_ID").ok().filter(|v| !v.is_empty()),
            },
        })
    }
}

/// A duration from `variable`, 1 to 86,400 seconds, or `default` seconds when it is unset.
fn seconds(variable: &'static str, default: i64) -> Result<Duration, ConfigError> {
    let seconds = match env::var(variable).ok().filter(|v| !v.is_empty()) {
        None => default,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|s| (1..=86_400).contains(s))
            .ok_or_else(|| {
                ConfigError::Invalid(variable, format!("`{v}` is not 1 to 86400 seconds"))
            })?,
    };
    Ok(Duration::seconds(seconds))
}

/// The key that signs ticket codes: the Secrets Manager secret `TICKET_SIGNING_KEY_ARN` names,
/// its previous value still accepted.
pub async fn ticket_signer(sdk: &aws_config::SdkConfig) -> Result<TicketSigner, ConfigError> {
    let key = secret(sdk, "TICKET_SIGNING_KEY_ARN").await?;
    Ok(TicketSigner::new(key.current).accepting(key.previous))
}

/// The secrets the payment provider signs its webhook with: the Secrets Manager secret
/// `PAYMENT_WEBHOOK_SECRET_ARN` names, current first, then the previous value while the provider
/// moves to the new one.
pub async fn webhook_secrets(sdk: &aws_config::SdkConfig) -> Result<Vec<Vec<u8>>, ConfigError> {
    Ok(secret(sdk, "PAYMENT_WEBHOOK_SECRET_ARN").await?.all())
}

async fn secret(
    sdk: &aws_config::SdkConfig,
    variable: &'static str,
) -> Result<crate::secrets::Versions, ConfigError> {
    crate::secrets::read(sdk, &required(variable)?)
        .await
        .map_err(|e| ConfigError::Invalid(variable, e.to_string()))
}

/// The EventBridge bus domain events go to (`EVENT_BUS_NAME`).
pub fn event_bus() -> Result<String, ConfigError> {
    required("EVENT_BUS_NAME")
}

/// The FIFO queue of flash-sale requests (`QUEUE_URL`).
pub fn queue_url() -> Result<String, ConfigError> {
    required("QUEUE_URL")
}

/// A test-only fault: the request consumer fails every record after the first of each batch
/// (`FAULT_FAIL_AFTER_FIRST_RECORD=1`). Off unless set.
pub fn fail_after_first_record() -> bool {
    env::var("FAULT_FAIL_AFTER_FIRST_RECORD").is_ok_and(|v| v == "1")
}

fn required(name: &'static str) -> Result<String, ConfigError> {
    env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or(ConfigError::Missing(name))
}
