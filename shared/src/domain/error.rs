//! The one error a rule gives when its input is not acceptable.

/// A value that breaks a rule: which field and why, in words a client can show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Invalid {
    pub field: String,
    pub reason: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same violation seen from an enclosing field, e.g. `price` inside `sectors[1]`.
    pub fn within(self, parent: impl std::fmt::Display) -> Self {
        Self {
            field: format!("{parent}.{}", self.field),
            reason: self.reason,
        }
    }
}

/// Checks that a free-text field is present and not longer than `max` characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, Invalid> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(Invalid::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(Invalid::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("name", "  Show  ", 10).unwrap(), "Show");
        assert_eq!(
            text("name", "   ", 10).unwrap_err().reason,
            "must not be empty"
        );
        assert!(text("name", "abcdefghijk", 10).is_err());
        assert!(
            text("name", "ãããããããããã", 10).is_ok(),
            "counts characters, not bytes"
        );
    }
}
