//! Bringing what already exists into Mortar. [`bundle`] reads a
//! Databricks Asset Bundle and gives, for one of its targets, the create
//! bodies `databricks bundle deploy` would send, as Mortar resources, with
//! everything it could not take in listed by file and line. [`workspace`]
//! reads a live workspace and gives its objects as manifests that adopt
//! them. [`write`] lays either out as files of a manifest repository.

pub mod bundle;
pub mod workspace;
pub mod write;

/// `text` in lower case with each run of other characters than ASCII
/// letters and digits as one `separator`, none at either end: a name
/// Databricks or Mortar accepts.
pub fn joined_words(text: &str, separator: char) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with(separator) {
            out.push(separator);
        }
    }
    out.trim_end_matches(separator).to_string()
}
