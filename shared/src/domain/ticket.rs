//! Tickets: one per seat or place of a confirmed reservation, each with a code the door checks:
//! the ticket id and an HMAC over (ticket id, session, sector, seat).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

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

/// Signs and checks ticket codes with the box office's secret key.
#[derive(Clone)]
pub struct TicketSigner {
    key: Vec<u8>,
}

impl TicketSigner {
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self { key: key.into() }
    }

    fn mac(
        &self,
        id: TicketId,
        session: SessionId,
        sector: &SectorCode,
        seat: Option<SeatLabel>,
    ) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .expect("HMAC takes keys of any length");
        let seat = seat.map(|s| s.to_string()).unwrap_or_default();
        mac.update(format!("{id}|{session}|{sector}|{seat}").as_bytes());
        mac
    }

    /// `<ticket id>.<signature>`: what the QR code on the ticket holds.
    pub fn code(
        &self,
        id: TicketId,
        session: SessionId,
        sector: &SectorCode,
        seat: Option<SeatLabel>,
    ) -> String {
        let signature = self.mac(id, session, sector, seat).finalize().into_bytes();
        format!("{id}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// Whether `ticket.code` was signed with this key for this ticket's id, session, sector and seat.
    pub fn verify(&self, ticket: &Ticket) -> bool {
        let Some((id, signature)) = ticket.code.split_once('.') else {
            return false;
        };
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        id == ticket.id.to_string()
            && self
                .mac(ticket.id, ticket.session_id, &ticket.sector, ticket.seat)
                .verify_slice(&signature)
                .is_ok()
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
}
