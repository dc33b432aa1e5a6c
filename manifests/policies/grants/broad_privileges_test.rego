package mortar.grants.broad_test

import rego.v1

import data.mortar.grants.broad as policy

grants(assignments) := {"parameters": {}, "resources": [{
	"address": "dev/Grants/g",
	"kind": "Grants",
	"permissions": [],
	"spec": {"securable_type": "catalog", "full_name": "main", "privilege_assignments": assignments},
}]}

test_all_privileges_to_account_users_is_denied if {
	some finding in policy.deny with input as grants([{"principal": "account users", "privileges": ["USE_CATALOG", "ALL_PRIVILEGES"]}])
	finding.key == "dev/Grants/g"
	contains(finding.message, "`account users` may not hold ALL_PRIVILEGES on catalog `main`")
}

test_manage_to_account_users_is_denied if {
	count(policy.deny) == 1 with input as grants([{"principal": "account users", "privileges": ["MANAGE"]}])
}

test_narrow_grants_to_everyone_pass if {
	count(policy.deny) == 0 with input as grants([{"principal": "account users", "privileges": ["USE_CATALOG", "BROWSE"]}])
}

test_all_privileges_to_a_team_pass if {
	count(policy.deny) == 0 with input as grants([{"principal": "data-engineers", "privileges": ["ALL_PRIVILEGES"]}])
}

test_can_manage_for_all_users_is_denied if {
	job := {"address": "dev/Job/j", "kind": "Job", "spec": {}, "permissions": [{"group_name": "users", "permission_level": "CAN_MANAGE"}]}
	count(policy.deny) == 1 with input as {"parameters": {}, "resources": [job]}
}
