//! Vouchers (promo codes): an organiser's discount on an event's tickets, limited to a number of
//! uses in all and per customer. A use is counted from the moment a held reservation takes the
//! code, and given back when that hold expires or is cancelled.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{EventId, Invalid, Money, Reservation, SectorCode, money::MAX_PRICE_CENTS};

/// The most uses one code can be given.
pub const MAX_USES: u32 = 1_000_000;
/// The most uses one customer can be allowed of one code.
pub const MAX_USES_PER_CUSTOMER: u32 = 100;
/// The most sectors a code can be limited to.
pub const MAX_SECTORS: usize = 50;

/// A code as customers type it: 3 to 32 letters, digits, `-` or `_`; kept in capitals, so that
/// `verao25` and `VERAO25` are the same code.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VoucherCode(String);

impl VoucherCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for VoucherCode {
    type Error = Invalid;
    fn try_from(code: String) -> Result<Self, Invalid> {
        code.parse()
    }
}

impl std::str::FromStr for VoucherCode {
    type Err = Invalid;
    fn from_str(code: &str) -> Result<Self, Invalid> {
        let code = code.trim();
        if !(3..=32).contains(&code.len())
            || !code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Invalid::new(
                "code",
                "must be 3 to 32 letters, digits, `-` or `_`",
            ));
        }
        Ok(Self(code.to_ascii_uppercase()))
    }
}

impl From<VoucherCode> for String {
    fn from(c: VoucherCode) -> String {
        c.0
    }
}

impl fmt::Display for VoucherCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a code takes off the tickets it applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Discount {
    /// A share of the tickets' price, 1 to 100 percent (rounded down to the cent).
    Percent(u8),
    /// An amount off the order, at most the tickets' price.
    Fixed(Money),
}

impl Discount {
    fn checked(self) -> Result<Self, Invalid> {
        match self {
            Discount::Percent(p) if (1..=100).contains(&p) => Ok(self),
            Discount::Percent(_) => Err(Invalid::new(
                "discount.percent",
                "must be between 1 and 100",
            )),
            Discount::Fixed(m) if (1..=MAX_PRICE_CENTS).contains(&m.cents) => Ok(self),
            Discount::Fixed(_) => Err(Invalid::new(
                "discount.fixed.cents",
                format!("must be between 1 and {MAX_PRICE_CENTS}"),
            )),
        }
    }
}

impl fmt::Display for Discount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Discount::Percent(p) => write!(f, "{p}%"),
            Discount::Fixed(m) => write!(f, "{m}"),
        }
    }
}

/// A code as the organiser creates it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewVoucher {
    pub code: String,
    pub discount: Discount,
    /// Sectors it applies to; empty: every sector.
    pub sectors: Vec<String>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub max_uses: i64,
    /// Uses one customer may have; one if absent.
    pub max_per_customer: Option<i64>,
}

/// What an organiser may change of a code: `None` leaves a field as it is; `Some(None)` removes
/// an end of the window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VoucherChanges {
    pub max_uses: Option<i64>,
    pub max_per_customer: Option<i64>,
    pub valid_from: Option<Option<DateTime<Utc>>>,
    pub valid_until: Option<Option<DateTime<Utc>>>,
    pub active: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voucher {
    pub event_id: EventId,
    pub code: VoucherCode,
    pub discount: Discount,
    /// Sectors it applies to; empty: every sector.
    #[serde(default)]
    pub sectors: Vec<SectorCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<DateTime<Utc>>,
    pub max_uses: u32,
    pub max_per_customer: u32,
    /// An organiser can stop a code without losing its count.
    pub active: bool,
    /// Reservations holding or having paid with it (the store counts them).
    #[serde(default)]
    pub uses: u32,
    pub created_at: DateTime<Utc>,
    /// Bumped by the organiser's changes only, not by uses.
    pub version: u32,
}

/// A code as a reservation took it: kept as it was then, so that a later change by the
/// organiser does not change what a held order costs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedVoucher {
    pub code: VoucherCode,
    pub discount: Discount,
    #[serde(default)]
    pub sectors: Vec<SectorCode>,
    /// The per-customer limit a payment after the hold lapsed must take the use again within.
    pub max_per_customer: u32,
}

/// Why a code cannot be applied to a reservation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VoucherRefusal {
    #[error("this code is not in use")]
    Inactive,
    #[error("this code is valid from {0}")]
    NotYet(DateTime<Utc>),
    #[error("this code was valid until {0}")]
    Ended(DateTime<Utc>),
    #[error("this code does not apply to the tickets held")]
    NotApplicable,
    #[error("this code has been used as many times as it may be")]
    UsedUp,
}

