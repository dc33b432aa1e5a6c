//! The stored job record: settings kept as compact JSON text with the views
//! reads need (list summary, array lengths) derived once per write.

use std::borrow::Cow;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// Arrays that `jobs/get` 2.2 pages by 100.
const PAGED_ARRAYS: [&str; 4] = ["tasks", "job_clusters", "parameters", "environments"];
/// Elements per page of a paged array.
pub const PAGE: usize = 100;

/// A stored job. Settings (with server defaults applied) are kept as
/// compact JSON text: reads copy bytes instead of walking maps, and a job
/// costs a fraction of the memory of a parsed map.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub job_id: i64,
    pub creator_user_name: String,
    pub run_as_user_name: String,
    /// The configured `run_as` (not returned by reads).
    #[serde(default)]
    pub run_as: Option<Value>,
    pub created_time: i64,
    /// Settings as JSON text (state files may also hold them as an object).
    #[serde(deserialize_with = "settings_text")]
    pub settings: String,
    /// Derived from `settings`; rebuilt by [`Job::refresh`].
    #[serde(skip)]
    derived: Derived,
}

/// What reads need without parsing the settings.
#[derive(Debug, Clone, Default)]
struct Derived {
    /// Lower-cased name, the key of the name index.
    name_key: String,
    /// Settings without the paged arrays (the `jobs/list` view), as JSON.
    summary: String,
    /// Lengths of `tasks`, `job_clusters`, `parameters`, `environments`.
    lens: [usize; 4],
    /// Whether `parameters` or `environments` is present (the expanded list
    /// view leaves them out).
    has_extra_arrays: bool,
}

fn settings_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(text) => Ok(text),
        object @ Value::Object(_) => Ok(object.to_string()),
        _ => Err(serde::de::Error::custom("job settings must be an object")),
    }
}

impl Job {
    /// A job from parsed settings.
    pub fn build(
        job_id: i64,
        creator_user_name: String,
        run_as_user_name: String,
        run_as: Option<Value>,
        created_time: i64,
        settings: &Map<String, Value>,
    ) -> Job {
        let mut job = Job {
            job_id,
            creator_user_name,
            run_as_user_name,
            run_as,
            created_time,
            settings: serde_json::to_string(settings).unwrap_or_else(|_| "{}".to_owned()),
            derived: Derived::default(),
        };
        job.derive(settings);
        job
    }

    /// The settings as a map.
    pub fn settings_map(&self) -> Map<String, Value> {
        serde_json::from_str(&self.settings).unwrap_or_default()
    }

    /// Replaces the settings.
    pub fn set_settings(&mut self, settings: &Map<String, Value>) {
        self.settings = serde_json::to_string(settings).unwrap_or_else(|_| "{}".to_owned());
        self.derive(settings);
    }

    /// Recomputes the derived fields from the stored text (after loading).
    pub fn refresh(&mut self) {
        let settings = self.settings_map();
        self.derive(&settings);
    }

    fn derive(&mut self, settings: &Map<String, Value>) {
        let len = |k: &str| {
            settings
                .get(k)
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        };
        self.derived = Derived {
            name_key: settings
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("Untitled")
                .to_lowercase(),
            summary: serde_json::to_string(&SettingsView {
                settings,
                arrays: Arrays::Omit,
            })
            .unwrap_or_else(|_| "{}".to_owned()),
            lens: [
                len("tasks"),
                len("job_clusters"),
                len("parameters"),
                len("environments"),
            ],
            has_extra_arrays: settings.contains_key("parameters")
                || settings.contains_key("environments"),
        };
    }

    /// Lower-cased name, the key of the name index.
    pub fn name_key(&self) -> String {
        self.derived.name_key.clone()
    }

    /// Lengths of `tasks`, `job_clusters`, `parameters`, `environments`.
    pub fn array_lens(&self) -> [usize; 4] {
        self.derived.lens
    }

    /// The settings text of a view: the stored text (or summary) when it already
    /// is that view, else re-serialized from the parsed settings.
    pub fn view_text(&self, arrays: Arrays) -> Cow<'_, str> {
        let [tasks, clusters, _, _] = self.derived.lens;
        let stored = match arrays {
            Arrays::All => Some(self.settings.as_str()),
            Arrays::Omit => Some(self.derived.summary.as_str()),
            Arrays::Window(0) if self.derived.lens.iter().all(|l| *l <= PAGE) => {
                Some(self.settings.as_str())
            }
            Arrays::Expand
                if tasks <= PAGE && clusters <= PAGE && !self.derived.has_extra_arrays =>
            {
                Some(self.settings.as_str())
            }
            _ => None,
        };
        match stored {
            Some(text) => Cow::Borrowed(text),
            None => {
                let settings = self.settings_map();
                Cow::Owned(
                    serde_json::to_string(&SettingsView {
                        settings: &settings,
                        arrays,
                    })
                    .unwrap_or_else(|_| "{}".to_owned()),
                )
            }
        }
    }
}

/// How the paged arrays (`tasks`, `job_clusters`, `parameters`,
/// `environments`) of a job are shown.
#[derive(Debug, Clone, Copy)]
pub enum Arrays {
    /// Every element (2.0/2.1 `get`).
    All,
    /// The 100-element window starting at the offset (2.2 `get`).
    Window(usize),
    /// Left out (`list` without `expand_tasks`).
    Omit,
    /// First 100 `tasks`/`job_clusters` (`list` with `expand_tasks`).
    Expand,
}

/// A job's settings serialized straight from the store, without copying.
struct SettingsView<'a> {
    settings: &'a Map<String, Value>,
    arrays: Arrays,
}

impl Serialize for SettingsView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in self.settings {
            if !PAGED_ARRAYS.contains(&key.as_str()) {
                map.serialize_entry(key, value)?;
                continue;
            }
            let Value::Array(items) = value else {
                map.serialize_entry(key, value)?;
                continue;
            };
            match self.arrays {
                Arrays::All => map.serialize_entry(key, items)?,
                Arrays::Window(offset) => {
                    let rest = items.get(offset..).unwrap_or(&[]);
                    let window = &rest[..rest.len().min(PAGE)];
                    if offset == 0 || !window.is_empty() {
                        map.serialize_entry(key, window)?;
                    }
                }
                Arrays::Omit => {}
                Arrays::Expand => {
                    if key == "tasks" || key == "job_clusters" {
                        map.serialize_entry(key, &items[..items.len().min(PAGE)])?;
                    }
                }
            }
        }
        map.end()
    }
}
