//! Checks that need the whole rendered tree: each resource key declared
//! once, references that point at a resource of the same app, and no
//! reference cycles. References become `depends_on` edges. A key declared
//! twice by one app, and an app's reference errors, are that app's own; a
//! key two apps declare is an error of the whole tree.

use std::collections::{BTreeMap, HashMap};

use super::Kind;
use super::ResourceKey;
use super::diag::{At, suggest};
use super::render::{IndexedRef, RenderedApp, Renderer};
use super::resource::Origin;

impl Renderer<'_> {
    pub(super) fn check_keys(&mut self, apps: &[RenderedApp]) {
        let mut seen: BTreeMap<&ResourceKey, (&str, &Origin)> = BTreeMap::new();
        for app in apps {
            for r in &app.resources {
                if let Some((other_app, origin)) = seen.get(&r.key) {
                    let same_app = *other_app == app.name;
                    let who = if same_app {
                        "this app".to_string()
                    } else {
                        format!("app `{other_app}`")
                    };
                    let from = self.diags.errors.len();
                    self.diags.error(
                        At::new(
                            &r.origin.file,
                            r.origin.line,
                            r.origin.column,
                            "metadata.name",
                        ),
                        format!(
                            "resource `{}` is already declared by {who} at {}:{}",
                            r.key, origin.file, origin.line
                        ),
                    );
                    if same_app && let Some(slot) = self.slot_of(&app.name) {
                        self.claim(from, slot);
                    }
                } else {
                    seen.insert(&r.key, (&app.name, &r.origin));
                }
            }
        }
    }

    pub(super) fn check_references(&mut self, apps: &mut [RenderedApp], refs: &[Vec<IndexedRef>]) {
        let mut owners: HashMap<ResourceKey, String> = HashMap::new();
        for app in apps.iter() {
            for r in &app.resources {
                owners
                    .entry(r.key.clone())
                    .or_insert_with(|| app.name.clone());
            }
        }
        let slots: HashMap<String, usize> = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        for (app, app_refs) in apps.iter_mut().zip(refs) {
            let from = self.diags.errors.len();
            for (index, reference) in app_refs {
                let index = *index;
                let field = reference.field.as_str();
                let Some(resource) = app.resources.get(index) else {
                    continue;
                };
                let file = resource.origin.file.clone();
                let at = At::new(&file, reference.line, reference.column, field);
                let Some(kind) = Kind::from_plural(&reference.plural).filter(|k| k.is_databricks())
                else {
                    let plurals = Kind::ALL
                        .iter()
                        .filter(|k| k.is_databricks())
                        .map(|k| k.plural());
                    let hint = suggest(&reference.plural, plurals)
                        .map(|c| format!("; did you mean `{c}`?"))
                        .unwrap_or_default();
                    self.diags.error(
                        at,
                        format!(
                            "unknown resource kind `{}` in reference{hint}",
                            reference.plural
                        ),
                    );
                    continue;
                };
                let attribute_ok = reference.attribute == "id"
                    || (kind == Kind::ServicePrincipal && reference.attribute == "application_id");
                if !attribute_ok {
                    let allowed = if kind == Kind::ServicePrincipal {
                        "id or application_id"
                    } else {
                        "id"
                    };
                    self.diags.error(
                        at,
                        format!(
                            "a reference ends in `.{allowed}`, found `.{}`",
                            reference.attribute
                        ),
                    );
                    continue;
                }
                let target = ResourceKey {
                    workspace: resource.key.workspace.clone(),
                    kind,
                    name: reference.name.clone(),
                };
                let own = app.resources.iter().any(|r| r.key == target);
                match owners.get(&target) {
                    _ if own => {
                        if target == resource.key {
                            self.diags.error(at, "a resource cannot reference itself");
                            continue;
                        }
                        let deps = &mut app.resources[index].depends_on;
                        if !deps.contains(&target) {
                            deps.push(target);
                        }
                    }
                    Some(owner) => self.diags.error(
                        at,
                        format!("{kind} `{}` belongs to app `{owner}`; references stay within one app (use a variable for ids owned elsewhere)", reference.name),
                    ),
                    None => {
                        let names = app.resources.iter().filter(|r| r.key.kind == kind).map(|r| r.key.name.as_str());
                        let hint = suggest(&reference.name, names)
                            .map(|c| format!("; did you mean `{c}`?"))
                            .unwrap_or_default();
                        self.diags.error(
                            at,
                            format!("no {kind} named `{}` in app `{}` (workspace `{}`){hint}", reference.name, app.name, resource.key.workspace),
                        );
                    }
                }
            }
            self.check_cycles(app);
            if let Some(&slot) = slots.get(&app.name) {
                self.claim(from, slot);
            }
        }
    }

    fn check_cycles(&mut self, app: &RenderedApp) {
        let index: HashMap<&ResourceKey, usize> = app
            .resources
            .iter()
            .enumerate()
            .map(|(i, r)| (&r.key, i))
            .collect();
        // 0 = unvisited, 1 = on the stack, 2 = done
        let mut state = vec![0u8; app.resources.len()];
        for start in 0..app.resources.len() {
            if state[start] != 0 {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            state[start] = 1;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                let deps = &app.resources[node].depends_on;
                if *next < deps.len() {
                    let dep = &deps[*next];
                    *next += 1;
                    let Some(&d) = index.get(dep) else { continue };
                    match state[d] {
                        0 => {
                            state[d] = 1;
                            stack.push((d, 0));
                        }
                        1 => {
                            let pos = stack.iter().position(|(n, _)| *n == d).unwrap_or(0);
                            let mut chain: Vec<String> = stack[pos..]
                                .iter()
                                .map(|(n, _)| {
                                    format!(
                                        "{}/{}",
                                        app.resources[*n].key.kind, app.resources[*n].key.name
                                    )
                                })
                                .collect();
                            chain.push(format!(
                                "{}/{}",
                                app.resources[d].key.kind, app.resources[d].key.name
                            ));
                            let r = &app.resources[node];
                            self.diags.error(
                                At::new(&r.origin.file, r.origin.line, r.origin.column, "spec"),
                                format!("reference cycle: {}", chain.join(" → ")),
                            );
                        }
                        _ => {}
                    }
                } else {
                    state[node] = 2;
                    stack.pop();
                }
            }
        }
    }
}
