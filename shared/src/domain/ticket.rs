//! Tickets: one per seat or place of a confirmed reservation, each with a code the door checks
//! offline: an Ed25519 signature over what the ticket admits (ticket, session, sector, seat, when
//! it was issued), with the id of the key that signed it. Only the functions that issue tickets
//! hold the private key; the door needs only the public keys (`DoorKey`).

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ulid::Ulid;

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

/// A public key the door checks codes with: `id` is what codes signed with it carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorKey {
    pub id: String,
    /// The 32-byte Ed25519 public key, base64url without padding.
    pub public_key: String,
}

impl DoorKey {
    fn of(public: &[u8]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"bilheteria ticket key id\0")
            .chain_update(public)
            .finalize();
        Self {
            id: URL_SAFE_NO_PAD.encode(&digest[..KEY_ID_BYTES]),
            public_key: URL_SAFE_NO_PAD.encode(public),
        }
    }
}

/// Bytes of the public key's digest that name it in a code.
const KEY_ID_BYTES: usize = 6;
/// The first byte of every code: its layout.
const CODE_VERSION: u8 = 1;
const SIGNATURE_BYTES: usize = 64;
/// Signed before the code's bytes, so that a signature over a code is never valid for anything else.
const SIGNING_CONTEXT: &[u8] = b"bilheteria ticket code\0";

/// What a code vouches for, read from it once its signature checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admission {
    pub ticket: TicketId,
    pub session: SessionId,
    pub sector: SectorCode,
    pub seat: Option<SeatLabel>,
    pub issued_at: DateTime<Utc>,
    pub key_id: String,
}

impl Admission {
    /// The code's signed bytes: version, key id, ticket, session, issued (epoch seconds),
    /// sector (length, then UTF-8), seat (0, or 1 then row and number).
    fn encode(&self, key_id: &[u8]) -> Vec<u8> {
        let sector = self.sector.as_str().as_bytes();
        let mut out = Vec::with_capacity(48 + sector.len() + SIGNATURE_BYTES);
        out.push(CODE_VERSION);
        out.extend_from_slice(key_id);
        out.extend_from_slice(&self.ticket.ulid().to_bytes());
        out.extend_from_slice(&self.session.ulid().to_bytes());
        let issued = u32::try_from(self.issued_at.timestamp()).unwrap_or(u32::MAX);
        out.extend_from_slice(&issued.to_be_bytes());
        out.push(u8::try_from(sector.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(sector);
        match self.seat {
            Some(seat) => {
                out.push(1);
                out.extend_from_slice(&seat.row.to_be_bytes());
                out.extend_from_slice(&seat.number.to_be_bytes());
            }
            None => out.push(0),
        }
        out
    }

    /// Reads the signed bytes back; `None` when they are not a code's.
    fn decode(bytes: &[u8]) -> Option<(Self, &[u8])> {
        let mut r = Reader(bytes);
        if r.take(1)? != [CODE_VERSION] {
            return None;
        }
        let key_id = r.take(KEY_ID_BYTES)?;
        let ticket = TicketId::from_ulid(Ulid::from_bytes(r.take(16)?.try_into().ok()?));
        let session = SessionId::from_ulid(Ulid::from_bytes(r.take(16)?.try_into().ok()?));
        let issued = u32::from_be_bytes(r.take(4)?.try_into().ok()?);
        let sector_len = usize::from(r.take(1)?[0]);
        let sector = String::from_utf8(r.take(sector_len)?.to_vec()).ok()?;
        let seat = match r.take(1)? {
            [0] => None,
            [1] => {
                let row = u16::from_be_bytes(r.take(2)?.try_into().ok()?);
                let number = u16::from_be_bytes(r.take(2)?.try_into().ok()?);
                Some(SeatLabel::new(row, number))
            }
            _ => return None,
        };
        if !r.0.is_empty() {
            return None;
        }
        Some((
            Self {
                ticket,
                session,
                sector: SectorCode::try_from(sector).ok()?,
                seat,
                issued_at: DateTime::from_timestamp(i64::from(issued), 0)?,
                key_id: URL_SAFE_NO_PAD.encode(key_id),
            },
            key_id,
        ))
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
}

/// Why a code does not open the door.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("not a ticket code")]
    Malformed,
    #[error("signed with a key the door does not know ({0})")]
    UnknownKey(String),
    #[error("the signature does not match the ticket")]
    Forged,
}

/// Signs ticket codes with the box office's private key. The key is derived from a secret
/// (Secrets Manager's value, any length); the previous secret's public key is still published
/// (`door_keys`) so tickets sold before a rotation still open the door.
#[derive(Clone)]
pub struct TicketSigner {
    key: Arc<Ed25519KeyPair>,
    door_key: DoorKey,
    key_id: Vec<u8>,
    previous: Vec<DoorKey>,
}

impl TicketSigner {
    /// Signs with the key derived from `secret`.
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        let key = key_pair(secret.as_ref());
        let door_key = DoorKey::of(key.public_key().as_ref());
        Self {
            key_id: URL_SAFE_NO_PAD
                .decode(&door_key.id)
                .expect("a key id is base64url"),
            key: Arc::new(key),
            door_key,
            previous: Vec::new(),
        }
    }

    /// Also publishes the public keys of `previous` secrets.
    pub fn accepting<S: AsRef<[u8]>>(mut self, previous: impl IntoIterator<Item = S>) -> Self {
        self.previous.extend(
            previous
                .into_iter()
                .map(|s| DoorKey::of(key_pair(s.as_ref()).public_key().as_ref())),
        );
        self
    }

    /// The id of the key that signs: a digest of its public key.
    pub fn key_id(&self) -> &str {
        &self.door_key.id
    }

    /// The public keys of the signing key and of the keys it replaced: what the door checks with.
    pub fn door_keys(&self) -> Vec<DoorKey> {
        std::iter::once(self.door_key.clone())
            .chain(self.previous.iter().cloned())
            .collect()
    }

    /// The code the ticket's QR code holds: base64url of the signed bytes and the signature.
    pub fn code(&self, admission: &Admission) -> String {
        let mut bytes = admission.encode(&self.key_id);
        let signature = self.key.sign(&[SIGNING_CONTEXT, &bytes].concat());
        bytes.extend_from_slice(signature.as_ref());
        URL_SAFE_NO_PAD.encode(bytes)
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
                    code: self.code(&Admission {
                        ticket: id,
                        session: reservation.session_id,
                        sector: sector.clone(),
                        seat,
                        issued_at: now,
                        key_id: self.door_key.id.clone(),
                    }),
                    sector,
                    seat,
                    issued_at: now,
                }
            })
            .collect()
    }
}

