//! The table's changes as its stream carries them: each image of an item, before or after a
//! committed write, read back as the entity it stores.

use serde::Deserialize;

use super::{
    StoreError, item::SeatItem, keys, requests::RequestItem, reservations::ReservationItem,
};
use crate::domain::{
    RequestRecord, Reservation, SectorCode, SessionId,
    seat_map::{self, SeatChange},
};

/// What an image of an item holds, for the items whose changes are announced.
#[derive(Clone, Debug, PartialEq)]
pub enum Stored {
    Reservation(Box<Reservation>),
    Request(Box<RequestRecord>),
    /// A sector's stock item: whether it is marked sold out.
    Sector {
        session: SessionId,
        sector: SectorCode,
        sold_out: bool,
    },
    /// A numbered seat, as its sector's map draws it.
    Seat(SeatChange),
    /// Any other item (counters, tickets, claims…).
    Other,
}

/// What `image` stores; `None` for no image (the item did not exist before, or was removed).
pub fn stored(image: serde_dynamo::Item) -> Result<Option<Stored>, StoreError> {
    let text = |name: &str| match image.get(name) {
        Some(serde_dynamo::AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    };
    let (Some(pk), Some(sk)) = (text(keys::PK), text(keys::SK)) else {
        return Ok(None);
    };
    Ok(Some(match sk.as_str() {
        keys::RESERVATION_SK => Stored::Reservation(Box::new(
            serde_dynamo::from_item::<_, ReservationItem>(image)?.reservation,
        )),
        keys::REQUEST_SK => Stored::Request(Box::new(
            serde_dynamo::from_item::<_, RequestItem>(image)?.record,
        )),
        keys::STOCK_SK => {
            #[derive(Deserialize)]
            struct Mark {
                #[serde(default)]
                sold_out: bool,
            }
            let Some((session, sector)) = keys::sector_part(&pk) else {
                return Ok(Some(Stored::Other));
            };
            Stored::Sector {
                session,
                sector,
                sold_out: serde_dynamo::from_item::<_, Mark>(image)?.sold_out,
            }
        }
        seat if seat.starts_with(keys::SEAT_PREFIX) => {
            let Some((session, sector)) = keys::sector_part(&pk) else {
                return Ok(Some(Stored::Other));
            };
            let item = serde_dynamo::from_item::<_, SeatItem>(image)?;
            Stored::Seat(SeatChange {
                session,
                sector,
                seat: item.seat,
                mark: seat_map::mark(item.state.into()),
            })
        }
        _ => Stored::Other,
    }))
}
