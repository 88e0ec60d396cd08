//! The conservation audit (DESIGN.md §10) finds nothing in a table the store kept, and names
//! every item a corruption touched, as a library call and as `local audit`.

mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use bilheteria::{
    domain::{Discount, Invoice, MethodKind, NewVoucher, Voucher, reservation::PaymentRecord},
    store::{Audit, Reservations, Vouchers},
};
use chrono::Utc;
use support::{EVENT_ID, PRODUCT_ID, SESSION_ID, Seeder, Stack, sales};

const HELD: &str = "01JF000000000000000000RS01";
const PAID: &str = "01JF000000000000000000RS02";

/// A session with a held reservation (two seats, a place, two popcorn) and a confirmed one.
async fn sold(stack: &Stack) {
    let seeder = Seeder(&stack.store);
    let event = seeder.event(EVENT_ID).await;
    let session = seeder.session(event.id, SESSION_ID, 4, 5).await;
    let popcorn = seeder.product(event.id, PRODUCT_ID, Some(10)).await;
    let held = seeder
        .held(
            &session,
            HELD,
            "ana",
            &[("plateia", "A-1"), ("plateia", "A-2")],
            &[("pista", 1)],
        )
        .await;
    let lines = held
        .with_products(vec![(popcorn.id, 2)], std::slice::from_ref(&popcorn))
        .unwrap();
    let counted = [popcorn.id].into_iter().collect();
    let held = stack
        .store
        .set_products(&held, lines, &counted, Utc::now())
        .await
        .unwrap();
    // Ana's hold takes a promo code.
    let code = Voucher::create(
        event.id,
        NewVoucher {
            code: "AUDIT10".into(),
            discount: Discount::Percent(10),
            sectors: vec![],
            valid_from: None,
            valid_until: None,
            max_uses: 5,
            max_per_customer: None,
        },
        Utc::now(),
    )
    .unwrap();
    assert!(stack.store.create_voucher(&code).await.unwrap());
    let applied = code.apply_to(&held, Utc::now()).unwrap();
    stack
        .store
        .apply_voucher(&held, &code, applied, Utc::now())
        .await
        .unwrap();
    let paid = seeder
        .held(&session, PAID, "bia", &[("plateia", "B-3")], &[])
        .await;
    let now = Utc::now();
    let amount = paid.total().unwrap();
    let payment = PaymentRecord {
        id: "pay_audit".into(),
        method: MethodKind::Card,
        amount,
        instructions: None,
    };
    let tickets = support::signer().issue(&paid, now);
    let invoice = Invoice::for_reservation(&paid, &sales().seller, amount, MethodKind::Card, now);
    stack
        .store
        .confirm(&paid, payment, &tickets, &invoice, &Default::default(), now)
        .await
        .unwrap();
}

async fn set(stack: &Stack, pk: &str, sk: &str, update: &str, value: AttributeValue) {
    stack
        .client
        .update_item()
        .table_name(support::TABLE)
        .key("PK", AttributeValue::S(pk.into()))
        .key("SK", AttributeValue::S(sk.into()))
        .update_expression(update)
        .expression_attribute_values(":v", value)
        .send()
        .await
        .unwrap();
}

fn named(audit: &Audit, rule: &str, item: &str) -> bool {
    audit
        .violations
        .iter()
        .any(|v| v.rule == rule && v.items.iter().any(|i| i == item))
}

