//! Identifiers: ULIDs, sortable by creation time and unguessable enough for URLs (not secrets).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use ulid::Ulid;

macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Ulid);

        impl $name {
            pub fn generate() -> Self {
                Self(Ulid::generate())
            }

            /// The same 128 bits as another kind of id (a request's reservation shares its id).
            pub fn from_ulid(ulid: Ulid) -> Self {
                Self(ulid)
            }

            pub fn ulid(&self) -> Ulid {
                self.0
            }

            /// The id's low bits: random, so good for spreading keys.
            pub fn spread(&self) -> u128 {
                self.0.random()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ulid::DecodeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ulid::from_string(s).map(Self)
            }
        }
    };
}

ulid_id!(
    /// An event: a show, a game, a film, a festival.
    EventId
);
ulid_id!(
    /// One session (date and time) of an event.
    SessionId
);
ulid_id!(
    /// An add-on product sold with tickets (popcorn, soda, ...).
    ProductId
);
ulid_id!(
    /// A reservation: seats held, then paid, by one customer.
    ReservationId
);
ulid_id!(
    /// A ticket: one seat or place of a confirmed reservation.
    TicketId
);
ulid_id!(
    /// A queued ticket request of a flash sale.
    RequestId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_text() {
        let id = EventId::generate();
        assert_eq!(id.to_string().parse::<EventId>().unwrap(), id);
        assert!("not-a-ulid".parse::<EventId>().is_err());
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let first = SessionId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(SessionId::generate() > first);
    }
}
