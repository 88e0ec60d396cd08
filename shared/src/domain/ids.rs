//! Identifiers: ULIDs, sortable by creation time and unguessable enough for URLs (not secrets).

use std::{fmt, str::FromStr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
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

            /// The id of what is created under an idempotency key: its time is when the key
            /// was first claimed, its random part comes from the customer and the key. A retry
            /// that takes over a stopped attempt therefore names the same thing, and it is
            /// created once.
            pub fn for_key(customer: &str, key: &str, first_claimed: DateTime<Utc>) -> Self {
                let digest = Sha256::digest(format!("{customer}\n{key}").as_bytes());
                let mut random = [0; 16];
                random.copy_from_slice(&digest[..16]);
                let millis = u64::try_from(first_claimed.timestamp_millis()).unwrap_or_default();
                Self(Ulid::from_parts(millis, u128::from_be_bytes(random)))
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
    fn a_keyed_request_id_depends_on_customer_key_and_first_claim_only() {
        let at = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let id = RequestId::for_key("ana", "k-1", at);
        assert_eq!(id, RequestId::for_key("ana", "k-1", at));
        assert_ne!(id, RequestId::for_key("bia", "k-1", at));
        assert_ne!(id, RequestId::for_key("ana", "k-2", at));
        let later = at + chrono::Duration::seconds(1);
        assert!(
            RequestId::for_key("ana", "k-1", later) > id,
            "sorts by its time"
        );
        assert_eq!(id.ulid().timestamp_ms(), 1_790_000_000_000);
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let first = SessionId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(SessionId::generate() > first);
    }
}