#[tokio::test]
async fn the_audit_finds_nothing_in_a_table_the_store_kept_and_names_each_corrupted_item() {
    let stack = Stack::start().await;
    sold(&stack).await;
    let clean = stack.store.audit(Utc::now()).await.unwrap();
    assert!(clean.violations.is_empty(), "{clean}");
    assert_eq!((clean.sessions, clean.reservations), (1, 2));

    let sector = |code: &str| format!("SESSION#{SESSION_ID}#SECTOR#{code}");
    let n = |v: i64| AttributeValue::N(v.to_string());
    // A-1's block of rows, the partition its seat is kept in.
    let seats = format!("{}#SEATS#000", sector("plateia"));
    // A place appears from nowhere, a seat forgets its hold, a count and a stock drift, a sold
    // seat's reservation loses its invoice, and a reservation cannot be read.
    set(&stack, &sector("pista"), "STOCK", "ADD available :v", n(1)).await;
    stack
        .client
        .update_item()
        .table_name(support::TABLE)
        .key("PK", AttributeValue::S(seats.clone()))
        .key("SK", AttributeValue::S("SEAT#000#001".into()))
        .update_expression("SET #s = :v")
        .expression_attribute_names("#s", "state")
        .expression_attribute_values(":v", AttributeValue::S("FREE".into()))
        .send()
        .await
        .unwrap();
    let limit = format!("SESSION#{SESSION_ID}#CUSTOMER#ana");
    set(&stack, &limit, "LIMIT", "ADD tickets :v", n(1)).await;
    let product = format!("PRODUCT#{PRODUCT_ID}");
    set(&stack, &product, "PRODUCT", "ADD stock :v", n(-1)).await;
    stack
        .client
        .delete_item()
        .table_name(support::TABLE)
        .key("PK", AttributeValue::S(format!("RESERVATION#{PAID}")))
        .key("SK", AttributeValue::S("INVOICE".into()))
        .send()
        .await
        .unwrap();

    // A free seat kept under the sector's own key instead of its block's, and a seat the layout
    // does not have (row Z of four rows).
    for (pk, sk, label) in [
        (sector("plateia"), "SEAT#003#005", "D-5"),
        (seats.clone(), "SEAT#025#001", "Z-1"),
    ] {
        stack
            .client
            .put_item()
            .table_name(support::TABLE)
            .item("PK", AttributeValue::S(pk))
            .item("SK", AttributeValue::S(sk.into()))
            .item("seat", AttributeValue::S(label.into()))
            .item("state", AttributeValue::S("FREE".into()))
            .send()
            .await
            .unwrap();
    }

    // The door counts an entry nobody made, and revokes a ticket of a sale still confirmed.
    set(&stack, &sector("plateia"), "STOCK", "ADD entered :v", n(1)).await;
    let revoked = bilheteria::domain::TicketId::generate();
    stack
        .client
        .put_item()
        .table_name(support::TABLE)
        .item("PK", AttributeValue::S(format!("TICKET#{revoked}")))
        .item("SK", AttributeValue::S("DOOR".into()))
        .item("state", AttributeValue::S("REVOKED".into()))
        .item("ticket", AttributeValue::S(revoked.to_string()))
        .item("session", AttributeValue::S(SESSION_ID.into()))
        .item("reservation", AttributeValue::S(PAID.into()))
        .item("at", AttributeValue::S("2026-12-06T12:00:00Z".into()))
        .send()
        .await
        .unwrap();

    // A code counts a use nobody made, and ana's count of it one too few.
    let voucher = format!("EVENT#{EVENT_ID}");
    set(&stack, &voucher, "VOUCHER#AUDIT10", "ADD uses :v", n(1)).await;
    let ana_uses = format!("EVENT#{EVENT_ID}#VOUCHER#AUDIT10#CUSTOMER#ana");
    set(&stack, &ana_uses, "VOUCHER_USE", "ADD uses :v", n(-1)).await;

    let audit = stack.store.audit(Utc::now()).await.unwrap();
    let seat = format!("{seats} / SEAT#000#001");
    for (rule, item) in [
        ("places", format!("{} / STOCK", sector("pista"))),
        ("seat", seat),
        ("seat", format!("{} / SEAT#003#005", sector("plateia"))),
        ("seat", sector("plateia")),
        ("customer count", format!("{limit} / LIMIT")),
        ("stock", format!("{product} / PRODUCT")),
        ("invoice", format!("RESERVATION#{PAID} / RESERVATION")),
        ("sales view", format!("{} / STOCK", sector("plateia"))),
        ("door", format!("TICKET#{revoked} / DOOR")),
        ("voucher", format!("{voucher} / VOUCHER#AUDIT10")),
        ("voucher", format!("{ana_uses} / VOUCHER_USE")),
    ] {
        assert!(named(&audit, rule, &item), "{rule} names {item}:\n{audit}");
    }

    set(
        &stack,
        &format!("RESERVATION#{HELD}"),
        "RESERVATION",
        "SET seats = :v",
        AttributeValue::S("not a list".into()),
    )
    .await;
    let audit = stack.store.audit(Utc::now()).await.unwrap();
    assert!(
        named(
            &audit,
            "unreadable",
            &format!("RESERVATION#{HELD} / RESERVATION")
        ),
        "{audit}"
    );

    let local = local::template::repository_root().join("target/debug/local");
    let run = tokio::process::Command::new(local)
        .args([
            "audit",
            "--dynamodb",
            stack.dynamodb.endpoint(),
            "--session",
            SESSION_ID,
        ])
        .output()
        .await
        .unwrap();
    let printed = String::from_utf8_lossy(&run.stdout);
    assert!(!run.status.success(), "`local audit` fails on violations");
    assert!(
        printed.contains(&format!("{limit} / LIMIT"))
            && printed.contains(&format!("RESERVATION#{HELD} / RESERVATION")),
        "`local audit` prints the items: {printed}"
    );
}
