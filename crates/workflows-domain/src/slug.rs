//! The slug rule shared with the original front end.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest slug the `slug VARCHAR(255)` column holds.
pub const MAX_SLUG_CHARS: usize = 255;

/// What an empty derivation (a name made only of punctuation, say) becomes.
pub const FALLBACK_SLUG: &str = "workflow";

/// A slug: one or more of `[-a-zA-Z0-9_]`, at most 255 characters. Slugs are not unique.
///
/// ```
/// use workflows_domain::Slug;
/// let slug = Slug::derive_from("Data Analysis - Q4 Report - 10/13/2025, 3:45:00 PM");
/// assert_eq!(slug.as_str(), "data-analysis-q4-report-10-13-2025-3-45-00-pm");
/// assert!(Slug::parse("has space").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Slug(String);

/// Why a client-given slug was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    /// Empty input (callers usually derive a slug instead).
    #[error("This field may not be blank.")]
    Empty,
    /// Longer than [`MAX_SLUG_CHARS`].
    #[error("Ensure this field has no more than 255 characters.")]
    TooLong,
    /// A character outside `[-a-zA-Z0-9_]`.
    #[error("Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens.")]
    InvalidCharacter,
}

impl Slug {
    /// Accepts a client-given slug as it is (no case folding), or says why not.
    pub fn parse(raw: &str) -> Result<Self, SlugError> {
        if raw.is_empty() {
            return Err(SlugError::Empty);
        }
        if raw.chars().count() > MAX_SLUG_CHARS {
            return Err(SlugError::TooLong);
        }
        if !raw.chars().all(is_slug_char) {
            return Err(SlugError::InvalidCharacter);
        }
        Ok(Self(raw.to_owned()))
    }

    /// Derives a slug from a name: accents folded to ASCII, lower case, every run of characters
    /// outside `[a-z0-9]` becomes one `-`, no leading or trailing `-`, at most 255 characters;
    /// an empty result becomes [`FALLBACK_SLUG`].
    pub fn derive_from(name: &str) -> Self {
        let folded = deunicode::deunicode(name).to_ascii_lowercase();
        let mut slug = String::with_capacity(folded.len().min(MAX_SLUG_CHARS));
        let mut pending_separator = false;
        for c in folded.chars() {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                if pending_separator && !slug.is_empty() {
                    if slug.len() + 1 >= MAX_SLUG_CHARS {
                        break;
                    }
                    slug.push('-');
                }
                pending_separator = false;
                if slug.len() >= MAX_SLUG_CHARS {
                    break;
                }
                slug.push(c);
            } else {
                pending_separator = true;
            }
        }
        if slug.is_empty() {
            slug.push_str(FALLBACK_SLUG);
        }
        Self(slug)
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the slug into its text.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Wraps a slug read back from storage, which earlier writers may not have checked.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_slug_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn derives_the_original_front_end_example() {
        let slug = Slug::derive_from("Data Analysis - Q4 Report - 10/13/2025, 3:45:00 PM");
        assert_eq!(
            slug.as_str(),
            "data-analysis-q4-report-10-13-2025-3-45-00-pm"
        );
    }

    #[test]
    fn folds_accents_before_separating() {
        assert_eq!(
            Slug::derive_from("Crème Brûlée Über").as_str(),
            "creme-brulee-uber"
        );
    }

    #[test]
    fn punctuation_only_names_fall_back() {
        assert_eq!(Slug::derive_from("!!! ---").as_str(), FALLBACK_SLUG);
        assert_eq!(Slug::derive_from("").as_str(), FALLBACK_SLUG);
    }

    #[test]
    fn long_names_are_cut_without_a_trailing_dash() {
        let name = format!("{} {}", "a".repeat(254), "bcd");
        let slug = Slug::derive_from(&name);
        assert_eq!(slug.as_str(), "a".repeat(254));
        assert_eq!(
            Slug::derive_from(&"x".repeat(400)).as_str().len(),
            MAX_SLUG_CHARS
        );
    }

    #[test]
    fn parse_accepts_mixed_case_and_underscores_only_within_the_rule() {
        assert_eq!(
            Slug::parse("My_Flow-2").map(Slug::into_string),
            Ok("My_Flow-2".into())
        );
        assert_eq!(Slug::parse(""), Err(SlugError::Empty));
        assert_eq!(Slug::parse("a b"), Err(SlugError::InvalidCharacter));
        assert_eq!(Slug::parse("é"), Err(SlugError::InvalidCharacter));
        assert_eq!(Slug::parse(&"a".repeat(256)), Err(SlugError::TooLong));
        assert!(Slug::parse(&"a".repeat(255)).is_ok());
    }

    proptest! {
        #[test]
        fn any_name_derives_a_valid_slug(name in any::<String>()) {
            let slug = Slug::derive_from(&name);
            prop_assert!(Slug::parse(slug.as_str()).is_ok());
            prop_assert!(!slug.as_str().starts_with('-') && !slug.as_str().ends_with('-'));
            prop_assert!(!slug.as_str().contains("--"));
            prop_assert!(slug.as_str().chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        }

        #[test]
        fn deriving_is_idempotent(name in "[ -~]{0,300}") {
            let once = Slug::derive_from(&name);
            prop_assert_eq!(Slug::derive_from(once.as_str()), once);
        }
    }
}
