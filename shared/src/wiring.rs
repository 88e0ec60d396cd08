//! What every function binary does once, at init: logs, configuration, the AWS SDK's
//! configuration, the store; and the adapters some functions add.

use crate::{
    bus::EventBridgeBus,
    clock,
    config::{self, Config, ConfigError},
    domain::TicketSigner,
    queue::SqsQueue,
    store::{Door, DynamoStore},
    telemetry,
};

pub struct Wiring {
    pub config: Config,
    pub aws: aws_config::SdkConfig,
    pub store: DynamoStore,
}

impl Wiring {
    /// Fails fast, naming the missing variable.
    pub async fn init() -> Result<Self, ConfigError> {
        telemetry::init();
        clock::init()?;
        let config = Config::from_env()?;
        let aws = config.aws().await;
        let store = DynamoStore::new(&aws, &config.table);
        Ok(Self { config, aws, store })
    }

    /// The domain event bus (`EVENT_BUS_NAME`).
    pub fn bus(&self) -> Result<EventBridgeBus, ConfigError> {
        Ok(EventBridgeBus::new(&self.aws, &config::event_bus()?))
    }

    /// The key that signs ticket codes, from Secrets Manager (`TICKET_SIGNING_KEY_ARN`); its
    /// public keys are recorded for the door before the first ticket is signed.
    pub async fn ticket_signer(&self) -> Result<TicketSigner, lambda_http::Error> {
        let signer = config::ticket_signer(&self.aws).await?;
        self.store.publish_door_keys(&signer.door_keys()).await?;
        Ok(signer)
    }

    /// The payment provider's webhook secrets, from Secrets Manager
    /// (`PAYMENT_WEBHOOK_SECRET_ARN`).
    pub async fn webhook_secrets(&self) -> Result<Vec<Vec<u8>>, ConfigError> {
        config::webhook_secrets(&self.aws).await
    }

    /// The flash-sale request queue (`QUEUE_URL`).
    pub fn queue(&self) -> Result<SqsQueue, ConfigError> {
        Ok(SqsQueue::new(&self.aws, &config::queue_url()?))
    }
}
