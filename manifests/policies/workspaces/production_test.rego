package mortar.workspaces.production_test

import rego.v1

import data.mortar.workspaces.production as policy

app(project, workspace) := {
	"project": {"name": project},
	"parameters": {"projects": ["data-engineering"]},
	"resources": [{"address": sprintf("%s/Job/j", [workspace]), "kind": "Job", "workspace": workspace, "spec": {}}],
	"actions": [],
}

test_a_listed_project_deploys_to_production if {
	count(policy.deny) == 0 with input as app("data-engineering", "prod")
}

test_another_project_is_refused_in_production if {
	some finding in policy.deny with input as app("sandbox", "prod")
	finding.key == "prod/Job/j"
	contains(finding.message, "project `sandbox` may not deploy to production workspace `prod` (allowed: data-engineering)")
}

test_another_project_deploys_to_dev if {
	count(policy.deny) == 0 with input as app("sandbox", "dev")
}

test_a_planned_delete_in_production_is_refused if {
	inp := object.union(app("sandbox", "dev"), {"actions": [{"address": "prod/Job/old", "workspace": "prod", "action": "delete"}]})
	{f.key | some f in policy.deny} == {"prod/Job/old"} with input as inp
}