/// Ed25519 key pair from a secret of any length: its seed is a digest of the secret.
fn key_pair(secret: &[u8]) -> Ed25519KeyPair {
    let seed = Sha256::new()
        .chain_update(b"bilheteria ticket signing key\0")
        .chain_update(secret)
        .finalize();
    Ed25519KeyPair::from_seed_unchecked(&seed).expect("any 32 bytes are an Ed25519 seed")
}

/// The public keys a door checks codes with.
#[derive(Clone, Debug, Default)]
pub struct DoorKeys(Vec<DoorKey>);

impl DoorKeys {
    pub fn new(keys: Vec<DoorKey>) -> Self {
        Self(keys)
    }

    /// What `code` admits, if one of these keys signed it.
    pub fn verify(&self, code: &str) -> Result<Admission, CodeError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(code.trim())
            .map_err(|_| CodeError::Malformed)?;
        let signed_len = bytes
            .len()
            .checked_sub(SIGNATURE_BYTES)
            .ok_or(CodeError::Malformed)?;
        let (signed, signature) = bytes.split_at(signed_len);
        let (admission, _) = Admission::decode(signed).ok_or(CodeError::Malformed)?;
        let key = self
            .0
            .iter()
            .find(|k| k.id == admission.key_id)
            .ok_or_else(|| CodeError::UnknownKey(admission.key_id.clone()))?;
        let public = URL_SAFE_NO_PAD
            .decode(&key.public_key)
            .map_err(|_| CodeError::UnknownKey(admission.key_id.clone()))?;
        UnparsedPublicKey::new(&ED25519, public)
            .verify(&[SIGNING_CONTEXT, signed].concat(), signature)
            .map_err(|_| CodeError::Forged)?;
        Ok(admission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(seat: Option<&str>) -> Admission {
        Admission {
            ticket: TicketId::generate(),
            session: SessionId::generate(),
            sector: SectorCode::try_from("plateia".to_string()).unwrap(),
            seat: seat.map(|s| s.parse().unwrap()),
            issued_at: DateTime::from_timestamp(1_796_000_000, 0).unwrap(),
            key_id: String::new(),
        }
    }

    fn keys(signer: &TicketSigner) -> DoorKeys {
        DoorKeys::new(signer.door_keys())
    }

    #[test]
    fn a_code_says_what_it_admits_and_fits_a_small_qr_code() {
        let signer = TicketSigner::new(b"key");
        let seated = admission(Some("B-7"));
        let code = signer.code(&seated);
        let read = keys(&signer).verify(&code).unwrap();
        assert_eq!(
            read,
            Admission {
                key_id: signer.key_id().to_owned(),
                ..seated
            }
        );
        // A QR code of version 9 holds 180 bytes at medium error correction.
        assert!(code.len() <= 180, "{} characters", code.len());
        let standing = admission(None);
        assert_eq!(
            keys(&signer).verify(&signer.code(&standing)).unwrap().seat,
            None
        );
    }

    #[test]
    fn an_altered_or_forged_code_is_refused() {
        let signer = TicketSigner::new(b"key");
        let code = signer.code(&admission(Some("B-7")));
        let mut bytes = URL_SAFE_NO_PAD.decode(&code).unwrap();
        // The seat's number is the last byte before the signature.
        let at = bytes.len() - SIGNATURE_BYTES - 1;
        bytes[at] ^= 1;
        let moved = URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(keys(&signer).verify(&moved), Err(CodeError::Forged));

        let other = TicketSigner::new(b"other");
        let forged = other.code(&admission(Some("B-7")));
        assert_eq!(
            keys(&signer).verify(&forged),
            Err(CodeError::UnknownKey(other.key_id().to_owned()))
        );
        for garbage in [
            "",
            "forged",
            "01J0000000000000000000000.abc.def",
            &code[..40],
        ] {
            assert_eq!(keys(&signer).verify(garbage), Err(CodeError::Malformed));
        }
    }

    #[test]
    fn a_code_signed_before_a_rotation_still_opens_the_door() {
        let old = TicketSigner::new(b"old");
        let sold = old.code(&admission(None));
        let rotated = TicketSigner::new(b"new").accepting([b"old"]);
        assert_ne!(rotated.key_id(), old.key_id());
        assert!(
            keys(&rotated).verify(&sold).is_ok(),
            "sold before the rotation"
        );
        assert!(
            keys(&rotated)
                .verify(&rotated.code(&admission(None)))
                .is_ok()
        );
        assert!(
            keys(&TicketSigner::new(b"new")).verify(&sold).is_err(),
            "once the old key is retired"
        );
        assert_eq!(
            TicketSigner::new(b"old").door_keys(),
            old.door_keys(),
            "the same secret is the same key in every process"
        );
    }
}
