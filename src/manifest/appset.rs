//! ApplicationSets: one Application per element of a list generator, with
//! `{{key}}` templated from the element into the template's strings.

use super::Kind;
use super::app::{self, AppSpec};
use super::diag::At;
use super::document::{self, Document};
use super::fields::Fields;
use super::render::Renderer;
use super::vars::{self, Values};

impl Renderer<'_> {
    /// An Application document gives one app; an ApplicationSet one per element.
    pub(super) fn expand(&mut self, doc: &Document) -> Vec<AppSpec> {
        let Some(spec) = doc.spec() else {
            return Vec::new();
        };
        if doc.kind == Kind::Application {
            return app::read_app(
                &mut self.diags,
                &doc.file,
                &doc.name,
                spec,
                "spec",
                doc.origin.clone(),
            )
            .into_iter()
            .collect();
        }
        let file = doc.file.as_str();
        let Some(f) = Fields::open(
            &mut self.diags,
            file,
            spec,
            "spec",
            &["generators", "template"],
        ) else {
            return Vec::new();
        };
        let mut elements: Vec<(Values, usize)> = Vec::new();
        match f.entry("generators") {
            None => self.diags.error(
                At::new(file, spec.line, spec.column, "spec"),
                "missing required field `generators`",
            ),
            Some(g) => match g.value.as_seq() {
                None => self.diags.error(
                    At::new(file, g.value.line, g.value.column, "spec.generators"),
                    "expected a list of generators",
                ),
                Some(gens) => {
                    for (i, gen_node) in gens.iter().enumerate() {
                        let gp = format!("spec.generators[{i}]");
                        let Some(gf) =
                            Fields::open(&mut self.diags, file, gen_node, &gp, &["list"])
                        else {
                            continue;
                        };
                        let Some(list) = gf.entry("list") else {
                            self.diags.error(
                                At::new(file, gen_node.line, gen_node.column, &gp),
                                "missing generator: only `list` is supported",
                            );
                            continue;
                        };
                        let lp = format!("{gp}.list");
                        let Some(lf) =
                            Fields::open(&mut self.diags, file, &list.value, &lp, &["elements"])
                        else {
                            continue;
                        };
                        let Some(items) = lf.entry("elements").and_then(|e| e.value.as_seq())
                        else {
                            self.diags.error(
                                At::new(file, list.value.line, list.value.column, &lp),
                                "missing required field `elements` (a list)",
                            );
                            continue;
                        };
                        for (j, item) in items.iter().enumerate() {
                            let ep = format!("{lp}.elements[{j}]");
                            if let Some(values) =
                                app::read_values(&mut self.diags, file, item, &ep, "element")
                            {
                                elements.push((values, item.line));
                            }
                        }
                    }
                }
            },
        }
        let Some(template) = f.entry("template") else {
            self.diags.error(
                At::new(file, spec.line, spec.column, "spec"),
                "missing required field `template`",
            );
            return Vec::new();
        };
        let Some(tf) = Fields::open(
            &mut self.diags,
            file,
            &template.value,
            "spec.template",
            &["metadata", "spec"],
        ) else {
            return Vec::new();
        };
        let (Some(meta), Some(tspec)) = (tf.entry("metadata"), tf.entry("spec")) else {
            self.diags.error(
                At::new(
                    file,
                    template.value.line,
                    template.value.column,
                    "spec.template",
                ),
                "a template has `metadata: { name }` and `spec` (an Application spec)",
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (values, _line) in elements {
            let errors_before = self.diags.errors.len();
            let meta_node = vars::template(
                &mut self.diags,
                file,
                &meta.value,
                "spec.template.metadata",
                &values,
            );
            let spec_node = vars::template(
                &mut self.diags,
                file,
                &tspec.value,
                "spec.template.spec",
                &values,
            );
            if self.diags.errors.len() > errors_before {
                continue;
            }
            let Some(mf) = Fields::open(
                &mut self.diags,
                file,
                &meta_node,
                "spec.template.metadata",
                &["name", "labels", "annotations"],
            ) else {
                continue;
            };
            let Some(name) = mf.string(&mut self.diags, "name", true) else {
                continue;
            };
            if !document::valid_name(&name) {
                let (line, column) = mf.at("name");
                self.diags.error(
                    At::new(file, line, column, "spec.template.metadata.name"),
                    format!(
                        "generated name `{name}` is not a valid name (letters, digits, `_`, `-`)"
                    ),
                );
                continue;
            }
            if let Some(mut spec) = app::read_app(
                &mut self.diags,
                file,
                &name,
                &spec_node,
                "spec.template.spec",
                doc.origin.clone(),
            ) {
                spec.generated_by = Some(doc.name.clone());
                out.push(spec);
            }
        }
        out
    }
}
