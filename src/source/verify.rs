//! Commit signature verification: a commit is accepted only when its
//! signature (the `gpgsig` header `git commit -S` writes) verifies against a
//! trusted key. SSH signatures (`gpg.format=ssh`, namespace `git`) are
//! checked against an OpenSSH `allowed_signers` file; OpenPGP signatures
//! against a file of ASCII-armored public keys.

use std::fmt;
use std::path::{Path, PathBuf};

use git2::{Oid, Repository};
use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::types::KeyDetails;
use ssh_key::{Algorithm, HashAlg, PublicKey, SshSig};

use crate::config::GitVerifyConfig;

/// The namespace git signs commits in (`ssh-keygen -Y sign -n git`).
const GIT_NAMESPACE: &str = "git";

/// Which keys may sign an accepted commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignaturePolicy {
    /// An OpenSSH `allowed_signers` file.
    pub ssh_allowed_signers: Option<PathBuf>,
    /// A file of ASCII-armored OpenPGP public keys.
    pub openpgp_keys: Option<PathBuf>,
}

impl From<&GitVerifyConfig> for SignaturePolicy {
    fn from(config: &GitVerifyConfig) -> Self {
        SignaturePolicy {
            ssh_allowed_signers: config.ssh_allowed_signers.clone(),
            openpgp_keys: config.openpgp_keys.clone(),
        }
    }
}

/// How a commit was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureFormat {
    Ssh,
    OpenPgp,
}

impl fmt::Display for SignatureFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureFormat::Ssh => "ssh",
            SignatureFormat::OpenPgp => "openpgp",
        })
    }
}

/// Who signed an accepted commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub format: SignatureFormat,
    /// `SHA256:…` for SSH keys; the hex fingerprint for OpenPGP keys.
    pub fingerprint: String,
    /// The allowed signer's principals, or the OpenPGP key's first user id.
    pub principal: String,
}

/// Why a commit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("commit {commit} is not signed")]
    Unsigned { commit: String },
    #[error("commit {commit} is signed ({format}) by key {fingerprint}, which is not trusted")]
    UntrustedKey {
        commit: String,
        format: SignatureFormat,
        fingerprint: String,
    },
    #[error("commit {commit} has a bad {format} signature: {reason}")]
    BadSignature {
        commit: String,
        format: SignatureFormat,
        reason: String,
    },
    #[error("commit {commit} has a malformed signature: {reason}")]
    MalformedSignature { commit: String, reason: String },
    #[error("commit {commit} is signed with {algorithm}, which is not supported")]
    UnsupportedAlgorithm { commit: String, algorithm: String },
    #[error("the trusted keys file {path} cannot be used: {reason}")]
    Keys { path: PathBuf, reason: String },
    #[error("cannot read commit {commit} in {repo}: {reason}")]
    Git {
        repo: PathBuf,
        commit: String,
        reason: String,
    },
}

impl VerifyError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            VerifyError::Unsigned { .. } => "unsigned",
            VerifyError::UntrustedKey { .. } => "untrusted_key",
            VerifyError::BadSignature { .. } => "bad_signature",
            VerifyError::MalformedSignature { .. } => "malformed_signature",
            VerifyError::UnsupportedAlgorithm { .. } => "unsupported_algorithm",
            VerifyError::Keys { .. } => "keys",
            VerifyError::Git { .. } => "git",
        }
    }
}

/// Checks that `commit` in the repository at `repo` is signed by a key
/// `policy` trusts.
pub fn verify_commit(
    repo: &Path,
    commit: &str,
    policy: &SignaturePolicy,
) -> Result<Signer, VerifyError> {
    let git = |reason: String| VerifyError::Git {
        repo: repo.to_path_buf(),
        commit: commit.to_string(),
        reason,
    };
    let handle = Repository::open(repo).map_err(|e| git(e.message().to_string()))?;
    let oid = Oid::from_str(commit).map_err(|e| git(e.message().to_string()))?;
    let (signature, content) = match handle.extract_signature(&oid, None) {
        Ok(pair) => pair,
        Err(e) if e.code() == git2::ErrorCode::NotFound => {
            // Either the commit is absent or it has no signature.
            handle
                .find_commit(oid)
                .map_err(|e| git(e.message().to_string()))?;
            return Err(VerifyError::Unsigned {
                commit: commit.to_string(),
            });
        }
        Err(e) => return Err(git(e.message().to_string())),
    };
    let signature =
        std::str::from_utf8(&signature).map_err(|_| VerifyError::MalformedSignature {
            commit: commit.to_string(),
            reason: "the signature is not text".into(),
        })?;
    let trimmed = signature.trim_start();
    if trimmed.starts_with("-----BEGIN SSH SIGNATURE-----") {
        let Some(path) = &policy.ssh_allowed_signers else {
            return Err(untrusted_format(commit, SignatureFormat::Ssh));
        };
        verify_ssh(commit, trimmed, &content, path)
    } else if trimmed.starts_with("-----BEGIN PGP SIGNATURE-----") {
        let Some(path) = &policy.openpgp_keys else {
            return Err(untrusted_format(commit, SignatureFormat::OpenPgp));
        };
        verify_openpgp(commit, trimmed, &content, path)
    } else {
        Err(VerifyError::MalformedSignature {
            commit: commit.to_string(),
            reason: "neither an SSH nor an OpenPGP signature (X.509 signatures are not supported)"
                .into(),
        })
    }
}

