//! The time every rule reads: the machine's clock, moved by `CLOCK_OFFSET_SECONDS` (the
//! template's `ClockOffsetSeconds`, 0 unless a stage rehearses a sale at another date). The local
//! stack moves it to jump time forward (a hold's end, a sale's close, a claim's lease) instead of
//! waiting for it.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};

use crate::config::ConfigError;

static OFFSET: OnceLock<Duration> = OnceLock::new();

/// The most the clock may be moved either way: a year.
const MAX_OFFSET_SECONDS: i64 = 366 * 86_400;

/// Reads the offset from the environment, once, at init.
pub fn init() -> Result<(), ConfigError> {
    let offset = offset_from(std::env::var("CLOCK_OFFSET_SECONDS").ok().as_deref())?;
    OFFSET.get_or_init(|| offset);
    Ok(())
}

fn offset_from(value: Option<&str>) -> Result<Duration, ConfigError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(Duration::zero()),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|s| s.abs() <= MAX_OFFSET_SECONDS)
            .map(Duration::seconds)
            .ok_or_else(|| {
                ConfigError::Invalid(
                    "CLOCK_OFFSET_SECONDS",
                    format!("`{v}` is not a whole number of seconds within a year"),
                )
            }),
    }
}

/// Now, as the box office counts it.
pub fn now() -> DateTime<Utc> {
    Utc::now() + OFFSET.get().copied().unwrap_or_else(Duration::zero)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_is_whole_seconds_within_a_year() {
        assert_eq!(offset_from(None).unwrap(), Duration::zero());
        assert_eq!(offset_from(Some("")).unwrap(), Duration::zero());
        assert_eq!(offset_from(Some("-90")).unwrap(), Duration::seconds(-90));
        assert!(offset_from(Some("1.5")).is_err());
        assert!(offset_from(Some("99999999999")).is_err());
    }
}
