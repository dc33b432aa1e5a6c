//! Planner semantics, renderers and properties.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::{Value, json};

use super::diff::{self, DiffContext};
use super::output::{self, TextOptions};
use super::*;
use crate::model::{DesiredResource, Origin};
use crate::model::{Kind, PermissionEntry, Principal, ResourceKey};

fn key(kind: Kind, name: &str) -> ResourceKey {
    ResourceKey {
        workspace: "prod".into(),
        kind,
        name: name.into(),
    }
}

fn desired(kind: Kind, name: &str, spec: Value) -> DesiredResource {
    DesiredResource {
        key: key(kind, name),
        app: "analytics".into(),
        spec,
        permissions: Vec::new(),
        depends_on: Vec::new(),
        numeric_references: Vec::new(),
        adopt_id: None,
        origin: Origin {
            file: "apps/analytics/jobs.yaml".into(),
            line: 1,
            column: 1,
        },
    }
}

fn live(id: &str, spec: Value) -> LiveObject {
    LiveObject {
        id: id.into(),
        spec,
        permissions: Vec::new(),
        managed_by: None,
    }
}

fn managed(id: &str, spec: Value) -> ManagedResource {
    ManagedResource {
        id: id.into(),
        spec,
        permissions: Vec::new(),
        revision: Some("abc".into()),
        ownership: Ownership::Created,
    }
}

fn group(name: &str, level: &str) -> PermissionEntry {
    PermissionEntry {
        principal: Principal::GroupName(name.into()),
        permission_level: level.into(),
    }
}

/// Everything one planner call needs, owned.
#[derive(Default)]
struct World {
    desired: Vec<DesiredResource>,
    live: LiveState,
    last: LastApplied,
    ignore: Vec<IgnoreRule>,
    options: AppOptions,
    ids: BTreeMap<ResourceKey, String>,
    unmatched: BTreeMap<ResourceKey, crate::model::Unmatched>,
}

impl World {
    fn plan(&self) -> Result<AppPlan, PlanError> {
        plan_app(&AppInput {
            app: "analytics",
            desired: &self.desired,
            live: &self.live,
            last_applied: &self.last,
            ignore: &self.ignore,
            options: self.options,
            ids: &self.ids,
            unmatched: &self.unmatched,
        })
    }

    fn only(&self) -> PlannedAction {
        let plan = self.plan().unwrap();
        assert_eq!(plan.actions.len(), 1, "{plan:#?}");
        plan.actions.into_iter().next().unwrap()
    }
}

fn job_key() -> ResourceKey {
    key(Kind::Job, "etl")
}

#[test]
fn absent_live_is_a_create_with_a_masked_preview() {
    let mut w = World::default();
    let mut d = desired(
        Kind::Job,
        "etl",
        json!({"name": "etl", "spark_env_vars": {"DB_PASSWORD": "hunter2"}}),
    );
    d.permissions = vec![group("analysts", "CAN_VIEW")];
    w.desired.push(d);
    let a = w.only();
    assert_eq!(a.action, ActionKind::Create);
    assert_eq!(a.address, "prod/Job/etl");
    assert_eq!(a.changes.len(), 2);
    assert_eq!(a.permission_changes.len(), 1);
    assert!(!serde_json::to_string(&a).unwrap().contains("hunter2"));
    assert!(a.changes[1].sensitive);
}

#[test]
fn matching_live_is_a_no_op_despite_server_set_fields() {
    let mut w = World::default();
    w.desired.push(desired(
        Kind::Job,
        "etl",
        json!({"name": "etl", "max_retries": 1}),
    ));
    w.live.insert(
        job_key(),
        live(
            "1",
            json!({"name": "etl", "max_retries": 1, "format": "MULTI_TASK"}),
        ),
    );
    w.last.insert(
        job_key(),
        managed("1", json!({"name": "etl", "max_retries": 1})),
    );
    let plan = w.plan().unwrap();
    assert_eq!(plan.actions[0].action, ActionKind::NoOp);
    assert!(!plan.summary.has_changes());
}

#[test]
fn a_hand_made_change_is_an_update_flagged_as_drift() {
    let mut w = World::default();
    let spec = json!({"name": "etl", "timeout_seconds": 60});
    w.desired.push(desired(Kind::Job, "etl", spec.clone()));
    w.live.insert(
        job_key(),
        live("1", json!({"name": "etl", "timeout_seconds": 999})),
    );
    w.last.insert(job_key(), managed("1", spec));
    let a = w.only();
    assert_eq!(a.action, ActionKind::Update);
    assert!(a.drift);
    assert_eq!(a.changes[0].path, "/timeout_seconds");
    assert_eq!(a.changes[0].old, Some(json!(999)));
    assert_eq!(a.changes[0].new, Some(json!(60)));
}

