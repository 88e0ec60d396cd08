//! Pure rules and types of the box office: no AWS, no I/O.

pub mod allocation;
pub mod checkin;
pub mod error;
pub mod event;
pub mod ids;
pub mod invoice;
pub mod line;
pub mod money;
pub mod payment;
pub mod product;
pub mod request;
pub mod reservation;
pub mod seat;
pub mod seat_map;
pub mod sector;
pub mod session;
pub mod stock;
pub mod ticket;
pub mod timeline;
pub mod voucher;
pub mod waitlist;

pub use checkin::{Conflict, Entry, Scan, Verdict};
pub use error::Invalid;
pub use event::{Event, EventCategory, EventChanges, NewEvent};
pub use ids::{EventId, ProductId, RequestId, ReservationId, SessionId, TicketId};
pub use invoice::{Invoice, Party};
pub use line::{Line, Position};
pub use money::{Currency, Money};
pub use payment::{Charge, MethodKind, PaymentMethod, PaymentProvider};
pub use product::{NewProduct, Product, ProductCategory};
pub use request::{RejectReason, RequestRecord, RequestStatus, TicketRequest};
pub use reservation::{
    HoldError, LineItem, PlaceTickets, ProductLine, Reservation, ReservationStatus, SeatTicket,
};
pub use seat::{Seat, SeatLabel, SeatState};
pub use sector::{Sector, SectorCode, SectorLayout};
pub use session::{NewSession, SaleMode, SaleWindow, Session};
pub use ticket::{Admission, CodeError, DoorKey, DoorKeys, Ticket, TicketSigner};
pub use timeline::{HistoryEntry, Minute, Step, Tally};
pub use voucher::{AppliedVoucher, Discount, NewVoucher, Voucher, VoucherChanges, VoucherCode};
pub use waitlist::{EntryStatus, WaitlistEntry};
