//! Pure rules and types of the box office: no AWS, no I/O.

pub mod error;
pub mod event;
pub mod ids;
pub mod money;
pub mod product;
pub mod seat;
pub mod sector;
pub mod session;

pub use error::Invalid;
pub use event::{Event, EventCategory, NewEvent};
pub use ids::{EventId, ProductId, ReservationId, SessionId};
pub use money::{Currency, Money};
pub use product::{NewProduct, Product, ProductCategory};
pub use seat::{Seat, SeatLabel, SeatState};
pub use sector::{Sector, SectorCode, SectorLayout};
pub use session::{NewSession, SaleWindow, Session};