fn untrusted_format(commit: &str, format: SignatureFormat) -> VerifyError {
    VerifyError::UntrustedKey {
        commit: commit.to_string(),
        format,
        fingerprint: format!("(no {format} keys are trusted)"),
    }
}

/// One line of an `allowed_signers` file.
#[derive(Debug)]
struct AllowedSigner {
    principals: String,
    namespaces: Option<Vec<String>>,
    key: PublicKey,
}

/// Parses an OpenSSH `allowed_signers` file: `principals [options] key`.
/// `cert-authority` lines are skipped (certificates are not supported).
fn read_allowed_signers(path: &Path) -> Result<Vec<AllowedSigner>, VerifyError> {
    let keys_error = |reason: String| VerifyError::Keys {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| keys_error(e.to_string()))?;
    let mut out = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |reason: &str| keys_error(format!("line {}: {reason}", number + 1));
        let fields = split_fields(line);
        let Some(principals) = fields.first() else {
            continue;
        };
        // The key starts at the first field naming a key type.
        let Some(key_at) = fields
            .iter()
            .position(|f| f.starts_with("ssh-") || f.starts_with("ecdsa-") || f.starts_with("sk-"))
            .filter(|i| *i > 0)
        else {
            return Err(at("no public key"));
        };
        let mut namespaces = None;
        let mut ca = false;
        for options in &fields[1..key_at] {
            for option in split_options(options) {
                let lower = option.to_ascii_lowercase();
                if lower == "cert-authority" {
                    ca = true;
                } else if let Some(value) = lower.strip_prefix("namespaces=") {
                    namespaces = Some(
                        value
                            .trim_matches('"')
                            .split(',')
                            .map(str::to_string)
                            .collect(),
                    );
                }
            }
        }
        if ca {
            continue;
        }
        let key = PublicKey::from_openssh(&fields[key_at..].join(" "))
            .map_err(|e| at(&format!("not a public key ({e})")))?;
        out.push(AllowedSigner {
            principals: principals.trim_matches('"').to_string(),
            namespaces,
            key,
        });
    }
    Ok(out)
}

/// Splits on whitespace outside double quotes.
fn split_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Splits an options field on commas outside double quotes.
fn split_options(field: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in field.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    out.push(current);
    out
}

fn supported_ssh(algorithm: &Algorithm) -> bool {
    matches!(
        algorithm,
        Algorithm::Ed25519
            | Algorithm::Rsa { .. }
            | Algorithm::Ecdsa {
                curve: ssh_key::EcdsaCurve::NistP256
                    | ssh_key::EcdsaCurve::NistP384
                    | ssh_key::EcdsaCurve::NistP521
            }
    )
}

fn verify_ssh(
    commit: &str,
    armored: &str,
    content: &[u8],
    allowed: &Path,
) -> Result<Signer, VerifyError> {
    let format = SignatureFormat::Ssh;
    let sig = SshSig::from_pem(armored).map_err(|e| VerifyError::MalformedSignature {
        commit: commit.to_string(),
        reason: e.to_string(),
    })?;
    let key = PublicKey::from(sig.public_key().clone());
    let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
    let signers = read_allowed_signers(allowed)?;
    let Some(signer) = signers.iter().find(|s| {
        s.key.key_data() == key.key_data()
            && s.namespaces
                .as_ref()
                .is_none_or(|n| n.iter().any(|n| n == GIT_NAMESPACE))
    }) else {
        return Err(VerifyError::UntrustedKey {
            commit: commit.to_string(),
            format,
            fingerprint,
        });
    };
    if !supported_ssh(&sig.algorithm()) || !supported_ssh(&key.algorithm()) {
        return Err(VerifyError::UnsupportedAlgorithm {
            commit: commit.to_string(),
            algorithm: key.algorithm().as_str().to_string(),
        });
    }
    if sig.namespace() != GIT_NAMESPACE {
        return Err(VerifyError::BadSignature {
            commit: commit.to_string(),
            format,
            reason: format!(
                "made for namespace `{}`, not `{GIT_NAMESPACE}`",
                sig.namespace()
            ),
        });
    }
    signer
        .key
        .verify(GIT_NAMESPACE, content, &sig)
        .map_err(|e| VerifyError::BadSignature {
            commit: commit.to_string(),
            format,
            reason: e.to_string(),
        })?;
    Ok(Signer {
        format,
        fingerprint,
        principal: signer.principals.clone(),
    })
}

