//! The process-wide redactor: every secret value Mortar has loaded or
//! obtained (PATs, client secrets, access tokens, federation JWTs,
//! secret-scope values) is registered here, with the forms it takes on the
//! wire (base64, JSON-escaped, form-encoded), and [`redact`] replaces them
//! with `***` in any text a server sent back, before it reaches an error.

use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};
use std::sync::{LazyLock, RwLock};

use base64::Engine;

/// Shorter values are not registered: they would shred ordinary text.
pub const MIN_LEN: usize = 6;

/// Long-lived values kept at most (oldest forgotten first).
const MAX_LONG_LIVED: usize = 4096;
/// Rotating values (access tokens, JWTs) kept at most: only recent ones can still be echoed.
const MAX_ROTATING: usize = 512;

/// What replaces a secret.
pub const MASK: &str = "***";

#[derive(Default)]
struct Bounded {
    order: VecDeque<String>,
    set: HashSet<String>,
}

impl Bounded {
    fn insert(&mut self, value: String, cap: usize) {
        if self.set.contains(&value) {
            return;
        }
        if self.order.len() >= cap
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.set.insert(value.clone());
        self.order.push_back(value);
    }
}

#[derive(Default)]
struct Registry {
    long_lived: Bounded,
    rotating: Bounded,
}

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(RwLock::default);

/// The forms a value can take in an echoed request: as is, base64
/// (standard and URL-safe, unpadded so a padded copy matches too),
/// JSON-escaped and form-encoded.
fn forms(value: &str) -> Vec<String> {
    let mut out = vec![value.to_string()];
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(value);
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value);
    out.push(b64);
    out.push(b64url);
    if let Ok(json) = serde_json::to_string(value) {
        out.push(json[1..json.len() - 1].to_string());
    }
    out.push(url::form_urlencoded::byte_serialize(value.as_bytes()).collect());
    out.retain(|f| f.len() >= MIN_LEN);
    out.sort();
    out.dedup();
    out
}

fn add(value: &str, rotating: bool) {
    if value.len() < MIN_LEN {
        return;
    }
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    for form in forms(value) {
        if rotating {
            registry.rotating.insert(form, MAX_ROTATING);
        } else {
            registry.long_lived.insert(form, MAX_LONG_LIVED);
        }
    }
}

/// Registers a long-lived secret value (a PAT, a client secret, a
/// secret-scope value). Values shorter than [`MIN_LEN`] bytes are ignored.
pub fn register(value: &str) {
    add(value, false);
}

/// Registers a value that is replaced regularly (an access token, a JWT);
/// only the most recent ones are kept.
pub fn register_rotating(value: &str) {
    add(value, true);
}

/// `text` with every registered secret (in any of its forms) replaced by `***`.
pub fn redact(text: &str) -> Cow<'_, str> {
    if text.len() < MIN_LEN {
        return Cow::Borrowed(text);
    }
    let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let mut hits: Vec<&str> = registry
        .long_lived
        .order
        .iter()
        .chain(registry.rotating.order.iter())
        .map(String::as_str)
        .filter(|needle| text.contains(needle))
        .collect();
    if hits.is_empty() {
        return Cow::Borrowed(text);
    }
    // Longest first, so a value inside a longer one does not leave a remainder.
    hits.sort_by_key(|h| std::cmp::Reverse(h.len()));
    let mut out = text.to_string();
    for hit in hits {
        out = out.replace(hit, MASK);
    }
    Cow::Owned(out)
}

/// [`redact`] into an owned string.
pub fn redacted(text: &str) -> String {
    redact(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_and_their_encodings_are_masked() {
        register("s3cr3t-value/+\"x");
        let b64 = base64::engine::general_purpose::STANDARD.encode("s3cr3t-value/+\"x");
        let text = format!(
            "echo: s3cr3t-value/+\"x; b64 {b64}; json {}; form {}",
            r#"s3cr3t-value/+\"x"#, "s3cr3t-value%2F%2B%22x"
        );
        let out = redact(&text);
        assert!(!out.contains("s3cr3t"), "{out}");
        assert!(!out.contains(&b64[..20]), "{out}");
        assert!(out.contains("echo: ***"), "{out}");
    }

    #[test]
    fn short_values_and_clean_text_are_left_alone() {
        register("abc");
        assert!(matches!(redact("abc abc abc"), Cow::Borrowed(_)));
        assert!(matches!(
            redact("nothing secret in here at all"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn rotating_values_are_bounded() {
        for i in 0..(MAX_ROTATING + 10) {
            register_rotating(&format!("rotating-token-{i:06}"));
        }
        let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
        assert!(registry.rotating.order.len() <= MAX_ROTATING);
        assert_eq!(registry.rotating.order.len(), registry.rotating.set.len());
        drop(registry);
        // The newest is still masked.
        let newest = format!("rotating-token-{:06}", MAX_ROTATING + 9);
        assert_eq!(redact(&format!("t={newest}")), "t=***");
    }
}
