//! Vouchers in DynamoDB: one item per code in its event's partition, counting its uses, and one
//! item per customer and code counting theirs. A use is taken and given back inside the
//! transaction that changes the reservation holding it (`apply_voucher`, the expiry, the
//! cancellation, a late payment's confirmation), so that a code's count is always the number of
//! reservations holding or having paid with it.

use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    DynamoStore, Refused, StoreError, WriteError,
    dynamo::data,
    item::Item,
    keys,
    reservations::{attribute, status},
    transact::{Change, n, s},
};
use crate::domain::{
    AppliedVoucher, EventId, Reservation, ReservationStatus, Voucher, VoucherCode,
};

/// A customer's uses of one code.
#[derive(Debug, Serialize, Deserialize)]
pub struct VoucherUse {
    pub event_id: EventId,
    pub code: VoucherCode,
    pub customer: String,
    pub uses: i64,
}

pub trait Vouchers: Sync {
    /// Creates a code; `false` if the event has one by that code already.
    fn create_voucher(
        &self,
        voucher: &Voucher,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn voucher(
        &self,
        event: EventId,
        code: &VoucherCode,
    ) -> impl Future<Output = Result<Option<Voucher>, StoreError>> + Send;
    /// An event's codes, by code.
    fn vouchers(
        &self,
        event: EventId,
    ) -> impl Future<Output = Result<Vec<Voucher>, StoreError>> + Send;
    /// Writes an organiser's change of `before` (`after`'s limits, window and state); `false`
    /// if it changed meanwhile or was used more than `after` allows.
    fn change_voucher(
        &self,
        before: &Voucher,
        after: &Voucher,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// A held reservation takes `applied` (read as `voucher`), giving back the code it had, in
    /// one transaction with the code's and the customer's uses. Refused `VoucherUsedUp` when
    /// the code has no use left or changed since it was read, `VoucherLimit` when the customer
    /// has used it as often as they may.
    fn apply_voucher(
        &self,
        reservation: &Reservation,
        voucher: &Voucher,
        applied: AppliedVoucher,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Reservation, WriteError>> + Send;
    /// A held reservation gives its code back.
    fn remove_voucher(
        &self,
        reservation: &Reservation,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Reservation, WriteError>> + Send;
}

impl DynamoStore {
    fn voucher_change(&self, event: EventId, code: &VoucherCode) -> Change {
        Change::on(&self.table, keys::event(event), &keys::voucher_sk(code)).name("#uses", "uses")
    }

    fn voucher_use_change(&self, reservation: &Reservation, code: &VoucherCode) -> Change {
        Change::on(
            &self.table,
            keys::voucher_use(reservation.event_id, code, &reservation.customer),
            keys::VOUCHER_USE_SK,
        )
        .name("#uses", "uses")
    }

    /// The reservation's code given back: one use less on the code and on the customer's count.
    pub(super) fn voucher_back(&self, reservation: &Reservation) -> Vec<Change> {
        let Some(v) = &reservation.voucher else {
            return Vec::new();
        };
        [
            self.voucher_change(reservation.event_id, &v.code),
            self.voucher_use_change(reservation, &v.code),
        ]
        .into_iter()
        .map(|c| c.set("ADD #uses :minus").value(":minus", n(-1)))
        .collect()
    }

    /// The reservation's code taken (again, after its hold lapsed): the code's uses and the
    /// customer's, each within its limit, with what a failure of each means.
    /// With the code `as_read` (applying it now), also only while the code is as it was read
    /// and active: an organiser's change since is read again.
    pub(super) fn voucher_taken(
        &self,
        reservation: &Reservation,
        as_read: Option<&Voucher>,
    ) -> Vec<(Change, Refused)> {
        let Some(v) = &reservation.voucher else {
            return Vec::new();
        };
        let code = self
            .voucher_change(reservation.event_id, &v.code)
            .set("ADD #uses :one")
            .value(":one", n(1));
        let code = match as_read {
            Some(read) => code
                .when("version = :vv AND active = :yes AND #uses < max_uses")
                .value(":vv", n(read.version))
                .value(":yes", AttributeValue::Bool(true)),
            None => code.when("#uses < max_uses"),
        };
        vec![
            (code, Refused::VoucherUsedUp),
            (
                self.voucher_use_change(reservation, &v.code)
                    .set(
                        "SET event_id = :event, #code = :code, customer = :customer ADD #uses :one",
                    )
                    .when("attribute_not_exists(#uses) OR #uses < :per")
                    .name("#code", "code")
                    .value(":event", s(reservation.event_id.to_string()))
                    .value(":code", s(v.code.as_str()))
                    .value(":customer", s(&reservation.customer))
                    .value(":per", n(v.max_per_customer))
                    .value(":one", n(1)),
                Refused::VoucherLimit,
            ),
        ]
    }

    /// The reservation's own change while it is held and within its hold time.
    fn held_change(
        &self,
        reservation: &Reservation,
        now: DateTime<Utc>,
    ) -> Result<Change, StoreError> {
        Ok(self
            .reservation_change(reservation)
            .when("version = :v AND #status = :held AND hold_expires_at >= :now")
            .value(":held", status(ReservationStatus::Held)?)
            .value(":now", n(now.timestamp())))
    }
}

impl Vouchers for DynamoStore {
    async fn create_voucher(&self, voucher: &Voucher) -> Result<bool, StoreError> {
        let item = Item::new(
            keys::event(voucher.event_id),
            keys::voucher_sk(&voucher.code),
            voucher,
        );
        match self.create(&item).await {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn voucher(
        &self,
        event: EventId,
        code: &VoucherCode,
    ) -> Result<Option<Voucher>, StoreError> {
        self.get(keys::event(event), &keys::voucher_sk(code)).await
    }

    async fn vouchers(&self, event: EventId) -> Result<Vec<Voucher>, StoreError> {
        data(
            self.query_prefix(keys::event(event), keys::VOUCHER_PREFIX)
                .await?,
        )
    }

    async fn change_voucher(&self, before: &Voucher, after: &Voucher) -> Result<bool, StoreError> {
        let mut set: Vec<String> = [
            "max_uses = :max",
            "max_per_customer = :per",
            "active = :active",
            "version = :next",
        ]
        .map(str::to_owned)
        .to_vec();
        let mut remove = Vec::new();
        let mut change = self
            .voucher_change(before.event_id, &before.code)
            .when("version = :v AND #uses <= :max")
            .value(":v", n(before.version))
            .value(":next", n(after.version))
            .value(":max", n(after.max_uses))
            .value(":per", n(after.max_per_customer))
            .value(":active", AttributeValue::Bool(after.active));
        for (name, placeholder, at) in [
            ("valid_from", ":from", after.valid_from),
            ("valid_until", ":until", after.valid_until),
        ] {
            match at {
                Some(at) => {
                    set.push(format!("{name} = {placeholder}"));
                    change = change.value(placeholder, attribute(&at)?);
                }
                None => remove.push(name),
            }
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression += &format!(" REMOVE {}", remove.join(", "));
        }
        change.set(&expression).apply(&self.client).await
    }

    async fn apply_voucher(
        &self,
        reservation: &Reservation,
        voucher: &Voucher,
        applied: AppliedVoucher,
        now: DateTime<Utc>,
    ) -> Result<Reservation, WriteError> {
        let updated = Reservation {
            voucher: Some(applied.clone()),
            ..Self::updated(reservation, ReservationStatus::Held)
        };
        let mut items = vec![
            self.held_change(reservation, now)?
                .set("SET voucher = :applied, version = version + :one")
                .value(":applied", attribute(&applied)?),
        ];
        let taken_from = items.len();
        let (taken, reasons): (Vec<Change>, Vec<Refused>) = self
            .voucher_taken(&updated, Some(voucher))
            .into_iter()
            .unzip();
        items.extend(taken);
        items.extend(self.voucher_back(reservation));
        let failed = self.write(items).await?;
        if failed.is_empty() {
            return Ok(updated);
        }
        if failed.contains(&0) {
            return Err(WriteError::Refused(Refused::Changed));
        }
        Err(WriteError::Refused(
            failed
                .iter()
                .find_map(|i| reasons.get(i.checked_sub(taken_from)?).cloned())
                .unwrap_or(Refused::Changed),
        ))
    }

    async fn remove_voucher(
        &self,
        reservation: &Reservation,
        now: DateTime<Utc>,
    ) -> Result<Reservation, WriteError> {
        let mut items = vec![
            self.held_change(reservation, now)?
                .set("SET version = version + :one REMOVE voucher"),
        ];
        items.extend(self.voucher_back(reservation));
        if !self.write(items).await?.is_empty() {
            return Err(WriteError::Refused(Refused::Changed));
        }
        Ok(Reservation {
            voucher: None,
            ..Self::updated(reservation, ReservationStatus::Held)
        })
    }
}
