//! Unit tests of the policies themselves, as OPA and conftest run them:
//! every rule named `test_*` in a `*_test.rego` file must be true. Tests
//! feed fixtures through `with input as {...}`; they see every policy and
//! every test file.

use super::library::{PolicySet, TEST_SUFFIX, located, new_engine};

/// One test rule's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    pub file: String,
    pub line: usize,
    /// `package.rule`.
    pub name: String,
    /// `None` when it passed; why not otherwise.
    pub failure: Option<String>,
}

/// Runs every `test_*` rule of the set's test files, in file order.
pub fn run_tests(set: &PolicySet) -> Vec<TestOutcome> {
    let mut engine = new_engine();
    for file in set.files() {
        // Every file parsed when the set was loaded.
        let _ = engine.add_policy(file.path.clone(), file.text.clone());
    }
    let mut out = Vec::new();
    for file in set.files().iter().filter(|f| f.path.ends_with(TEST_SUFFIX)) {
        for (line, rule) in test_rules(&file.text) {
            let name = format!("{}.{rule}", file.package);
            let failure = match engine.eval_query(format!("data.{name}"), false) {
                Ok(results) => {
                    let values: Vec<_> = results
                        .result
                        .iter()
                        .flat_map(|r| &r.expressions)
                        .map(|e| e.value.clone())
                        .collect();
                    match values.as_slice() {
                        [v] if *v == regorus::Value::from(true) => None,
                        [] => Some("undefined: a condition of the test does not hold".into()),
                        other => Some(format!(
                            "gave {}",
                            other
                                .iter()
                                .map(|v| v.to_json_str().unwrap_or_default())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    }
                }
                Err(e) => Some(located(&e.to_string(), &file.path).2),
            };
            out.push(TestOutcome {
                file: file.path.clone(),
                line,
                name,
                failure,
            });
        }
    }
    out
}

/// The `test_*` rules a file defines at its top level, with their lines,
/// each once (a rule may have several bodies).
fn test_rules(text: &str) -> Vec<(usize, String)> {
    let mut rules: Vec<(usize, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(rest) = line.strip_prefix("test_") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let name = format!("test_{name}");
        if !rules.iter().any(|(_, r)| *r == name) {
            rules.push((i + 1, name));
        }
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_rules_pass_fail_and_error_apart() {
        let set = PolicySet::from_texts(&[
            (
                "policies/size.rego",
                "package size\nimport rego.v1\ndeny contains \"too big\" if input.n > 2\n",
            ),
            (
                "policies/size_test.rego",
                "package size_test\nimport rego.v1\nimport data.size\n\
                 test_big_is_denied if { size.deny == {\"too big\"} with input as {\"n\": 3} }\n\
                 test_small_is_denied if { size.deny == {\"too big\"} with input as {\"n\": 1} }\n\
                 test_divides if { 1 / 0 }\n",
            ),
        ])
        .unwrap();
        let outcomes = run_tests(&set);
        let summary: Vec<_> = outcomes
            .iter()
            .map(|o| (o.name.as_str(), o.line, o.failure.is_none()))
            .collect();
        assert_eq!(
            summary,
            [
                ("size_test.test_big_is_denied", 4, true),
                ("size_test.test_small_is_denied", 5, false),
                ("size_test.test_divides", 6, false),
            ]
        );
        assert!(
            outcomes[2].failure.as_deref().unwrap().contains("divide"),
            "{:?}",
            outcomes[2]
        );
    }
}
