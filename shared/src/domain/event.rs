//! An event: what people buy tickets for, at a venue, with one or more sessions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{EventId, Invalid, error::text};

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 5_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventCategory {
    Show,
    Game,
    Cinema,
    Festival,
    Other,
}

/// What an organiser asks for when creating an event, before it is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    pub name: String,
    pub venue: String,
    pub category: EventCategory,
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub name: String,
    pub venue: String,
    pub category: EventCategory,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Event {
    /// Checks a new event and gives it an id.
    pub fn create(new: NewEvent, now: DateTime<Utc>) -> Result<Self, Invalid> {
        let description = match new.description.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(text("description", d, MAX_DESCRIPTION_CHARS)?),
        };
        Ok(Self {
            id: EventId::generate(),
            name: text("name", &new.name, MAX_NAME_CHARS)?,
            venue: text("venue", &new.venue, MAX_NAME_CHARS)?,
            category: new.category,
            description,
            created_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_event() -> NewEvent {
        NewEvent {
            name: "Rock in Rio".into(),
            venue: "Parque Olímpico".into(),
            category: EventCategory::Festival,
            description: Some("  ".into()),
        }
    }

    #[test]
    fn a_valid_event_gets_an_id_and_drops_a_blank_description() {
        let event = Event::create(new_event(), Utc::now()).unwrap();
        assert_eq!(event.name, "Rock in Rio");
        assert_eq!(event.description, None);
    }

    #[test]
    fn an_event_needs_a_name_and_a_venue() {
        let err = Event::create(
            NewEvent {
                name: " ".into(),
                ..new_event()
            },
            Utc::now(),
        );
        assert_eq!(err.unwrap_err().field, "name");
        let err = Event::create(
            NewEvent {
                venue: String::new(),
                ..new_event()
            },
            Utc::now(),
        );
        assert_eq!(err.unwrap_err().field, "venue");
    }

    #[test]
    fn categories_are_snake_case_words() {
        let json = serde_json::to_string(&EventCategory::Cinema).unwrap();
        assert_eq!(json, "\"cinema\"");
        assert!(serde_json::from_str::<EventCategory>("\"opera\"").is_err());
    }
}
