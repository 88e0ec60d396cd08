//! The AWS calls each function's binary makes, as IAM authorises them: one action on one
//! resource each (a transaction is authorised item by item, `PutItem`, `UpdateItem`,
//! `ConditionCheckItem`; a query on an index needs the index). The store (`store`), the queue
//! (`queue`), the bus (`bus`) and the secrets (`secrets`) are the adapters that make them.
//!
//! A test checks every function's role in `template.yaml` against this table both ways: each call
//! here is granted, and nothing is granted that no call here needs. Every journey run on the local
//! stack checks that what the functions did is in it. Adding a call to an adapter without adding
//! it here, and granting it in the template, fails a test.
//!
//! Resources are named by their logical id in the template. The event source mappings' own reads
//! (a queue's `ReceiveMessage`, a stream's `GetRecords`) are Lambda's, not the binary's: SAM grants
//! them with the managed policy it attaches for the event.

/// What a call is made on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum On {
    /// The table itself (`Table`).
    Table,
    /// One of the table's global secondary indexes.
    Index(&'static str),
    /// A queue, by logical id.
    Queue(&'static str),
    /// An event bus, by logical id, and the `source` of what is put on it.
    Bus(&'static str, &'static str),
    /// A Secrets Manager secret, by logical id.
    Secret(&'static str),
}

/// One action on one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    pub action: &'static str,
    pub on: On,
}

const fn on_table(action: &'static str) -> Call {
    Call {
        action,
        on: On::Table,
    }
}

const QUERY_GSI1: Call = Call {
    action: "dynamodb:Query",
    on: On::Index("GSI1"),
};
const GET: Call = on_table("dynamodb:GetItem");
const PUT: Call = on_table("dynamodb:PutItem");
const UPDATE: Call = on_table("dynamodb:UpdateItem");
const CHECK: Call = on_table("dynamodb:ConditionCheckItem");
const QUERY: Call = on_table("dynamodb:Query");
const BATCH_GET: Call = on_table("dynamodb:BatchGetItem");
const READ_TICKET_KEY: Call = Call {
    action: "secretsmanager:GetSecretValue",
    on: On::Secret("TicketSigningKey"),
};

/// The calls of each function's binary (its crate name).
pub const FUNCTIONS: &[(&str, &[Call])] = &[
    ("create-event", &[PUT]),
    ("update-event", &[GET, PUT]),
    (
        "create-session",
        &[GET, PUT, on_table("dynamodb:BatchWriteItem")],
    ),
    ("create-product", &[GET, PUT]),
    ("create-voucher", &[GET, PUT, QUERY_GSI1]),
    ("list-vouchers", &[GET, QUERY]),
    ("change-voucher", &[GET, UPDATE]),
    ("apply-voucher", &[GET, UPDATE]),
    ("remove-voucher", &[GET, UPDATE]),
    ("join-waitlist", &[GET, BATCH_GET, PUT, UPDATE, QUERY_GSI1]),
    ("get-waitlist", &[GET, QUERY_GSI1]),
    ("leave-waitlist", &[GET, PUT, UPDATE, QUERY_GSI1]),
    ("offer-waitlist", &[GET, PUT, UPDATE, QUERY_GSI1]),
    ("list-events", &[QUERY_GSI1]),
    ("get-event", &[GET, QUERY_GSI1]),
    ("get-session", &[GET, BATCH_GET]),
    ("get-seat-map", &[GET, BATCH_GET, QUERY]),
    ("list-products", &[GET, QUERY_GSI1]),
    ("get-product", &[GET]),
    (
        "hold-seats",
        &[GET, BATCH_GET, PUT, UPDATE, CHECK, QUERY_GSI1],
    ),
    ("set-products", &[GET, UPDATE, CHECK, QUERY_GSI1]),
    (
        "checkout",
        &[
            GET,
            BATCH_GET,
            PUT,
            UPDATE,
            CHECK,
            QUERY,
            QUERY_GSI1,
            READ_TICKET_KEY,
        ],
    ),
    (
        "cancel-reservation",
        &[GET, BATCH_GET, UPDATE, CHECK, QUERY_GSI1],
    ),
    ("get-reservation", &[GET, QUERY]),
    ("list-my-reservations", &[QUERY_GSI1]),
    ("list-my-tickets", &[QUERY_GSI1]),
    ("get-invoice", &[GET]),
    (
        "request-tickets",
        &[
            GET,
            BATCH_GET,
            PUT,
            UPDATE,
            Call {
                action: "sqs:SendMessage",
                on: On::Queue("RequestsQueue"),
            },
        ],
    ),
    (
        "process-requests",
        &[GET, BATCH_GET, PUT, UPDATE, CHECK, QUERY],
    ),
    ("reject-dead-requests", &[PUT, UPDATE]),
    (
        "announce-changes",
        &[
            GET,
            PUT,
            UPDATE,
            Call {
                action: "events:PutEvents",
                on: On::Bus("EventBus", crate::bus::SOURCE),
            },
        ],
    ),
    ("get-request", &[GET]),
    ("get-sales", &[GET, BATCH_GET]),
    ("check-in", &[PUT, UPDATE, QUERY]),
    ("get-checkin-kit", &[GET, QUERY, QUERY_GSI1]),
    ("list-checkin-conflicts", &[GET, QUERY]),
    ("get-sales-timeline", &[GET, QUERY]),
    (
        "get-sales-queue",
        &[
            GET,
            Call {
                action: "dynamodb:Query",
                on: On::Index("GSI2"),
            },
            Call {
                action: "sqs:GetQueueAttributes",
                on: On::Queue("RequestsQueue"),
            },
        ],
    ),
    ("list-customer-reservations", &[QUERY_GSI1]),
    ("get-reservation-history", &[GET, QUERY]),
    ("mark-refunded", &[GET, UPDATE]),
    (
        "cancel-sale",
        &[
            GET,
            BATCH_GET,
            QUERY,
            QUERY_GSI1,
            UPDATE,
            PUT,
            on_table("dynamodb:DeleteItem"),
        ],
    ),
    (
        "export-attendees",
        &[
            GET,
            Call {
                action: "dynamodb:Query",
                on: On::Index("GSI2"),
            },
        ],
    ),
    (
        "expire-holds",
        &[
            GET,
            BATCH_GET,
            UPDATE,
            CHECK,
            QUERY_GSI1,
            Call {
                action: "dynamodb:Query",
                on: On::Index("GSI2"),
            },
        ],
    ),
    (
        "payment-webhook",
        &[
            GET,
            BATCH_GET,
            PUT,
            UPDATE,
            CHECK,
            QUERY,
            QUERY_GSI1,
            READ_TICKET_KEY,
            Call {
                action: "secretsmanager:GetSecretValue",
                on: On::Secret("PaymentWebhookSecret"),
            },
        ],
    ),
];

/// The calls `function`'s binary makes, if it is one of the box office's.
pub fn of(function: &str) -> Option<&'static [Call]> {
    FUNCTIONS
        .iter()
        .find(|(name, _)| *name == function)
        .map(|(_, calls)| *calls)
}
