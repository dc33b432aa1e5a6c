package mortar.jobs.ownership_test

import rego.v1

import data.mortar.jobs.ownership as policy

alerts := {"email_notifications": {"on_failure": ["team@example.com"]}}

runs_as_robot := {"run_as": {"service_principal_name": "1b2c"}}

robot_owner := [{"service_principal_name": "1b2c", "permission_level": "IS_OWNER"}]

job(spec, permissions) := {"parameters": {}, "resources": [{
	"address": "dev/Job/j",
	"kind": "Job",
	"spec": spec,
	"permissions": permissions,
}]}

test_a_job_owned_by_a_service_principal_that_alerts_passes if {
	count(policy.deny) == 0 with input as job(object.union(alerts, runs_as_robot), robot_owner)
}

test_a_job_owned_by_a_person_is_denied if {
	person := [{"user_name": "ana@example.com", "permission_level": "IS_OWNER"}]
	messages := {f.message | some f in policy.deny} with input as job(alerts, person)
	messages == {
		"job is owned by a person (`ana@example.com`); make a service principal its IS_OWNER",
		"job has no owner: give a service principal IS_OWNER in `permissions:`",
	}
}

test_a_job_running_as_a_person_is_denied if {
	spec := object.union(alerts, {"run_as": {"user_name": "ana@example.com"}})
	{f.message | some f in policy.deny} == {"job runs as a person (`ana@example.com`); set run_as.service_principal_name"} with input as job(spec, robot_owner)
}

test_a_job_without_failure_alerts_is_denied if {
	some finding in policy.deny with input as job(runs_as_robot, robot_owner)
	finding.key == "dev/Job/j"
	contains(finding.message, "no on_failure notification")
}

test_a_webhook_on_failure_is_enough if {
	spec := {"webhook_notifications": {"on_failure": [{"id": "w"}]}}
	count(policy.deny) == 0 with input as job(spec, robot_owner)
}