#[test]
fn a_field_removed_from_git_is_removed_live_and_is_not_drift() {
    let mut w = World::default();
    w.desired
        .push(desired(Kind::Job, "etl", json!({"name": "etl"})));
    w.live.insert(
        job_key(),
        live("1", json!({"name": "etl", "timeout_seconds": 60})),
    );
    w.last.insert(
        job_key(),
        managed("1", json!({"name": "etl", "timeout_seconds": 60})),
    );
    let a = w.only();
    assert_eq!(a.action, ActionKind::Update);
    assert!(!a.drift);
    assert_eq!(a.changes[0].path, "/timeout_seconds");
    assert_eq!(a.changes[0].new, None);
}

#[test]
fn an_unowned_object_with_the_desired_name_is_a_conflict_unless_adopted() {
    let mut w = World::default();
    w.desired.push(desired(
        Kind::Job,
        "etl",
        json!({"name": "etl", "max_retries": 2}),
    ));
    w.live.insert(
        job_key(),
        live("42", json!({"name": "etl", "max_retries": 0})),
    );
    let a = w.only();
    assert_eq!(a.action, ActionKind::Conflict);
    assert_eq!(a.id.as_deref(), Some("42"));
    assert!(a.reason.as_deref().unwrap().contains("adopt: true"));
    assert!(w.plan().unwrap().summary.has_changes());

    w.options.adopt = true;
    let a = w.only();
    assert_eq!(a.action, ActionKind::Adopt);
    assert_eq!(a.changes[0].path, "/max_retries");
    assert!(!a.drift);
}

#[test]
fn two_objects_matching_one_manifest_are_a_conflict_even_when_adopting() {
    let mut w = World::default();
    w.options.adopt = true;
    w.desired
        .push(desired(Kind::Job, "etl", json!({"name": "nightly"})));
    w.unmatched.insert(
        job_key(),
        crate::model::Unmatched::SharedName {
            ids: vec!["41".to_string(), "42".to_string()],
        },
    );
    let plan = w.plan().unwrap();
    let a = &plan.actions[0];
    assert_eq!(a.action, ActionKind::Conflict);
    let reason = a.reason.as_deref().unwrap();
    assert!(reason.contains("named `nightly` (ids 41, 42)"), "{reason}");
    assert!(reason.contains("mortar.dev/adopt-id"), "{reason}");
    assert_eq!(plan.summary.conflict, 1);
    assert_eq!(plan.summary.adopt + plan.summary.create, 0);
}

#[test]
fn ownership_tags_and_inventory_ids_decide_ownership() {
    let mut w = World::default();
    w.desired
        .push(desired(Kind::Job, "etl", json!({"name": "etl"})));
    let mut tagged = live("42", json!({"name": "etl"}));
    tagged.managed_by = Some("analytics".into());
    w.live.insert(job_key(), tagged.clone());
    assert_eq!(
        w.only().action,
        ActionKind::NoOp,
        "a lost inventory is recovered from tags"
    );

    tagged.managed_by = Some("other-team".into());
    w.live.insert(job_key(), tagged);
    w.options.adopt = true;
    let a = w.only();
    assert_eq!(a.action, ActionKind::Conflict);
    assert!(a.reason.unwrap().contains("other-team"));

    w.live.insert(job_key(), live("43", json!({"name": "etl"})));
    w.last
        .insert(job_key(), managed("42", json!({"name": "etl"})));
    let a = w.only();
    assert_eq!(a.action, ActionKind::Conflict);
    assert!(a.reason.unwrap().contains("42"));
}

#[test]
fn an_object_deleted_by_hand_is_recreated_as_drift() {
    let mut w = World::default();
    w.desired
        .push(desired(Kind::Job, "etl", json!({"name": "etl"})));
    w.last
        .insert(job_key(), managed("1", json!({"name": "etl"})));
    let a = w.only();
    assert_eq!(a.action, ActionKind::Create);
    assert!(a.drift);
}

