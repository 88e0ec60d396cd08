//! Tickets: one per seat or place of a confirmed reservation, each with a code the door checks:
//! the ticket id, the id of the key that signed it and an HMAC over (key id, ticket id, session,
//! sector, seat).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{EventId, Reservation, ReservationId, SeatLabel, SectorCode, SessionId, TicketId};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub reservation_id: ReservationId,
    pub event_id: EventId,
    pub session_id: SessionId,
    pub customer: String,
    pub sector: SectorCode,
    /// The seat, for a numbered sector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seat: Option<SeatLabel>,
    pub code: String,
    pub issued_at: DateTime<Utc>,
}

/// Signs and checks ticket codes. The first key signs; every key checks, so that tickets sold
/// before the key was rotated still open the door.
#[derive(Clone)]
pub struct TicketSigner {
    keys: Vec<SigningKey>,
}

#[derive(Clone)]
struct SigningKey {
    id: String,
    secret: Vec<u8>,
}

impl SigningKey {
    fn new(secret: Vec<u8>) -> Self {
        let digest = Sha256::new()
            .chain_update(b"bilheteria ticket key id\0")
            .chain_update(&secret)
            .finalize();
        Self {
            id: URL_SAFE_NO_PAD.encode(&digest[..KEY_ID_BYTES]),
            secret,
        }
    }

    /// The MAC of a code signed with this key; `with_id` as codes are signed today, without as
    /// codes were before they carried a key id.
    fn mac(&self, fields: &CodeFields, with_id: bool) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret)
            .expect("HMAC takes keys of any length");
        if with_id {
            mac.update(format!("{}|", self.id).as_bytes());
        }
        let seat = fields.seat.map(|s| s.to_string()).unwrap_or_default();
        mac.update(format!("{}|{}|{}|{seat}", fields.id, fields.session, fields.sector).as_bytes());
        mac
    }
}

/// Bytes of the key's digest that name it in a code (8 base64url characters).
const KEY_ID_BYTES: usize = 6;

/// What a code vouches for.
struct CodeFields<'a> {
    id: TicketId,
    session: SessionId,
    sector: &'a SectorCode,
    seat: Option<SeatLabel>,
}