fn read_openpgp_keys(path: &Path) -> Result<Vec<SignedPublicKey>, VerifyError> {
    let keys_error = |reason: String| VerifyError::Keys {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| keys_error(e.to_string()))?;
    let (keys, _) =
        SignedPublicKey::from_string_many(&text).map_err(|e| keys_error(e.to_string()))?;
    let mut out = Vec::new();
    for key in keys {
        let key = key.map_err(|e| keys_error(e.to_string()))?;
        // A key whose self-signatures do not verify is not trusted at all.
        if key.verify_bindings().is_ok() {
            out.push(key);
        }
    }
    if out.is_empty() {
        return Err(keys_error("no usable public key in the file".into()));
    }
    Ok(out)
}

fn verify_openpgp(
    commit: &str,
    armored: &str,
    content: &[u8],
    keys_file: &Path,
) -> Result<Signer, VerifyError> {
    let format = SignatureFormat::OpenPgp;
    let (sig, _) =
        DetachedSignature::from_string(armored).map_err(|e| VerifyError::MalformedSignature {
            commit: commit.to_string(),
            reason: e.to_string(),
        })?;
    let issuer = sig
        .signature
        .issuer_fingerprint()
        .first()
        .map(|f| format!("{f:X}"))
        .or_else(|| {
            sig.signature
                .issuer_key_id()
                .first()
                .map(|id| hex::encode_upper(id.as_ref()))
        })
        .unwrap_or_else(|| "(no issuer in the signature)".into());
    let keys = read_openpgp_keys(keys_file)?;
    let mut bad = None;
    for key in &keys {
        let principal = key
            .details
            .users
            .first()
            .map(|u| String::from_utf8_lossy(u.id.id()).into_owned())
            .unwrap_or_default();
        let mut candidates: Vec<(String, Result<(), pgp::errors::Error>)> = Vec::new();
        candidates.push((format!("{:X}", key.fingerprint()), sig.verify(key, content)));
        for sub in &key.public_subkeys {
            candidates.push((
                format!("{:X}", sub.key.fingerprint()),
                sig.verify(sub, content),
            ));
        }
        for (fingerprint, outcome) in candidates {
            let issued = issuer.ends_with(&fingerprint[fingerprint.len().saturating_sub(16)..])
                || fingerprint.ends_with(&issuer);
            match outcome {
                Ok(()) => {
                    return Ok(Signer {
                        format,
                        fingerprint: format!("{:X}", key.fingerprint()),
                        principal,
                    });
                }
                Err(e) if issued => bad = Some(e),
                Err(_) => {}
            }
        }
    }
    match bad {
        Some(pgp::errors::Error::Unsupported { message, .. }) => {
            Err(VerifyError::UnsupportedAlgorithm {
                commit: commit.to_string(),
                algorithm: message,
            })
        }
        Some(e) => Err(VerifyError::BadSignature {
            commit: commit.to_string(),
            format,
            reason: e.to_string(),
        }),
        None => Err(VerifyError::UntrustedKey {
            commit: commit.to_string(),
            format,
            fingerprint: issuer,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_signers_lines_with_options_and_quotes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("allowed_signers");
        std::fs::write(
            &path,
            "# team\nana@example.com,bo@example.com namespaces=\"git,file\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHbHvLJb7IGJYTkYTQ2e8IoPgkdYZ5FWKOm9WBmaTkdE ana\n\
             *@example.com cert-authority ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF1EGe4JzH3tVzdH6I0Q8LBOmwt0vENB3CWD5/NCq7Ip\n",
        )
        .unwrap();
        let signers = read_allowed_signers(&path).unwrap();
        assert_eq!(signers.len(), 1);
        assert_eq!(signers[0].principals, "ana@example.com,bo@example.com");
        assert_eq!(
            signers[0].namespaces.as_deref(),
            Some(&["git".to_string(), "file".to_string()][..])
        );
        std::fs::write(&path, "ana@example.com\n").unwrap();
        assert!(matches!(
            read_allowed_signers(&path),
            Err(VerifyError::Keys { .. })
        ));
    }
}