#[test]
fn deletes_need_prune_and_an_inventory_entry_created_by_mortar() {
    let mut w = World::default();
    w.live.insert(job_key(), live("1", json!({"name": "etl"})));
    w.live.insert(
        key(Kind::Job, "stranger"),
        live("9", json!({"name": "stranger"})),
    );
    w.last
        .insert(job_key(), managed("1", json!({"name": "etl"})));
    let a = w.only();
    assert_eq!(a.action, ActionKind::DeleteSkipped);
    assert!(a.reason.unwrap().contains("prune is disabled"));
    assert!(!w.plan().unwrap().summary.has_changes());

    w.options.prune = true;
    let a = w.only();
    assert_eq!(a.action, ActionKind::Delete);
    assert_eq!(a.id.as_deref(), Some("1"));

    w.last.get_mut(&job_key()).unwrap().ownership = Ownership::Adopted;
    assert_eq!(w.only().action, ActionKind::Release);

    w.live.remove(&job_key());
    assert_eq!(w.only().action, ActionKind::Forget);
}

#[test]
fn objects_tagged_as_ours_but_missing_from_the_inventory_are_prune_candidates() {
    let mut w = World::default();
    let mut ours = live("3", json!({"name": "orphan"}));
    ours.managed_by = Some("analytics".into());
    w.live.insert(key(Kind::Job, "orphan"), ours);
    let mut theirs = live("4", json!({"name": "theirs"}));
    theirs.managed_by = Some("other".into());
    w.live.insert(key(Kind::Job, "theirs"), theirs);
    let a = w.only();
    assert_eq!(a.action, ActionKind::DeleteSkipped);
    assert_eq!(a.key.name, "orphan");
    w.options.prune = true;
    let a = w.only();
    assert_eq!(a.action, ActionKind::Delete);
    assert_eq!(a.id.as_deref(), Some("3"));
}

#[test]
fn references_resolve_to_known_ids() {
    let mut w = World::default();
    let spec = json!({"name": "etl", "existing_cluster_id": "${resources.clusters.shared.id}"});
    let mut job = desired(Kind::Job, "etl", spec.clone());
    job.depends_on = vec![key(Kind::Cluster, "shared")];
    w.desired.push(job);
    w.live.insert(
        job_key(),
        live(
            "1",
            json!({"name": "etl", "existing_cluster_id": "0101-abc"}),
        ),
    );
    w.last.insert(job_key(), managed("1", spec));
    let a = w.only();
    assert_eq!(
        a.action,
        ActionKind::Update,
        "unknown cluster id: the reference cannot match"
    );
    assert_eq!(
        a.changes[0].new,
        Some(json!("${resources.clusters.shared.id}"))
    );
    w.ids
        .insert(key(Kind::Cluster, "shared"), "0101-abc".into());
    assert_eq!(w.only().action, ActionKind::NoOp);
}

