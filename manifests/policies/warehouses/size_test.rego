package mortar.warehouses.size_test

import rego.v1

import data.mortar.warehouses.size as policy

warehouse(spec, parameters) := {"parameters": parameters, "resources": [{"address": "dev/SqlWarehouse/w", "kind": "SqlWarehouse", "spec": spec}]}

test_a_small_warehouse_passes if {
	count(policy.deny) == 0 with input as warehouse({"cluster_size": "Small", "max_num_clusters": 2}, {})
}

test_a_large_warehouse_is_denied if {
	some finding in policy.deny with input as warehouse({"cluster_size": "X-Large"}, {})
	finding.message == "warehouse size X-Large is above the cap of Medium"
}

test_the_cap_is_a_parameter if {
	count(policy.deny) == 0 with input as warehouse({"cluster_size": "X-Large"}, {"max_size": "2X-Large"})
}

test_an_unknown_size_is_denied if {
	count(policy.deny) == 1 with input as warehouse({"cluster_size": "Huge"}, {})
}

test_too_many_clusters_is_denied if {
	count(policy.deny) == 1 with input as warehouse({"cluster_size": "Small", "max_num_clusters": 10}, {})
}
