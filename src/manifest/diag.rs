//! Diagnostics: every problem found in a manifest repository, each naming
//! file, line, column and field, collected so validation reports all of them.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Path relative to the manifest root, `/`-separated.
    pub file: String,
    /// 1-based; 0 when the finding concerns the file as a whole.
    pub line: usize,
    /// 1-based; 0 when unknown.
    pub column: usize,
    /// Field path inside the document, e.g. `spec.tasks[0].notebook_task`; empty for the document itself.
    pub field: String,
    pub message: String,
    /// The project rule an error breaks (`destinations`, `sourcePaths`,
    /// `kinds`); `None` for any other finding. Not part of `validate`'s JSON.
    #[serde(skip)]
    pub rule: Option<&'static str>,
}

/// True for characters a terminal acts on instead of showing: C0 controls,
/// DEL, C1 controls, and the bidirectional overrides, isolates and marks
/// that reorder what a reader sees.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` safe to print on a terminal: every control or bidi character
/// written as a visible `\u{…}` escape, so a name holding `ESC [2K` or
/// U+202E cannot erase or reorder what a reviewer reads. Every text
/// printer (diagnostics, `validate`, the plan) passes untrusted strings
/// through this; JSON output is escaped by serde instead.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", printable(&self.file))?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        if self.severity == Severity::Warning {
            write!(f, ": warning")?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", printable(&self.field))?;
        }
        write!(f, ": {}", printable(&self.message))
    }
}

/// Every error found (and the warnings seen on the way). Returned by
/// [`render`](super::render()) when the repository is not valid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct Diagnostics {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl Diagnostics {
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Records an error.
    pub fn error(&mut self, at: At<'_>, message: impl Into<String>) {
        self.errors
            .push(at.diagnostic(Severity::Error, message.into()));
    }

    /// Records an error that breaks the project rule `rule`.
    pub fn violation(&mut self, at: At<'_>, rule: &'static str, message: impl Into<String>) {
        let mut d = at.diagnostic(Severity::Error, message.into());
        d.rule = Some(rule);
        self.errors.push(d);
    }

    /// Records a warning.
    pub fn warn(&mut self, at: At<'_>, message: impl Into<String>) {
        self.warnings
            .push(at.diagnostic(Severity::Warning, message.into()));
    }

    /// Sorts by file and position and drops exact repeats.
    pub fn finish(&mut self) {
        self.errors.sort();
        self.errors.dedup();
        self.warnings.sort();
        self.warnings.dedup();
    }
}

/// Where a finding points.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub field: &'a str,
}

impl<'a> At<'a> {
    pub fn new(file: &'a str, line: usize, column: usize, field: &'a str) -> Self {
        At {
            file,
            line,
            column,
            field,
        }
    }

    pub(crate) fn diagnostic(self, severity: Severity, message: String) -> Diagnostic {
        Diagnostic {
            severity,
            file: self.file.to_string(),
            line: self.line,
            column: self.column,
            field: self.field.to_string(),
            message,
            rule: None,
        }
    }
}

/// The closest candidate to `word` if it is close enough to be a typo: the
/// same word in another case or separator style, or a few edits away.
pub fn suggest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let folded = fold(word);
    let allowed = match word.chars().count() {
        0..=4 => 1,
        5..=12 => 2,
        _ => 3,
    };
    let mut best: Option<(&str, usize)> = None;
    for candidate in candidates {
        let distance = if fold(candidate) == folded {
            0
        } else {
            strsim::damerau_levenshtein(word, candidate)
        };
        if distance <= allowed && best.is_none_or(|(_, d)| distance < d) {
            best = Some((candidate, distance));
        }
    }
    best.map(|(c, _)| c)
}

fn fold(word: &str) -> String {
    word.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_column_and_field() {
        let mut d = Diagnostics::default();
        d.error(
            At::new("apps/x.yaml", 12, 7, "spec.tasks[0].notebok_task"),
            "unknown field; did you mean `notebook_task`?",
        );
        assert_eq!(
            d.to_string(),
            "apps/x.yaml:12:7: spec.tasks[0].notebok_task: unknown field; did you mean `notebook_task`?"
        );
    }

    #[test]
    fn control_and_bidi_characters_print_as_escapes() {
        assert_eq!(printable("plain name-1 é"), "plain name-1 é");
        assert_eq!(
            printable("a\x1b[2K\rb\u{202E}c\u{7f}\u{85}\u{2066}\u{200f}\n"),
            "a\\u{1b}[2K\\u{d}b\\u{202e}c\\u{7f}\\u{85}\\u{2066}\\u{200f}\\u{a}"
        );
        let mut d = Diagnostics::default();
        d.error(
            At::new("x.yaml", 1, 1, "spec.\x1b[2Kbad"),
            "unknown field `\u{202E}x`",
        );
        assert_eq!(
            d.to_string(),
            "x.yaml:1:1: spec.\\u{1b}[2Kbad: unknown field `\\u{202e}x`"
        );
    }

    #[test]
    fn suggestions_catch_typos_not_new_words() {
        let known = ["notebook_task", "max_concurrent_runs", "tags", "tasks"];
        assert_eq!(suggest("notebok_task", known), Some("notebook_task"));
        assert_eq!(
            suggest("max_concurent_runs", known),
            Some("max_concurrent_runs")
        );
        assert_eq!(suggest("budget_policy_id", known), None);
        assert_eq!(suggest("compute_environment", known), None);
        assert_eq!(
            suggest("maxConcurrentRuns", known),
            Some("max_concurrent_runs")
        );
    }
}