#[test]
fn ignore_rules_match_kind_and_name() {
    let mut w = World::default();
    w.desired.push(desired(
        Kind::Job,
        "etl",
        json!({"name": "etl", "max_retries": 1, "timeout_seconds": 5}),
    ));
    w.live.insert(
        job_key(),
        live(
            "1",
            json!({"name": "etl", "max_retries": 7, "timeout_seconds": 9}),
        ),
    );
    w.last.insert(
        job_key(),
        managed(
            "1",
            json!({"name": "etl", "max_retries": 1, "timeout_seconds": 5}),
        ),
    );
    w.ignore = vec![
        IgnoreRule {
            kind: Some(Kind::Job),
            name: None,
            json_pointers: vec!["/max_retries".into()],
        },
        IgnoreRule {
            kind: Some(Kind::Cluster),
            name: None,
            json_pointers: vec!["/timeout_seconds".into()],
        },
    ];
    let a = w.only();
    assert_eq!(a.changes.len(), 1);
    assert_eq!(a.changes[0].path, "/timeout_seconds");
    w.ignore[1].kind = None;
    w.ignore[1].name = Some("etl".into());
    assert_eq!(w.only().action, ActionKind::NoOp);

    w.ignore[0].json_pointers.push("max_retries".into());
    let err = w.plan().unwrap_err();
    assert!(
        matches!(err, PlanError::IgnoreRule { index: 0, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("analytics"));
}

#[test]
fn order_follows_kinds_references_and_acl_principals_and_deletes_reverse() {
    let mut w = World::default();
    let mut job = desired(
        Kind::Job,
        "etl",
        json!({"existing_cluster_id": "${resources.clusters.shared.id}"}),
    );
    job.permissions = vec![group("z-analysts", "CAN_VIEW")];
    let cluster = desired(
        Kind::Cluster,
        "shared",
        json!({"policy_id": "${resources.cluster_policies.small.id}"}),
    );
    w.desired.push(job);
    w.desired.push(cluster);
    w.desired.push(desired(
        Kind::ClusterPolicy,
        "small",
        json!({"name": "small"}),
    ));
    w.desired.push(desired(
        Kind::Group,
        "z-analysts",
        json!({"displayName": "z-analysts"}),
    ));
    w.options.prune = true;
    for (kind, name, spec) in [
        (Kind::Cluster, "old", json!({})),
        (
            Kind::Job,
            "old-job",
            json!({"existing_cluster_id": "${resources.clusters.old.id}"}),
        ),
    ] {
        w.live.insert(key(kind, name), live(name, json!({})));
        w.last.insert(key(kind, name), managed(name, spec));
    }
    let plan = w.plan().unwrap();
    let order: Vec<(ActionKind, &str)> = plan
        .actions
        .iter()
        .map(|a| (a.action, a.key.name.as_str()))
        .collect();
    assert_eq!(
        order,
        vec![
            (ActionKind::Create, "z-analysts"),
            (ActionKind::Create, "small"),
            (ActionKind::Create, "shared"),
            (ActionKind::Create, "etl"),
            (ActionKind::Delete, "old-job"),
            (ActionKind::Delete, "old"),
        ]
    );
    let etl = &plan.actions[3];
    assert_eq!(
        etl.after,
        vec![key(Kind::Cluster, "shared"), key(Kind::Group, "z-analysts")]
    );
    assert_eq!(plan.actions[5].after, vec![key(Kind::Job, "old-job")]);
}

#[test]
fn cycles_and_duplicates_are_errors() {
    let mut w = World::default();
    let mut a = desired(Kind::Job, "a", json!({"x": "${resources.jobs.b.id}"}));
    a.depends_on = vec![];
    let b = desired(Kind::Job, "b", json!({"x": "${resources.jobs.a.id}"}));
    w.desired = vec![a.clone(), b];
    let err = w.plan().unwrap_err();
    assert!(matches!(err, PlanError::Cycle { .. }));
    assert!(err.to_string().contains("prod/Job/a"), "{err}");
    w.desired = vec![a.clone(), a];
    assert!(matches!(w.plan(), Err(PlanError::DuplicateKey { .. })));
}

#[test]
fn permission_drift_is_planned() {
    let mut w = World::default();
    let mut d = desired(Kind::Job, "etl", json!({"name": "etl"}));
    d.permissions = vec![group("analysts", "CAN_VIEW")];
    w.desired.push(d.clone());
    let mut l = live("1", json!({"name": "etl"}));
    l.permissions = vec![group("analysts", "CAN_MANAGE")];
    w.live.insert(job_key(), l);
    let mut m = managed("1", json!({"name": "etl"}));
    m.permissions = d.permissions.clone();
    w.last.insert(job_key(), m);
    let a = w.only();
    assert_eq!(a.action, ActionKind::Update);
    assert!(a.drift);
    assert!(a.changes.is_empty());
    assert_eq!(a.permission_changes[0].old.as_deref(), Some("CAN_MANAGE"));
}

fn sample_plan() -> Plan {
    let mut w = World::default();
    w.options.prune = false;
    w.desired.push(desired(
        Kind::Job,
        "new",
        json!({"name": "new", "token": "dapi-secret"}),
    ));
    let spec = json!({"name": "etl", "timeout_seconds": 60, "client_secret": "old-secret"});
    w.desired.push(desired(
        Kind::Job,
        "etl",
        json!({"name": "etl", "timeout_seconds": 60, "client_secret": "new-secret"}),
    ));
    w.live.insert(
        job_key(),
        live(
            "1",
            json!({"name": "etl", "timeout_seconds": 999, "client_secret": "old-secret"}),
        ),
    );
    w.last.insert(job_key(), managed("1", spec));
    w.desired
        .push(desired(Kind::Job, "taken", json!({"name": "taken"})));
    w.live
        .insert(key(Kind::Job, "taken"), live("5", json!({"name": "taken"})));
    w.live
        .insert(key(Kind::Job, "gone"), live("6", json!({"name": "gone"})));
    w.last.insert(
        key(Kind::Job, "gone"),
        managed("6", json!({"name": "gone"})),
    );
    let mut app = w.plan().unwrap();
    app.add_violations([Violation {
        rule: "no-prod-deletes".into(),
        key: None,
        message: "kind Job is not allowed".into(),
    }]);
    Plan::new(Some("abc123".into()), vec![app])
}

#[test]
fn text_output_marks_each_action_and_masks_secrets() {
    let plan = sample_plan();
    let text = output::text(&plan, TextOptions::default());
    for needle in [
        "Plan at revision abc123",
        "app analytics",
        "+ prod/Job/new",
        "~ prod/Job/etl (id 1) [drift]",
        "~ /timeout_seconds: 999 → 60 (drift)",
        "~ /client_secret: \"(sensitive)\" → \"(sensitive)\"",
        "! prod/Job/taken (id 5) [conflict]",
        "- prod/Job/gone (id 6) [prune disabled]",
        "! violation of rule `no-prod-deletes`",
        "nothing will be applied",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    for secret in ["dapi-secret", "old-secret", "new-secret"] {
        assert!(!text.contains(secret), "{secret} leaked:\n{text}");
    }
    assert!(!text.contains('\x1b'));
    let colored = output::text(
        &plan,
        TextOptions {
            color: true,
            show_unchanged: false,
        },
    );
    assert!(colored.contains("\x1b[32m+ prod/Job/new"));
    // A blocked app is an error a reviewer must see; without it, changes pending.
    assert_eq!(plan.exit_code(), 1);
    let mut unblocked = plan.clone();
    unblocked.apps[0].violations.clear();
    unblocked.apps[0].resummarize();
    let unblocked = Plan::new(unblocked.revision, unblocked.apps);
    assert_eq!(unblocked.exit_code(), 2);
}

#[test]
fn json_output_is_versioned_and_round_trips() {
    let plan = sample_plan();
    let text = output::json(&plan);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["has_changes"], true);
    assert_eq!(v["summary"]["create"], 1);
    assert_eq!(v["summary"]["conflict"], 1);
    let create = v["apps"][0]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["address"] == "prod/Job/new")
        .unwrap();
    assert_eq!(create["action"], "create");
    assert_eq!(create["key"]["kind"], "Job");
    assert_eq!(create["key"]["name"], "new");
    assert!(!text.contains("old-secret"));
    let back: Plan = serde_json::from_str(&text).unwrap();
    assert_eq!(back, plan);
    let change: FieldChange =
        serde_json::from_str(r#"{"path": "/a", "old": null, "drift": false}"#).unwrap();
    assert_eq!(change.old, Some(Value::Null));
    assert_eq!(change.new, None);
}

#[test]
fn debug_output_of_live_and_last_applied_masks_secrets() {
    let spec =
        json!({"scope": "s", "string_value": "hunter2", "spark_env_vars": {"API_TOKEN": "t0k"}});
    let text = format!("{:?} {:?}", live("1", spec.clone()), managed("1", spec));
    assert!(!text.contains("hunter2") && !text.contains("t0k"), "{text}");
    assert!(text.contains("string_value"));
}

#[test]
fn an_empty_plan_exits_zero() {
    let plan = Plan::new(None, vec![World::default().plan().unwrap()]);
    assert_eq!(plan.exit_code(), 0);
    assert!(output::text(&plan, TextOptions::default()).contains("No changes"));
}

// ---- properties ----

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (0i64..4).prop_map(|n| json!(n)),
        prop::sample::select(vec!["x", "y", "z"]).prop_map(|s| json!(s)),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec!["a", "b", "c", "d"]),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

fn object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        prop::sample::select(vec!["a", "b", "c", "d"]),
        value(),
        0..4,
    )
    .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

