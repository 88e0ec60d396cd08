//! Announcements other systems hear about (the port). Today they go to the log; the event bus
//! adapter publishes them to EventBridge.

use std::future::Future;

use crate::domain::{SectorCode, SessionId};

pub trait Announcer: Sync {
    /// The last place of a sector was taken.
    fn sector_sold_out(
        &self,
        session: SessionId,
        sector: &SectorCode,
    ) -> impl Future<Output = ()> + Send;
}

/// Writes announcements to the log.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogAnnouncer;

impl Announcer for LogAnnouncer {
    async fn sector_sold_out(&self, session: SessionId, sector: &SectorCode) {
        tracing::info!(%session, %sector, event = "SectorSoldOut", "sector sold out");
    }
}
