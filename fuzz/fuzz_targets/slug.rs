//! Any text: a derived slug is always valid, and the slug rule accepts exactly what it documents.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workflows_domain::{MAX_SLUG_CHARS, Slug};

fuzz_target!(|text: &str| {
    let derived = Slug::derive_from(text);
    assert!(Slug::parse(derived.as_str()).is_ok(), "{derived:?} from {text:?}");
    assert_eq!(Slug::derive_from(derived.as_str()), derived, "deriving twice changes nothing");
    let valid = !text.is_empty()
        && text.chars().count() <= MAX_SLUG_CHARS
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    assert_eq!(Slug::parse(text).is_ok(), valid, "{text:?}");
});