/// Drops object entries that are null, `{}` or `[]` (the API's "absent").
fn prune(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), prune(v)))
                .filter(|(_, v)| match v {
                    Value::Null => false,
                    Value::Object(m) => !m.is_empty(),
                    Value::Array(a) => !a.is_empty(),
                    _ => true,
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(prune).collect()),
        other => other.clone(),
    }
}

/// Desired over live, keeping live-only (server-set) object entries.
fn overlay(d: &Value, l: &Value) -> Value {
    match (d, l) {
        (Value::Object(dm), Value::Object(lm)) => {
            let mut out = serde_json::Map::new();
            for (k, dv) in dm {
                if dv.is_null() {
                    continue;
                }
                let v = match lm.get(k) {
                    Some(lv) => overlay(dv, lv),
                    None => dv.clone(),
                };
                out.insert(k.clone(), v);
            }
            for (k, lv) in lm {
                if dm.get(k).is_none_or(Value::is_null) {
                    out.insert(k.clone(), lv.clone());
                }
            }
            Value::Object(out)
        }
        (Value::Array(da), Value::Array(la)) if da.len() == la.len() => {
            Value::Array(da.iter().zip(la).map(|(d, l)| overlay(d, l)).collect())
        }
        _ => d.clone(),
    }
}

fn no_ctx() -> (BTreeMap<ResourceKey, String>, Vec<pointer::Pattern>) {
    (BTreeMap::new(), Vec::new())
}