fn count(field: &str, value: i64, max: u32) -> Result<u32, Invalid> {
    u32::try_from(value)
        .ok()
        .filter(|v| (1..=max).contains(v))
        .ok_or_else(|| Invalid::new(field, format!("must be between 1 and {max}")))
}

/// When a code is valid: from, until (either end may be open).
type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

fn window(from: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> Result<Window, Invalid> {
    match (from, until) {
        (Some(from), Some(until)) if until <= from => {
            Err(Invalid::new("valid_until", "must be after valid_from"))
        }
        _ => Ok((from, until)),
    }
}

impl Voucher {
    pub fn create(event_id: EventId, new: NewVoucher, now: DateTime<Utc>) -> Result<Self, Invalid> {
        let code: VoucherCode = new.code.parse()?;
        let discount = new.discount.checked()?;
        if new.sectors.len() > MAX_SECTORS {
            return Err(Invalid::new(
                "sectors",
                format!("at most {MAX_SECTORS} sectors"),
            ));
        }
        let mut sectors: Vec<SectorCode> = Vec::new();
        for (i, s) in new.sectors.iter().enumerate() {
            let sector = SectorCode::try_from(s.clone())
                .map_err(|e| Invalid::new(format!("sectors[{i}]"), e.reason))?;
            if sectors.contains(&sector) {
                return Err(Invalid::new(format!("sectors[{i}]"), "listed twice"));
            }
            sectors.push(sector);
        }
        let (valid_from, valid_until) = window(new.valid_from, new.valid_until)?;
        Ok(Self {
            event_id,
            code,
            discount,
            sectors,
            valid_from,
            valid_until,
            max_uses: count("max_uses", new.max_uses, MAX_USES)?,
            max_per_customer: count(
                "max_per_customer",
                new.max_per_customer.unwrap_or(1),
                MAX_USES_PER_CUSTOMER,
            )?,
            active: true,
            uses: 0,
            created_at: now,
            version: 1,
        })
    }

    /// The code after an organiser's changes; its uses stay, and it cannot be given fewer uses
    /// than it has.
    pub fn changed(&self, changes: VoucherChanges) -> Result<Self, Invalid> {
        let mut next = self.clone();
        if let Some(max) = changes.max_uses {
            next.max_uses = count("max_uses", max, MAX_USES)?;
            if next.max_uses < self.uses {
                return Err(Invalid::new(
                    "max_uses",
                    format!("the code has been used {} times already", self.uses),
                ));
            }
        }
        if let Some(max) = changes.max_per_customer {
            next.max_per_customer = count("max_per_customer", max, MAX_USES_PER_CUSTOMER)?;
        }
        (next.valid_from, next.valid_until) = window(
            changes.valid_from.unwrap_or(self.valid_from),
            changes.valid_until.unwrap_or(self.valid_until),
        )?;
        if let Some(active) = changes.active {
            next.active = active;
        }
        next.version += 1;
        Ok(next)
    }

    /// The code as `reservation` takes it at `now`, or why it cannot.
    pub fn apply_to(
        &self,
        reservation: &Reservation,
        now: DateTime<Utc>,
    ) -> Result<AppliedVoucher, VoucherRefusal> {
        if !self.active {
            return Err(VoucherRefusal::Inactive);
        }
        if let Some(from) = self.valid_from.filter(|from| now < *from) {
            return Err(VoucherRefusal::NotYet(from));
        }
        if let Some(until) = self.valid_until.filter(|until| now >= *until) {
            return Err(VoucherRefusal::Ended(until));
        }
        let applied = AppliedVoucher {
            code: self.code.clone(),
            discount: self.discount,
            sectors: self.sectors.clone(),
            max_per_customer: self.max_per_customer,
        };
        let currency_fits = match self.discount {
            Discount::Fixed(m) => reservation.currency() == Some(m.currency),
            Discount::Percent(_) => true,
        };
        if reservation.event_id != self.event_id
            || !currency_fits
            || applied
                .eligible_by_sector(reservation)
                .is_none_or(|sectors| sectors.is_empty())
        {
            return Err(VoucherRefusal::NotApplicable);
        }
        if self.uses >= self.max_uses {
            return Err(VoucherRefusal::UsedUp);
        }
        Ok(applied)
    }
}

impl AppliedVoucher {
    fn applies_to(&self, sector: &SectorCode) -> bool {
        self.sectors.is_empty() || self.sectors.contains(sector)
    }

    /// The price of the reservation's tickets the code applies to, sector by sector, in the
    /// order the reservation lists them; `None` if it cannot be added up.
    fn eligible_by_sector(&self, reservation: &Reservation) -> Option<Vec<(SectorCode, Money)>> {
        let mut sectors: Vec<(SectorCode, Money)> = Vec::new();
        let prices = reservation
            .seats
            .iter()
            .map(|s| (&s.sector, Some(s.price)))
            .chain(
                reservation
                    .places
                    .iter()
                    .map(|p| (&p.sector, p.unit_price.times(p.quantity))),
            )
            .filter(|(sector, _)| self.applies_to(sector));
        for (sector, price) in prices {
            let price = price?;
            match sectors.iter_mut().find(|(s, _)| s == sector) {
                Some((_, sum)) => *sum = sum.plus(price)?,
                None => sectors.push((sector.clone(), price)),
            }
        }
        Some(sectors)
    }

    /// What it takes off each sector's tickets (positive): a percentage of each sector's, or
    /// the fixed amount from the first sectors on until it is spent. The sales view subtracts
    /// these from each sector's revenue.
    pub fn discount_by_sector(&self, reservation: &Reservation) -> Vec<(SectorCode, Money)> {
        let Some(sectors) = self.eligible_by_sector(reservation) else {
            return Vec::new();
        };
        let mut left = match self.discount {
            Discount::Fixed(m) => m.cents,
            Discount::Percent(_) => 0,
        };
        sectors
            .into_iter()
            .map(|(sector, eligible)| {
                let cents = match self.discount {
                    Discount::Percent(p) => eligible.cents * i64::from(p) / 100,
                    Discount::Fixed(_) => {
                        let take = left.min(eligible.cents);
                        left -= take;
                        take
                    }
                };
                (sector, Money { cents, ..eligible })
            })
            .collect()
    }

    /// What it takes off the reservation (positive): the sum over its sectors.
    pub fn discount(&self, reservation: &Reservation) -> Option<Money> {
        self.discount_by_sector(reservation)
            .into_iter()
            .map(|(_, m)| m)
            .reduce(|a, b| Money {
                cents: a.cents + b.cents,
                ..a
            })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::{Currency, SeatTicket, reservation::tests::session};

    fn brl(cents: i64) -> Money {
        Money::price(cents, Currency::BRL).unwrap()
    }

    fn new(code: &str, discount: Discount) -> NewVoucher {
        NewVoucher {
            code: code.into(),
            discount,
            sectors: vec![],
            valid_from: None,
            valid_until: None,
            max_uses: 10,
            max_per_customer: None,
        }
    }

    /// A hold of the event's seats, one for each (sector, price).
    fn held(event: EventId, seats: &[(&str, i64)]) -> Reservation {
        let now = Utc::now();
        let seats = seats
            .iter()
            .enumerate()
            .map(|(i, (sector, cents))| SeatTicket {
                sector: SectorCode::try_from(sector.to_string()).unwrap(),
                seat: format!("A-{}", i + 1).parse().unwrap(),
                price: brl(*cents),
                block: None,
            })
            .collect();
        Reservation {
            event_id: event,
            ..Reservation::held(
                &session(now),
                "ana",
                (seats, vec![]),
                now,
                now + Duration::minutes(10),
            )
        }
    }

    #[test]
    fn a_code_is_kept_in_capitals_and_checked() {
        let v = Voucher::create(
            EventId::generate(),
            new(" verao-25 ", Discount::Percent(20)),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(v.code.as_str(), "VERAO-25");
        for bad in ["ab", "com espaço", "x".repeat(33).as_str(), "a;b"] {
            assert!(bad.parse::<VoucherCode>().is_err(), "{bad} accepted");
        }
        for (discount, field) in [
            (Discount::Percent(0), "discount.percent"),
            (Discount::Percent(101), "discount.percent"),
            (
                Discount::Fixed(Money {
                    cents: 0,
                    currency: Currency::BRL,
                }),
                "discount.fixed.cents",
            ),
        ] {
            let e = Voucher::create(EventId::generate(), new("OK1", discount), Utc::now());
            assert_eq!(e.unwrap_err().field, field);
        }
        let mut zero = new("OK1", Discount::Percent(5));
        zero.max_uses = 0;
        assert_eq!(
            Voucher::create(EventId::generate(), zero, Utc::now())
                .unwrap_err()
                .field,
            "max_uses"
        );
    }

    #[test]
    fn the_discount_applies_to_its_sectors_only_and_shows_on_the_bill() {
        let event = EventId::generate();
        let mut code = new("PLATEIA20", Discount::Percent(20));
        code.sectors = vec!["plateia".into()];
        let voucher = Voucher::create(event, code, Utc::now()).unwrap();
        let mut r = held(event, &[("plateia", 10_000), ("balcao", 5_001)]);
        r.voucher = Some(voucher.apply_to(&r, Utc::now()).unwrap());
        assert_eq!(r.total().unwrap().cents, 10_000 + 5_001 - 2_000);
        let last = r.line_items().pop().unwrap();
        assert_eq!(last.description, "Voucher PLATEIA20 (20%)");
        assert_eq!(last.total.unwrap().cents, -2_000);

        let balcao_only = held(event, &[("balcao", 5_001)]);
        assert_eq!(
            voucher.apply_to(&balcao_only, Utc::now()),
            Err(VoucherRefusal::NotApplicable)
        );
        let other_event = held(EventId::generate(), &[("plateia", 10_000)]);
        assert_eq!(
            voucher.apply_to(&other_event, Utc::now()),
            Err(VoucherRefusal::NotApplicable)
        );
    }

    #[test]
    fn a_fixed_amount_takes_at_most_the_tickets_price() {
        let event = EventId::generate();
        let voucher = Voucher::create(
            event,
            new("MENOS50", Discount::Fixed(brl(5_000))),
            Utc::now(),
        )
        .unwrap();
        let mut r = held(event, &[("pista", 3_000)]);
        r.voucher = Some(voucher.apply_to(&r, Utc::now()).unwrap());
        assert_eq!(
            r.total().unwrap().cents,
            0,
            "free tickets, nothing below zero"
        );
        let usd = Voucher::create(
            event,
            new(
                "DOLAR",
                Discount::Fixed(Money::price(100, Currency::try_from("USD").unwrap()).unwrap()),
            ),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(
            usd.apply_to(&held(event, &[("pista", 3_000)]), Utc::now()),
            Err(VoucherRefusal::NotApplicable)
        );
    }

    #[test]
    fn a_code_applies_within_its_window_while_active_and_not_used_up() {
        let event = EventId::generate();
        let now = Utc::now();
        let mut code = new("JANELA", Discount::Percent(10));
        code.valid_from = Some(now + Duration::hours(1));
        code.valid_until = Some(now + Duration::hours(2));
        let voucher = Voucher::create(event, code, now).unwrap();
        let r = held(event, &[("pista", 3_000)]);
        assert!(matches!(
            voucher.apply_to(&r, now),
            Err(VoucherRefusal::NotYet(_))
        ));
        assert!(voucher.apply_to(&r, now + Duration::minutes(90)).is_ok());
        assert!(matches!(
            voucher.apply_to(&r, now + Duration::hours(2)),
            Err(VoucherRefusal::Ended(_))
        ));
        let stopped = voucher
            .changed(VoucherChanges {
                active: Some(false),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(stopped.version, 2);
        assert_eq!(
            stopped.apply_to(&r, now + Duration::minutes(90)),
            Err(VoucherRefusal::Inactive)
        );
        let used = Voucher {
            uses: 10,
            ..voucher
        };
        assert_eq!(
            used.apply_to(&r, now + Duration::minutes(90)),
            Err(VoucherRefusal::UsedUp)
        );
        assert_eq!(
            used.changed(VoucherChanges {
                max_uses: Some(9),
                ..Default::default()
            })
            .unwrap_err()
            .field,
            "max_uses"
        );
    }

    #[test]
    fn the_discount_is_split_by_sector_and_adds_up_to_the_bill() {
        let event = EventId::generate();
        let now = Utc::now();
        let r = held(
            event,
            &[("plateia", 3_333), ("balcao", 3_333), ("plateia", 1)],
        );
        let split = |v: &AppliedVoucher| -> Vec<(String, i64)> {
            v.discount_by_sector(&r)
                .into_iter()
                .map(|(s, m)| (s.to_string(), m.cents))
                .collect()
        };
        let third = Voucher::create(event, new("TERCO", Discount::Percent(33)), now)
            .unwrap()
            .apply_to(&r, now)
            .unwrap();
        assert_eq!(
            split(&third),
            vec![("plateia".into(), 1_100), ("balcao".into(), 1_099)]
        );
        let mut with = r.clone();
        with.voucher = Some(third);
        assert_eq!(with.total().unwrap().cents, 6_667 - 2_199);
        let fixed = Voucher::create(event, new("QUARENTA", Discount::Fixed(brl(4_000))), now)
            .unwrap()
            .apply_to(&r, now)
            .unwrap();
        assert_eq!(
            split(&fixed),
            vec![("plateia".into(), 3_334), ("balcao".into(), 666)]
        );
    }
}
