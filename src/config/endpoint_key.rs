//! The keys of `limits.endpoints`: `"METHOD path-prefix"`, where the path is
//! what follows `/api/<version>/` and `*` stands for any method.

/// One parsed key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointKey {
    /// `None` for `*` (any method).
    pub method: Option<String>,
    /// The API path prefix, without a leading `/`.
    pub prefix: String,
}

impl EndpointKey {
    /// Parses `"METHOD path-prefix"`; `None` when the key has another shape.
    pub fn parse(key: &str) -> Option<EndpointKey> {
        let (method, prefix) = key.trim().split_once(' ')?;
        let prefix = prefix.trim().trim_start_matches('/');
        if prefix.is_empty() || prefix.contains(' ') {
            return None;
        }
        let method = match method {
            "*" => None,
            m if m.chars().all(|c| c.is_ascii_uppercase()) && !m.is_empty() => Some(m.to_string()),
            _ => return None,
        };
        Some(EndpointKey {
            method,
            prefix: prefix.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_a_method_or_any_and_a_path_prefix() {
        assert_eq!(
            EndpointKey::parse("POST /jobs/create"),
            Some(EndpointKey {
                method: Some("POST".into()),
                prefix: "jobs/create".into()
            })
        );
        assert_eq!(EndpointKey::parse("* secrets/").unwrap().method, None);
        for bad in ["jobs/create", "post jobs/", "GET ", "GET a b"] {
            assert_eq!(EndpointKey::parse(bad), None, "{bad}");
        }
    }
}
