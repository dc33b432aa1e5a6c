# Every job is owned by a service principal, never by a person, runs as
# one, and tells someone when it fails.
package mortar.jobs.ownership

import rego.v1

jobs contains r if {
	some r in input.resources
	r.kind == "Job"
}

owners(job) := {entry | some entry in job.permissions; entry.permission_level == "IS_OWNER"}

deny contains {"key": job.address, "message": msg} if {
	some job in jobs
	some entry in owners(job)
	entry.user_name
	msg := sprintf("job is owned by a person (`%s`); make a service principal its IS_OWNER", [entry.user_name])
}

deny contains {"key": job.address, "message": "job has no owner: give a service principal IS_OWNER in `permissions:`"} if {
	some job in jobs
	count({e | some e in owners(job); e.service_principal_name}) == 0
}

deny contains {"key": job.address, "message": msg} if {
	some job in jobs
	job.spec.run_as.user_name
	msg := sprintf("job runs as a person (`%s`); set run_as.service_principal_name", [job.spec.run_as.user_name])
}

notifies_on_failure(spec) if count(object.get(spec, ["email_notifications", "on_failure"], [])) > 0

notifies_on_failure(spec) if count(object.get(spec, ["webhook_notifications", "on_failure"], [])) > 0

deny contains {"key": job.address, "message": "job has no on_failure notification: add email_notifications.on_failure or webhook_notifications.on_failure"} if {
	some job in jobs
	not notifies_on_failure(job.spec)
}
