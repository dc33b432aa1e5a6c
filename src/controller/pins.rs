//! Apps pinned to a commit at run time (`mortar rollback`), kept in the
//! state directory so a running controller, a restarted one and the CLI all
//! see the same pins. Pins in `mortar.yaml` (`controller.pins`) are read
//! beside them; a pin here wins for the same app.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where the pins live in the state directory.
pub const PINS_FILE: &str = "controller/pins.json";

/// One app held at a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The full commit SHA.
    pub commit: String,
    /// Who pinned it.
    pub by: String,
    pub at: jiff::Timestamp,
}

/// Why pins could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("cannot read or write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a pins file: {message}")]
    Corrupt { path: PathBuf, message: String },
}

impl PinError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            PinError::Io { .. } => "io",
            PinError::Corrupt { .. } => "corrupt",
        }
    }
}

/// The pins file of one state directory.
#[derive(Debug, Clone)]
pub struct PinStore {
    path: PathBuf,
}

impl PinStore {
    pub fn new(state_dir: &Path) -> PinStore {
        PinStore {
            path: state_dir.join(PINS_FILE),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every pin; none when the file does not exist.
    pub fn load(&self) -> Result<BTreeMap<String, Pin>, PinError> {
        match fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| PinError::Corrupt {
                path: self.path.clone(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(source) => Err(PinError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Pins `app` (replacing any pin it had), or unpins it with `None`.
    /// Returns the pin it had.
    pub fn set(&self, app: &str, pin: Option<Pin>) -> Result<Option<Pin>, PinError> {
        let mut pins = self.load()?;
        let old = match pin {
            Some(pin) => pins.insert(app.to_string(), pin),
            None => pins.remove(app),
        };
        self.save(&pins)?;
        Ok(old)
    }

    fn save(&self, pins: &BTreeMap<String, Pin>) -> Result<(), PinError> {
        let body = serde_json::to_vec_pretty(pins).map_err(|e| PinError::Io {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        crate::durable::replace(&self.path, &body).map_err(|e| PinError::Io {
            path: e.path,
            source: e.source,
        })
    }
}

/// The commits apps are pinned to: `mortar.yaml`'s pins, then the pins file's.
pub fn effective(
    config: &BTreeMap<String, String>,
    file: &BTreeMap<String, Pin>,
) -> BTreeMap<String, String> {
    let mut out = config.clone();
    out.extend(
        file.iter()
            .map(|(app, pin)| (app.clone(), pin.commit.clone())),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(commit: &str) -> Pin {
        Pin {
            commit: commit.into(),
            by: "ana".into(),
            at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn pins_are_kept_replaced_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = PinStore::new(dir.path());
        assert!(store.load().unwrap().is_empty());
        store.set("team", Some(pin("aaa"))).unwrap();
        assert_eq!(
            store.set("team", Some(pin("bbb"))).unwrap(),
            Some(pin("aaa"))
        );
        assert_eq!(store.load().unwrap()["team"].commit, "bbb");
        let config = BTreeMap::from([
            ("team".to_string(), "ccc".to_string()),
            ("base".to_string(), "ddd".to_string()),
        ]);
        let all = effective(&config, &store.load().unwrap());
        assert_eq!(all["team"], "bbb");
        assert_eq!(all["base"], "ddd");
        assert_eq!(store.set("team", None).unwrap(), Some(pin("bbb")));
        assert!(store.load().unwrap().is_empty());
        std::fs::write(store.path(), "[").unwrap();
        assert_eq!(store.load().unwrap_err().metric_label(), "corrupt");
    }
}
