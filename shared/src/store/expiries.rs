//! Expiring lapsed holds in DynamoDB: the sparse expiry index read by minute and shard, the
//! one-transaction release, and the sweep's cursor.

use std::{collections::HashSet, future::Future};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::{
    DynamoStore, Refused, StoreError, WriteError, keys,
    transact::{Change, n, s},
};
use crate::domain::{ProductId, Reservation, ReservationStatus, stock};

pub trait Expiries: Sync {
    /// Live reservations of one expiry bucket (minute and shard) whose time is up at `now`.
    fn due(
        &self,
        minute: i64,
        shard: u32,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Due, StoreError>> + Send;
    /// Releases a lapsed reservation: EXPIRED, its seats (those still its own) free, places, add-on
    /// stock and the customer's count back. `Changed` if it was confirmed or expired meanwhile.
    fn expire(
        &self,
        reservation: &Reservation,
        counted: &HashSet<ProductId>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), WriteError>> + Send;
    /// The first minute the sweep has not finished.
    fn sweep_from(&self) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;
    /// Moves the sweep's start from `from` to `to` (only if no other sweep moved it).
    fn sweep_done(
        &self,
        from: Option<i64>,
        to: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What one expiry bucket holds that is due.
#[derive(Debug, Default)]
pub struct Due {
    pub reservations: Vec<Reservation>,
    /// Items of the bucket that do not read as a reservation (`PK / SK`, and why).
    pub unreadable: Vec<String>,
}

const SWEEP_PK: &str = "SWEEP";
const SWEEP_SK: &str = "EXPIRY";

#[derive(serde::Deserialize)]
struct ReservationOnly {
    #[serde(flatten)]
    reservation: Reservation,
}

impl Expiries for DynamoStore {
    async fn due(&self, minute: i64, shard: u32, now: DateTime<Utc>) -> Result<Due, StoreError> {
        let items = self
            .query_all(
                self.query()
                    .index_name(keys::GSI2)
                    .key_condition_expression("GSI2PK = :pk AND GSI2SK < :now")
                    .expression_attribute_values(":pk", s(keys::expiry_bucket(minute, shard)))
                    .expression_attribute_values(":now", s(format!("{:012}", now.timestamp()))),
            )
            .await?;
        let mut due = Due::default();
        for item in items {
            let key = |name: &str| match item.get(name) {
                Some(AttributeValue::S(s)) => s.clone(),
                _ => String::new(),
            };
            let at = format!("{} / {}", key(keys::PK), key(keys::SK));
            match serde_dynamo::from_item::<_, ReservationOnly>(item) {
                Ok(r) => due.reservations.push(r.reservation),
                Err(e) => due.unreadable.push(format!("{at}: {e}")),
            }
        }
        Ok(due)
    }

    async fn expire(
        &self,
        reservation: &Reservation,
        counted: &HashSet<ProductId>,
        now: DateTime<Utc>,
    ) -> Result<(), WriteError> {
        let head = vec![
            Change::on(&self.table, keys::reservation(reservation.id), keys::RESERVATION_SK)
                .set("SET #status = :expired, version = version + :one REMOVE GSI2PK, GSI2SK")
                .when("version = :v AND #status IN (:held, :charging, :pending) AND hold_expires_at < :now")
                .name("#status", "status")
                .value(":v", n(reservation.version))
                .value(":one", n(1))
                .value(":expired", serde_dynamo::to_attribute_value(ReservationStatus::Expired).map_err(StoreError::from)?)
                .value(":held", serde_dynamo::to_attribute_value(ReservationStatus::Held).map_err(StoreError::from)?)
                .value(":charging", serde_dynamo::to_attribute_value(ReservationStatus::Charging).map_err(StoreError::from)?)
                .value(":pending", serde_dynamo::to_attribute_value(ReservationStatus::PendingPayment).map_err(StoreError::from)?)
                .value(":now", n(now.timestamp())),
            self.uncount(reservation),
        ];
        self.release(reservation, head, counted, Some(GivenBack::Expired))
            .await
    }

    async fn sweep_from(&self) -> Result<Option<i64>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Cursor {
            next_minute: i64,
        }
        Ok(self
            .get::<Cursor>(SWEEP_PK.to_owned(), SWEEP_SK)
            .await?
            .map(|c| c.next_minute))
    }

    async fn sweep_done(&self, from: Option<i64>, to: i64) -> Result<(), StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(SWEEP_PK))
            .key(keys::SK, s(SWEEP_SK))
            .update_expression("SET next_minute = :to")
            .expression_attribute_values(":to", n(to));
        update = match from {
            Some(from) => update
                .condition_expression("next_minute = :from")
                .expression_attribute_values(":from", n(from)),
            None => update.condition_expression("attribute_not_exists(next_minute)"),
        };
        match update.send().await.map_err(StoreError::from) {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Why places go back on sale, and the sales figure that says so.
#[derive(Clone, Copy)]
pub(super) enum GivenBack {
    /// A hold lapsed: counted in `expired`.
    Expired,
    /// A hold was cancelled: counted in `cancelled`.
    Cancelled,
    /// A confirmed sale was cancelled: taken off `sold`, its add-ons' too.
    Sold,
}

impl GivenBack {
    /// The sector's counter and what each ticket adds to it.
    fn counter(self) -> (&'static str, i64) {
        match self {
            GivenBack::Expired => ("expired", 1),
            GivenBack::Cancelled => ("cancelled", 1),
            GivenBack::Sold => ("sold", -1),
        }
    }
}

impl DynamoStore {
    /// Places back on sale in each sector of the reservation (counted as `given_back`, if it is
    /// counted), and its counted add-ons in stock (a sale's add-ons also off their `sold`).
    pub(super) fn restock(
        &self,
        reservation: &Reservation,
        counted: &HashSet<ProductId>,
        given_back: Option<GivenBack>,
        to_line: &HashSet<crate::domain::SectorCode>,
        lost: &HashSet<usize>,
    ) -> Vec<Change> {
        // (sector, tickets, the shards its places are on: 0 for seats and unsharded places)
        let mut sectors: Vec<(crate::domain::SectorCode, u32, u32)> = Vec::new();
        for (sector, count, shards) in reservation.seats.iter().map(|s| (&s.sector, 1, 0)).chain(
            reservation
                .places
                .iter()
                .map(|p| (&p.sector, p.quantity, p.shards)),
        ) {
            match sectors.iter_mut().find(|(c, _, _)| c == sector) {
                Some((_, total, _)) => *total += count,
                None => sectors.push((sector.clone(), count, shards)),
            }
        }
        let sold_back = matches!(given_back, Some(GivenBack::Sold));
        // A sale cancelled takes its vouchers' discounts off the sectors' figures too.
        let discounts = match (&reservation.voucher, sold_back) {
            (Some(v), true) => v.discount_by_sector(reservation),
            _ => Vec::new(),
        };
        let mut items = Vec::new();
        for (sector, count, shards) in sectors {
            let mut change = Change::on(
                &self.table,
                keys::sector(reservation.session_id, &sector),
                keys::STOCK_SK,
            );
            // The sector item's `ADD` terms, each with its value.
            let mut add: Vec<(&str, AttributeValue)> = Vec::new();
            if let Some((counter, per_ticket)) = given_back.map(GivenBack::counter) {
                change = change.name("#given_back", counter);
                add.push(("#given_back :back", n(per_ticket * i64::from(count))));
            }
            let off = discounts
                .iter()
                .find(|(s, _)| *s == sector)
                .map_or(0, |(_, m)| m.cents);
            if off > 0 {
                add.push(("discounts :off", n(-off)));
            }
            let mut on_sale = i64::from(count);
            if to_line.contains(&sector) {
                // Fans wait for the sector: its places are kept for their line, off sale; a
                // numbered sector's seats by label, for the line's offers to hold. A seat lost
                // to another hold after this one lapsed is not kept: it counts back on sale.
                let kept: Vec<String> = reservation
                    .seats
                    .iter()
                    .enumerate()
                    .filter(|(i, s)| s.sector == sector && !lost.contains(i))
                    .map(|(_, s)| s.seat.to_string())
                    .collect();
                let lost_here = reservation
                    .seats
                    .iter()
                    .enumerate()
                    .filter(|(i, s)| s.sector == sector && lost.contains(i))
                    .count() as i64;
                add.push(("returned :kept", n(on_sale - lost_here)));
                if !kept.is_empty() {
                    add.push(("kept_seats :labels", AttributeValue::Ss(kept)));
                }
                on_sale = lost_here;
            } else if shards > 0 {
                // Sharded places go back to a shard.
                let shard = stock::first_shard(reservation.id.spread(), shards);
                items.push(
                    self.shard_change(reservation.session_id, &sector, shard)
                        .set("ADD available :n")
                        .value(":n", n(count)),
                );
                on_sale = 0;
            }
            if on_sale > 0 {
                add.push(("available :n", n(on_sale)));
            }
            let mut expression = String::new();
            for (term, value) in add {
                let placeholder = term.split(' ').nth(1).unwrap_or_default();
                change = change.value(placeholder, value);
                expression += if expression.is_empty() { "ADD " } else { ", " };
                expression += term;
            }
            // Places back on sale lift the sold-out mark; places kept for a line do not.
            if !to_line.contains(&sector) {
                expression += " REMOVE sold_out";
            }
            items.push(change.set(expression.trim()));
        }
        for line in &reservation.products {
            let change = Change::on(
                &self.table,
                keys::product(line.product_id),
                keys::PRODUCT_SK,
            );
            let minus = n(-i64::from(line.quantity));
            items.push(match (counted.contains(&line.product_id), sold_back) {
                (true, false) => change.set("ADD stock :q").value(":q", n(line.quantity)),
                (true, true) => change
                    .set("ADD stock :q, sold :minus")
                    .value(":q", n(line.quantity))
                    .value(":minus", minus),
                (false, true) => change.set("ADD sold :minus").value(":minus", minus),
                (false, false) => continue,
            });
        }
        items
    }

    /// Writes `head` (whose first item is the reservation's own change), the release of each of
    /// the reservation's seats still its own, then everything else it gives back (`restock`, its
    /// voucher's use), in one transaction. Places go back on sale, or to their sector's waiting
    /// line while fans wait (`lines_waiting`). A seat someone else took after the hold lapsed
    /// is not this reservation's to free: it is left out and the transaction tried again.
    /// `Changed` if a condition of `head` failed.
    pub(super) async fn release(
        &self,
        reservation: &Reservation,
        head: Vec<Change>,
        counted: &HashSet<ProductId>,
        given_back: Option<GivenBack>,
    ) -> Result<(), WriteError> {
        let to_line = self.lines_waiting(reservation).await?;
        let mut lost: HashSet<usize> = HashSet::new();
        for _ in 0..=reservation.seats.len() {
            let seats: Vec<usize> = (0..reservation.seats.len())
                .filter(|i| !lost.contains(i))
                .collect();
            let from = head.len();
            let mut items = head.clone();
            items.extend(
                seats.iter().map(|i| {
                    self.seat_release(reservation, &reservation.seats[*i], "HELD", &to_line)
                }),
            );
            items.extend(self.restock(reservation, counted, given_back, &to_line, &lost));
            items.extend(self.voucher_back(reservation));
            let failed = self.write(items).await?;
            if failed.is_empty() {
                return Ok(());
            }
            let before = lost.len();
            for i in &failed {
                match i.checked_sub(from) {
                    Some(seat) if seat < seats.len() => {
                        lost.insert(seats[seat]);
                    }
                    _ => return Err(WriteError::Refused(Refused::Changed)),
                }
            }
            if lost.len() == before {
                return Err(WriteError::Refused(Refused::Changed));
            }
        }
        Err(WriteError::Refused(Refused::Changed))
    }
}
