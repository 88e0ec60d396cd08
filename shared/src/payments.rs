//! The payment provider the box office ships with: a simulator that behaves like a real
//! acquirer, deterministically. Cards settle at once unless they are one of the documented test
//! numbers; PIX and boleto are issued and settle later through the signed webhook.

use crate::domain::{
    Charge, Money, PaymentMethod, PaymentProvider, Reservation, payment::ProviderUnavailable,
};

/// Declined: "card_declined".
pub const DECLINED_CARD: &str = "4000000000000002";
/// Declined: "insufficient_funds".
pub const INSUFFICIENT_FUNDS_CARD: &str = "4000000000009995";
/// The acquirer does not answer: the charge fails without a decision (nothing is charged).
pub const UNANSWERED_CARD: &str = "4000000000000119";
/// Approved, after the acquirer takes [`SLOW_CARD_SECONDS`] to answer.
pub const SLOW_CARD: &str = "4000000000000077";
pub const SLOW_CARD_SECONDS: u64 = 3;

#[derive(Clone, Copy, Debug, Default)]
pub struct SimulatedProvider;

impl PaymentProvider for SimulatedProvider {
    async fn charge(
        &self,
        payment_id: &str,
        reservation: &Reservation,
        amount: Money,
        method: &PaymentMethod,
    ) -> Result<Charge, ProviderUnavailable> {
        let payment_id = payment_id.to_owned();
        if matches!(method, PaymentMethod::Card { number } if number == SLOW_CARD) {
            tokio::time::sleep(std::time::Duration::from_secs(SLOW_CARD_SECONDS)).await;
        }
        if matches!(method, PaymentMethod::Card { number } if number == UNANSWERED_CARD) {
            return Err(ProviderUnavailable("the acquirer did not answer".into()));
        }
        Ok(match method {
            PaymentMethod::Card { number } if number == DECLINED_CARD => Charge::Declined {
                payment_id,
                reason: "card_declined".into(),
            },
            PaymentMethod::Card { number } if number == INSUFFICIENT_FUNDS_CARD => {
                Charge::Declined {
                    payment_id,
                    reason: "insufficient_funds".into(),
                }
            }
            PaymentMethod::Card { .. } => Charge::Approved { payment_id },
            PaymentMethod::Pix => Charge::Pending {
                instructions: format!(
                    "00020126580014br.gov.bcb.pix0136{}5204000053039865406{:.2}5802BR5910BILHETERIA6009SAO PAULO",
                    &payment_id,
                    amount.cents as f64 / 100.0
                ),
                expires_at: reservation.expires_at,
                payment_id,
            },
            PaymentMethod::Boleto => Charge::Pending {
                instructions: boleto_line(amount, reservation),
                expires_at: reservation.expires_at,
                payment_id,
            },
        })
    }
}

/// A 47-digit digitable line carrying the amount, as a boleto's does.
fn boleto_line(amount: Money, reservation: &Reservation) -> String {
    let reference = reservation.id.spread() % 10u128.pow(25);
    format!("23790{reference:025}1{:016}", amount.cents.max(0))
}
