//! What a plan proposes for one object, in words every stage shares: the
//! kind of action, the changed fields and the changed ACL entries.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::Principal;

/// One changed field: a JSON pointer into the spec, the live value and the
/// desired value. `None` means absent; sensitive values are already masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub path: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub old: Option<Value>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub new: Option<Value>,
    /// Git did not change this field since the last apply: the live value was
    /// changed outside Mortar.
    #[serde(default)]
    pub drift: bool,
    /// The values were masked because the field may hold a secret.
    #[serde(default)]
    pub sensitive: bool,
}

/// Keeps a JSON `null` as `Some(Value::Null)`; a missing key stays `None`.
fn present<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(de).map(Some)
}

/// One principal's ACL level changing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionChange {
    pub principal: Principal,
    /// The live level; `None` when the principal has no direct entry.
    pub old: Option<String>,
    /// The desired level; `None` when the entry is removed.
    pub new: Option<String>,
    #[serde(default)]
    pub drift: bool,
}

/// What the plan proposes for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Create the object.
    Create,
    /// Change the listed fields and permissions of an object Mortar manages.
    Update,
    /// Take over a pre-existing object (`adopt: true`), then apply the changes.
    Adopt,
    /// Delete an object Mortar created and Git no longer declares.
    Delete,
    /// Would delete, but prune is disabled for this app.
    DeleteSkipped,
    /// An adopted object Git no longer declares: left in place, dropped from
    /// the inventory.
    Release,
    /// Gone live and from Git: only dropped from the inventory.
    Forget,
    /// A live object with the desired name that Mortar does not own.
    Conflict,
    /// Live matches Git.
    NoOp,
}

impl ActionKind {
    /// True when applying the action calls the workspace API.
    pub fn changes_workspace(self) -> bool {
        matches!(
            self,
            ActionKind::Create | ActionKind::Update | ActionKind::Adopt | ActionKind::Delete
        )
    }

    /// True when applying the action is a step of its own: a call to the
    /// workspace, or an inventory change (release, forget).
    pub fn is_applied(self) -> bool {
        self.changes_workspace() || matches!(self, ActionKind::Release | ActionKind::Forget)
    }

    /// The word used in text output and the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Create => "create",
            ActionKind::Update => "update",
            ActionKind::Adopt => "adopt",
            ActionKind::Delete => "delete",
            ActionKind::DeleteSkipped => "delete_skipped",
            ActionKind::Release => "release",
            ActionKind::Forget => "forget",
            ActionKind::Conflict => "conflict",
            ActionKind::NoOp => "no_op",
        }
    }
}
