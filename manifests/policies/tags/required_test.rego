package mortar.tags.required_test

import rego.v1

import data.mortar.tags.required as policy

cluster(tags) := {"address": "dev/Cluster/c", "kind": "Cluster", "spec": {"custom_tags": tags}}

warehouse(tags) := {"address": "dev/SqlWarehouse/w", "kind": "SqlWarehouse", "spec": {"tags": {"custom_tags": tags}}}

test_tagged_compute_passes if {
	inp := {"parameters": {}, "resources": [cluster({"team": "a"}), warehouse([{"key": "team", "value": "a"}])]}
	count(policy.deny) == 0 with input as inp
}

test_untagged_compute_is_denied if {
	inp := {"parameters": {"tags": ["team", "cost-center"]}, "resources": [cluster({"team": "a"}), warehouse([])]}
	messages := {[f.key, f.message] | some f in policy.deny} with input as inp
	messages == {
		["dev/Cluster/c", "missing required tag cost-center"],
		["dev/SqlWarehouse/w", "missing required tags team, cost-center"],
	}
}

test_a_job_without_tags_is_denied if {
	inp := {"parameters": {}, "resources": [{"address": "dev/Job/j", "kind": "Job", "spec": {}}]}
	count(policy.deny) == 1 with input as inp
}

test_recommended_tags_only_warn if {
	inp := {"parameters": {"recommended": ["env"]}, "resources": [cluster({"team": "a"})]}
	count(policy.deny) == 0 with input as inp
	{f.message | some f in policy.warn} == {"missing recommended tag env"} with input as inp
}

test_kinds_without_tags_are_not_checked if {
	inp := {"parameters": {}, "resources": [{"address": "dev/Group/g", "kind": "Group", "spec": {}}]}
	count(policy.deny) == 0 with input as inp
}