proptest! {
    #[test]
    fn diff_of_a_document_with_itself_is_empty(x in object(), last in proptest::option::of(object())) {
        let (ids, ignore) = no_ctx();
        let ctx = DiffContext { workspace: "prod", ids: &ids, ignore: &ignore };
        prop_assert!(diff::diff_spec(&x, &x, last.as_ref(), &ctx).is_empty());
        prop_assert!(diff::diff_spec(&x, &x, Some(&x), &ctx).is_empty());
    }

    #[test]
    fn applying_the_diff_yields_desired(desired in object(), live in object()) {
        let (ids, ignore) = no_ctx();
        let ctx = DiffContext { workspace: "prod", ids: &ids, ignore: &ignore };
        // Mortar applied everything live holds: desired wins exactly.
        let changes = diff::diff_spec(&desired, &live, Some(&live), &ctx);
        prop_assert_eq!(prune(&diff::apply_changes(&live, &changes)), prune(&desired));
        // Never applied: live-only fields are server-set and stay.
        let changes = diff::diff_spec(&desired, &live, None, &ctx);
        prop_assert_eq!(
            prune(&diff::apply_changes(&live, &changes)),
            prune(&overlay(&desired, &live))
        );
        // Re-planning after the apply finds nothing.
        let after = diff::apply_changes(&live, &changes);
        prop_assert!(diff::diff_spec(&desired, &after, None, &ctx).is_empty());
    }

    #[test]
    fn ignored_paths_keep_their_live_value(desired in object(), live in object()) {
        let ids = BTreeMap::new();
        let ignore = vec![pointer::Pattern::parse("/a").unwrap()];
        let ctx = DiffContext { workspace: "prod", ids: &ids, ignore: &ignore };
        let changes = diff::diff_spec(&desired, &live, Some(&live), &ctx);
        prop_assert!(changes.iter().all(|c| c.path.first().map(String::as_str) != Some("a")));
        let after = diff::apply_changes(&live, &changes);
        prop_assert_eq!(after.get("a"), live.get("a"));
    }

    #[test]
    fn order_respects_every_edge(
        kinds in prop::collection::vec(
            prop::sample::select(vec![Kind::Job, Kind::Cluster, Kind::Group, Kind::ClusterPolicy, Kind::Schema]),
            1..12,
        ),
        raw_edges in prop::collection::vec((0usize..12, 0usize..12), 0..30),
        deleting in any::<bool>(),
    ) {
        let n = kinds.len();
        // Edges only from later to earlier nodes, so the graph is acyclic.
        let edges: BTreeSet<(usize, usize)> = raw_edges
            .into_iter()
            .map(|(a, b)| (a % n, b % n))
            .filter(|(a, b)| a > b)
            .collect();
        let keys: Vec<ResourceKey> = kinds.iter().enumerate().map(|(i, k)| key(*k, &format!("n{i}"))).collect();
        let spec_of = |i: usize| {
            let refs: Vec<Value> = edges
                .iter()
                .filter(|(a, _)| *a == i)
                .map(|(_, b)| json!(format!("${{resources.{}.n{b}.id}}", kinds[*b].plural())))
                .collect();
            json!({"refs": refs})
        };
        let mut w = World::default();
        w.options.prune = true;
        for i in 0..n {
            if deleting {
                w.live.insert(keys[i].clone(), live(&i.to_string(), json!({})));
                w.last.insert(keys[i].clone(), managed(&i.to_string(), spec_of(i)));
            } else {
                w.desired.push(desired(kinds[i], &format!("n{i}"), spec_of(i)));
            }
        }
        let plan = w.plan().unwrap();
        prop_assert_eq!(plan.actions.len(), n);
        let pos: BTreeMap<&ResourceKey, usize> =
            plan.actions.iter().enumerate().map(|(i, a)| (&a.key, i)).collect();
        for (a, b) in &edges {
            // `a` references `b`: create b first, delete a first.
            if deleting {
                prop_assert!(pos[&keys[*a]] < pos[&keys[*b]]);
            } else {
                prop_assert!(pos[&keys[*b]] < pos[&keys[*a]]);
            }
        }
    }
}