impl TicketSigner {
    /// Signs with `key`.
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self {
            keys: vec![SigningKey::new(key.into())],
        }
    }

    /// Also accepts codes signed with `previous` keys.
    pub fn accepting(mut self, previous: impl IntoIterator<Item = Vec<u8>>) -> Self {
        self.keys.extend(previous.into_iter().map(SigningKey::new));
        self
    }

    /// The id of the key that signs: a digest of it, which names it without revealing it.
    pub fn key_id(&self) -> &str {
        &self.keys[0].id
    }

    /// `<ticket id>.<key id>.<signature>`: what the QR code on the ticket holds.
    pub fn code(
        &self,
        id: TicketId,
        session: SessionId,
        sector: &SectorCode,
        seat: Option<SeatLabel>,
    ) -> String {
        let key = &self.keys[0];
        let fields = CodeFields {
            id,
            session,
            sector,
            seat,
        };
        let signature = key.mac(&fields, true).finalize().into_bytes();
        format!("{id}.{}.{}", key.id, URL_SAFE_NO_PAD.encode(signature))
    }

    /// Whether `ticket.code` was signed with one of these keys for this ticket's id, session,
    /// sector and seat. A code without a key id (signed before codes carried one) is checked
    /// against every key.
    pub fn verify(&self, ticket: &Ticket) -> bool {
        let parts: Vec<&str> = ticket.code.split('.').collect();
        let (id, key_id, signature) = match parts[..] {
            [id, key_id, signature] => (id, Some(key_id), signature),
            [id, signature] => (id, None, signature),
            _ => return false,
        };
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        let fields = CodeFields {
            id: ticket.id,
            session: ticket.session_id,
            sector: &ticket.sector,
            seat: ticket.seat,
        };
        id == ticket.id.to_string()
            && self
                .keys
                .iter()
                .filter(|k| key_id.is_none_or(|key_id| k.id == key_id))
                .any(|k| {
                    k.mac(&fields, key_id.is_some())
                        .verify_slice(&signature)
                        .is_ok()
                })
    }

    /// The tickets of a reservation: one per seat, one per general-admission place.
    pub fn issue(&self, reservation: &Reservation, now: DateTime<Utc>) -> Vec<Ticket> {
        let seats = reservation
            .seats
            .iter()
            .map(|s| (s.sector.clone(), Some(s.seat)));
        let places = reservation
            .places
            .iter()
            .flat_map(|p| (0..p.quantity).map(|_| (p.sector.clone(), None)));
        seats
            .chain(places)
            .map(|(sector, seat)| {
                let id = TicketId::generate();
                Ticket {
                    id,
                    reservation_id: reservation.id,
                    event_id: reservation.event_id,
                    session_id: reservation.session_id,
                    customer: reservation.customer.clone(),
                    code: self.code(id, reservation.session_id, &sector, seat),
                    sector,
                    seat,
                    issued_at: now,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(signer: &TicketSigner) -> Ticket {
        let (id, session) = (TicketId::generate(), SessionId::generate());
        let sector = SectorCode::try_from("plateia".to_string()).unwrap();
        let seat = Some("B-7".parse().unwrap());
        Ticket {
            id,
            reservation_id: ReservationId::generate(),
            event_id: EventId::generate(),
            session_id: session,
            customer: "alice".into(),
            code: signer.code(id, session, &sector, seat),
            sector,
            seat,
            issued_at: Utc::now(),
        }
    }

    #[test]
    fn a_code_verifies_for_its_own_seat_only() {
        let signer = TicketSigner::new(b"key".to_vec());
        let t = ticket(&signer);
        assert!(signer.verify(&t));
        assert!(
            !signer.verify(&Ticket {
                seat: Some("B-8".parse().unwrap()),
                ..t.clone()
            }),
            "moved to another seat"
        );
        assert!(
            !signer.verify(&Ticket {
                session_id: SessionId::generate(),
                ..t.clone()
            }),
            "another session"
        );
        assert!(
            !TicketSigner::new(b"other".to_vec()).verify(&t),
            "another key"
        );
        assert!(!signer.verify(&Ticket {
            code: "forged".into(),
            ..t
        }));
    }

    #[test]
    fn a_code_names_its_key_and_still_verifies_after_the_key_is_rotated() {
        let old = TicketSigner::new(b"old".to_vec());
        let sold = ticket(&old);
        let key_id = sold.code.split('.').nth(1).unwrap();
        assert_eq!(key_id, old.key_id());
        assert_eq!(key_id.len(), 8);

        let rotated = TicketSigner::new(b"new".to_vec()).accepting([b"old".to_vec()]);
        assert_ne!(rotated.key_id(), old.key_id());
        assert!(rotated.verify(&sold), "a ticket sold before the rotation");
        assert!(rotated.verify(&ticket(&rotated)), "a ticket sold after it");
        assert!(
            !TicketSigner::new(b"new".to_vec()).verify(&sold),
            "once the old key is retired"
        );
        let other_id = sold.code.replace(key_id, rotated.key_id());
        assert!(
            !rotated.verify(&Ticket {
                code: other_id,
                ..sold.clone()
            }),
            "a signature under another key's id"
        );
    }

    #[test]
    fn a_code_signed_before_codes_carried_a_key_id_still_verifies() {
        let signer = TicketSigner::new(b"key".to_vec());
        let t = ticket(&signer);
        let key = &signer.keys[0];
        let fields = CodeFields {
            id: t.id,
            session: t.session_id,
            sector: &t.sector,
            seat: t.seat,
        };
        let legacy = format!(
            "{}.{}",
            t.id,
            URL_SAFE_NO_PAD.encode(key.mac(&fields, false).finalize().into_bytes())
        );
        let t = Ticket { code: legacy, ..t };
        assert!(signer.verify(&t));
        assert!(!TicketSigner::new(b"other".to_vec()).verify(&t));
    }
}
