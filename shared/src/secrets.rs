//! AWS Secrets Manager: the keys a function reads once, at init, when its role may read them.
//! A secret's current value signs; its previous one (kept by Secrets Manager for one rotation)
//! still verifies what was signed before the rotation.

use aws_sdk_secretsmanager::{Client, error::DisplayErrorContext};

/// The current value of a secret, and the previous one if the secret was rotated.
#[derive(Clone, Debug)]
pub struct Versions {
    pub current: Vec<u8>,
    pub previous: Option<Vec<u8>>,
}

impl Versions {
    /// Current first.
    pub fn all(&self) -> Vec<Vec<u8>> {
        std::iter::once(self.current.clone())
            .chain(self.previous.clone())
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret {id}: {reason}")]
    Unreadable { id: String, reason: String },
    #[error("secret {0} has no value")]
    Empty(String),
}

const CURRENT: &str = "AWSCURRENT";
const PREVIOUS: &str = "AWSPREVIOUS";

/// Reads `id` (a name or an ARN): its current value, which must exist, and its previous one.
pub async fn read(sdk: &aws_config::SdkConfig, id: &str) -> Result<Versions, SecretError> {
    let client = Client::new(sdk);
    let current = value(&client, id, CURRENT)
        .await?
        .ok_or_else(|| SecretError::Empty(id.to_owned()))?;
    let previous = value(&client, id, PREVIOUS).await?;
    Ok(Versions { current, previous })
}

/// The value at `stage`; `None` when no version has that stage (a secret never rotated has no
/// previous value).
async fn value(client: &Client, id: &str, stage: &str) -> Result<Option<Vec<u8>>, SecretError> {
    let got = client
        .get_secret_value()
        .secret_id(id)
        .version_stage(stage)
        .send()
        .await;
    match got {
        Ok(out) => Ok(out
            .secret_string
            .map(String::into_bytes)
            .or_else(|| out.secret_binary.map(|b| b.into_inner()))
            .filter(|v| !v.is_empty())),
        Err(e)
            if stage != CURRENT
                && e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(SecretError::Unreadable {
            id: id.to_owned(),
            reason: DisplayErrorContext(e).to_string(),
        }),
    }
}
