//! Check-in at the door: a scan of a ticket's code at a gate, the entry it records, and what a
//! second scan of the same ticket is told.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{Admission, Invalid, SeatLabel, SectorCode, SessionId, TicketId};

/// How far ahead of the server's clock a scanner's clock may run.
pub const SCANNER_CLOCK_SKEW: Duration = Duration::minutes(5);

/// A scan as a gate sends it: `nonce` names the scan itself, so that uploading it again (an
/// offline scanner syncing twice) is a no-op; `scanned_at` is when an offline scanner admitted
/// the holder (absent: admitted now, online).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scan {
    pub session: SessionId,
    pub code: String,
    pub gate: String,
    pub nonce: String,
    pub scanned_at: Option<DateTime<Utc>>,
}

impl Scan {
    /// Checks what the gate sent; `nonce` defaults to a new one (an online scan sent once).
    pub fn new(
        session: SessionId,
        code: String,
        gate: String,
        nonce: Option<String>,
        scanned_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Self, Invalid> {
        if code.trim().is_empty() || code.len() > 512 {
            return Err(Invalid::new("code", "must be a ticket's code"));
        }
        let gate = gate.trim().to_owned();
        if gate.is_empty() || gate.chars().count() > 40 || gate.chars().any(char::is_control) {
            return Err(Invalid::new("gate", "must be 1 to 40 printable characters"));
        }
        if let Some(n) = &nonce {
            if !(8..=64).contains(&n.len()) {
                return Err(Invalid::new("nonce", "must be 8 to 64 characters"));
            }
            if !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(Invalid::new("nonce", "must be letters, digits, - or _"));
            }
        }
        if scanned_at.is_some() && nonce.is_none() {
            return Err(Invalid::new(
                "nonce",
                "is required with scanned_at: an offline scan is uploaded under its nonce",
            ));
        }
        if scanned_at.is_some_and(|at| at > now + SCANNER_CLOCK_SKEW) {
            return Err(Invalid::new("scanned_at", "must not be in the future"));
        }
        Ok(Self {
            session,
            code: code.trim().to_owned(),
            gate,
            nonce: nonce.unwrap_or_else(|| ulid::Ulid::generate().to_string()),
            scanned_at,
        })
    }

    /// The entry this scan records for the ticket `admission` names.
    pub fn entry(&self, admission: &Admission, by: &str, now: DateTime<Utc>) -> Entry {
        Entry {
            ticket: admission.ticket,
            session: admission.session,
            sector: admission.sector.clone(),
            seat: admission.seat,
            gate: self.gate.clone(),
            at: self.scanned_at.unwrap_or(now),
            nonce: self.nonce.clone(),
            by: by.to_owned(),
            offline: self.scanned_at.is_some(),
            recorded_at: now,
        }
    }
}

/// A ticket's entry: the first scan that let its holder in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub ticket: TicketId,
    pub session: SessionId,
    pub sector: SectorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seat: Option<SeatLabel>,
    pub gate: String,
    /// When the holder went in (an offline scan's own time).
    pub at: DateTime<Utc>,
    pub nonce: String,
    /// Who scanned: the staff member's e-mail, else their subject.
    pub by: String,
    /// Scanned offline and uploaded later.
    #[serde(default)]
    pub offline: bool,
    /// When the box office recorded it.
    pub recorded_at: DateTime<Utc>,
}

/// What the door answers a scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Let in: this scan recorded the entry.
    Admitted(Entry),
    /// The same scan uploaded again: the entry it recorded.
    Replayed(Entry),
    /// Another scan let the holder in first. `conflict` when this one let someone in too
    /// (offline, at another gate or time): the organiser sees it among the session's conflicts.
    AlreadyIn { first: Entry, conflict: bool },
    /// The ticket's reservation was cancelled or refunded.
    Revoked { at: DateTime<Utc> },
}

/// A ticket let in twice by scanners that were offline: the entry that counted and the scan that
/// came second.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub first: Entry,
    pub second: Entry,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(gate: &str, nonce: Option<&str>, at: Option<DateTime<Utc>>) -> Result<Scan, Invalid> {
        Scan::new(
            SessionId::generate(),
            "code".into(),
            gate.into(),
            nonce.map(str::to_owned),
            at,
            Utc::now(),
        )
    }

    #[test]
    fn a_scan_names_its_gate_and_an_offline_scan_its_nonce() {
        let online = scan(" Gate A ", None, None).unwrap();
        assert_eq!(online.gate, "Gate A");
        assert!(online.nonce.len() >= 8, "an online scan gets a nonce");
        assert_eq!(scan("", None, None).unwrap_err().field, "gate");
        assert_eq!(scan(&"g".repeat(41), None, None).unwrap_err().field, "gate");
        let earlier = Utc::now() - Duration::minutes(30);
        assert_eq!(
            scan("A", None, Some(earlier)).unwrap_err().field,
            "nonce",
            "an offline scan must be uploadable twice"
        );
        assert!(scan("A", Some("scan-0001"), Some(earlier)).is_ok());
        assert_eq!(scan("A", Some("short"), None).unwrap_err().field, "nonce");
        assert_eq!(
            scan("A", Some("scan 0001"), None).unwrap_err().field,
            "nonce"
        );
        let later = Utc::now() + Duration::hours(1);
        assert_eq!(
            scan("A", Some("scan-0001"), Some(later)).unwrap_err().field,
            "scanned_at"
        );
    }
}
