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

/// What an organiser changes in an event: each field given replaces the event's; an absent one
/// keeps it. A description of `Some(None)` (null) or blank removes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventChanges {
    pub name: Option<String>,
    pub venue: Option<String>,
    pub category: Option<EventCategory>,
    pub description: Option<Option<String>>,
}

impl Event {
    /// Checks a new event and gives it an id.
    pub fn create(new: NewEvent, now: DateTime<Utc>) -> Result<Self, Invalid> {
        Self::checked(EventId::generate(), new, now)
    }

    /// The event with `changes` made, checked as a new event is; its id and creation time stay.
    pub fn edited(&self, changes: EventChanges) -> Result<Self, Invalid> {
        let new = NewEvent {
            name: changes.name.unwrap_or_else(|| self.name.clone()),
            venue: changes.venue.unwrap_or_else(|| self.venue.clone()),
            category: changes.category.unwrap_or(self.category),
            description: changes
                .description
                .unwrap_or_else(|| self.description.clone()),
        };
        Self::checked(self.id, new, self.created_at)
    }

    fn checked(id: EventId, new: NewEvent, created_at: DateTime<Utc>) -> Result<Self, Invalid> {
        let description = match new.description.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(text("description", d, MAX_DESCRIPTION_CHARS)?),
        };
        Ok(Self {
            id,
            name: text("name", &new.name, MAX_NAME_CHARS)?,
            venue: text("venue", &new.venue, MAX_NAME_CHARS)?,
            category: new.category,
            description,
            created_at,
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
    fn an_edit_replaces_what_it_gives_keeps_the_rest_and_is_checked() {
        let event = Event::create(
            NewEvent {
                description: Some("Samba".into()),
                ..new_event()
            },
            Utc::now(),
        )
        .unwrap();
        let edited = event
            .edited(EventChanges {
                venue: Some("  Maracanã ".into()),
                ..EventChanges::default()
            })
            .unwrap();
        assert_eq!(
            (edited.id, edited.created_at, edited.name.as_str()),
            (event.id, event.created_at, "Rock in Rio")
        );
        assert_eq!(edited.venue, "Maracanã");
        assert_eq!(edited.description.as_deref(), Some("Samba"));
        let cleared = event
            .edited(EventChanges {
                description: Some(None),
                category: Some(EventCategory::Show),
                ..EventChanges::default()
            })
            .unwrap();
        assert_eq!(
            (cleared.description, cleared.category),
            (None, EventCategory::Show)
        );
        let blank = event.edited(EventChanges {
            name: Some(" ".into()),
            ..EventChanges::default()
        });
        assert_eq!(blank.unwrap_err().field, "name");
    }

    #[test]
    fn categories_are_snake_case_words() {
        let json = serde_json::to_string(&EventCategory::Cinema).unwrap();
        assert_eq!(json, "\"cinema\"");
        assert!(serde_json::from_str::<EventCategory>("\"opera\"").is_err());
    }
}
