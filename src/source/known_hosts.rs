//! Deciding whether an SSH server's host key is trusted, from an OpenSSH
//! `known_hosts` file: plain and hashed (`|1|salt|hash`) host names,
//! `[host]:port` entries for other ports, `*`/`?` globs, `!` negations and
//! `@revoked` keys. `@cert-authority` lines are not supported and never
//! match.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use ssh_key::known_hosts::{Entry, HostPatterns, Marker};
use ssh_key::{HashAlg, PublicKey};

/// The parsed trusted host keys.
#[derive(Debug)]
pub struct KnownHosts {
    path: PathBuf,
    entries: Vec<Entry>,
}

/// The verdict on one host key.
#[derive(Debug, PartialEq, Eq)]
pub enum HostCheck {
    Trusted,
    /// No entry names the host.
    Unknown {
        key_type: String,
        fingerprint: String,
    },
    /// Entries name the host, with other keys (or this one revoked).
    Mismatch {
        key_type: String,
        fingerprint: String,
    },
}

pub(super) fn key_type_or_unknown(key_type: &str) -> String {
    if key_type.is_empty() {
        "unknown".into()
    } else {
        key_type.into()
    }
}

/// How `known_hosts` names a host: `host`, or `[host]:port` off port 22.
pub(super) fn host_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

impl KnownHosts {
    /// Reads and parses `path`; the error names the line that does not parse.
    pub fn read(path: &Path) -> Result<KnownHosts, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        KnownHosts::parse(&text, path)
    }

    /// Parses `text` (read from `path`).
    pub fn parse(text: &str, path: &Path) -> Result<KnownHosts, String> {
        let mut entries = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let entry: Entry = trimmed
                .parse()
                .map_err(|e| format!("line {}: not a known_hosts entry ({e})", number + 1))?;
            entries.push(entry);
        }
        Ok(KnownHosts {
            path: path.to_path_buf(),
            entries,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks the key `raw` (SSH wire encoding) that `host` presented on `port`.
    pub fn check(&self, host: &str, port: u16, raw: &[u8]) -> HostCheck {
        let Ok(key) = PublicKey::from_bytes(raw) else {
            return HostCheck::Unknown {
                key_type: String::new(),
                fingerprint: "(a key that cannot be parsed)".into(),
            };
        };
        let key_type = key.algorithm().as_str().to_string();
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let name = host_name(host, port);
        let mut named = false;
        let mut trusted = false;
        for entry in &self.entries {
            if !matches_host(entry.host_patterns(), &name) {
                continue;
            }
            let same = entry.public_key().key_data() == key.key_data();
            match entry.marker() {
                Some(Marker::Revoked) if same => {
                    return HostCheck::Mismatch {
                        key_type,
                        fingerprint,
                    };
                }
                Some(_) => {}
                None => {
                    named = true;
                    trusted |= same;
                }
            }
        }
        match (trusted, named) {
            (true, _) => HostCheck::Trusted,
            (false, true) => HostCheck::Mismatch {
                key_type,
                fingerprint,
            },
            (false, false) => HostCheck::Unknown {
                key_type,
                fingerprint,
            },
        }
    }
}

/// True when the patterns name `name` (and no negated pattern does).
fn matches_host(patterns: &HostPatterns, name: &str) -> bool {
    match patterns {
        HostPatterns::HashedName { salt, hash } => {
            let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(salt) else {
                return false;
            };
            mac.update(name.as_bytes());
            mac.verify_slice(hash).is_ok()
        }
        HostPatterns::Patterns(list) => {
            let mut hit = false;
            for pattern in list {
                if let Some(negated) = pattern.strip_prefix('!') {
                    if glob(&negated.to_ascii_lowercase(), &name.to_ascii_lowercase()) {
                        return false;
                    }
                } else if glob(&pattern.to_ascii_lowercase(), &name.to_ascii_lowercase()) {
                    hit = true;
                }
            }
            hit
        }
    }
}

/// OpenSSH's host pattern match: `*` any run, `?` any one character.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHbHvLJb7IGJYTkYTQ2e8IoPgkdYZ5FWKOm9WBmaTkdE";
    const OTHER: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF1EGe4JzH3tVzdH6I0Q8LBOmwt0vENB3CWD5/NCq7Ip";

    fn raw(key: &str) -> Vec<u8> {
        PublicKey::from_openssh(key).unwrap().to_bytes().unwrap()
    }

    #[test]
    fn plain_hashed_ported_and_negated_entries() {
        // `|1|` entry for "git.example": HMAC-SHA1 with salt 0x00..13.
        let salt = [7u8; 20];
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&salt).unwrap();
        mac.update(b"hashed.example");
        let hash = mac.finalize().into_bytes();
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let text = format!(
            "# comment\n*.corp.example,!bad.corp.example {KEY}\n[127.0.0.1]:2222 {KEY}\n|1|{}|{} {KEY}\nmoved.example {OTHER}\n",
            b64.encode(salt),
            b64.encode(hash)
        );
        let known = KnownHosts::parse(&text, Path::new("known_hosts")).unwrap();
        let key = raw(KEY);
        assert_eq!(
            known.check("git.corp.example", 22, &key),
            HostCheck::Trusted
        );
        assert!(matches!(
            known.check("bad.corp.example", 22, &key),
            HostCheck::Unknown { .. }
        ));
        assert_eq!(known.check("127.0.0.1", 2222, &key), HostCheck::Trusted);
        assert!(matches!(
            known.check("127.0.0.1", 22, &key),
            HostCheck::Unknown { .. }
        ));
        assert_eq!(known.check("hashed.example", 22, &key), HostCheck::Trusted);
        assert!(matches!(
            known.check("moved.example", 22, &key),
            HostCheck::Mismatch { .. }
        ));
        assert!(KnownHosts::parse("garbage line\n", Path::new("k")).is_err());
    }

    #[test]
    fn globs() {
        assert!(glob("*.example", "a.example"));
        assert!(glob("h?st", "host"));
        assert!(!glob("*.example", "example"));
        assert!(glob("*", ""));
    }
}
