package mortar.compute.autotermination_test

import rego.v1

import data.mortar.compute.autotermination as policy

cluster(spec) := {"resources": [{"address": "dev/Cluster/c", "kind": "Cluster", "name": "c", "spec": spec}], "parameters": {}}

test_a_cluster_that_never_terminates_is_denied if {
	some finding in policy.deny with input as cluster({"cluster_name": "c"})
	finding.key == "dev/Cluster/c"
	contains(finding.message, "autotermination_minutes between 1 and 120 (now 0)")
}

test_a_cluster_idle_too_long_is_denied if {
	count(policy.deny) == 1 with input as cluster({"autotermination_minutes": 600})
}

test_a_cluster_within_the_bound_passes if {
	count(policy.deny) == 0 with input as cluster({"autotermination_minutes": 30})
}

test_the_bound_is_a_parameter if {
	inp := object.union(cluster({"autotermination_minutes": 30}), {"parameters": {"max_minutes": 20}})
	count(policy.deny) == 1 with input as inp
}

test_a_warehouse_that_never_stops_is_denied if {
	inp := {"parameters": {}, "resources": [{"address": "dev/SqlWarehouse/w", "kind": "SqlWarehouse", "spec": {"auto_stop_mins": 0}}]}
	count(policy.deny) == 1 with input as inp
}

test_a_warehouse_on_the_api_default_passes if {
	inp := {"parameters": {}, "resources": [{"address": "dev/SqlWarehouse/w", "kind": "SqlWarehouse", "spec": {}}]}
	count(policy.deny) == 0 with input as inp
}

test_a_job_with_job_clusters_needs_a_timeout if {
	job := {"address": "dev/Job/j", "kind": "Job", "spec": {"job_clusters": [{"job_cluster_key": "x", "new_cluster": {}}]}}
	count(policy.deny) == 1 with input as {"parameters": {}, "resources": [job]}
	timed := object.union(job, {"spec": {"job_clusters": job.spec.job_clusters, "timeout_seconds": 3600}})
	count(policy.deny) == 0 with input as {"parameters": {}, "resources": [timed]}
}

test_a_job_on_an_existing_cluster_needs_no_timeout if {
	job := {"address": "dev/Job/j", "kind": "Job", "spec": {"tasks": [{"task_key": "t", "existing_cluster_id": "1"}]}}
	count(policy.deny) == 0 with input as {"parameters": {}, "resources": [job]}
}
