# Compute stops when idle. All-purpose clusters, instance pools' idle
# instances and SQL warehouses stop within `max_minutes` of idling; a job
# run, and with it its job clusters, ends within `max_job_minutes`.
#
# parameters:
#   max_minutes:     idle bound for clusters, pools, warehouses (default 120)
#   max_job_minutes: run bound for jobs with their own clusters (default 480)
package mortar.compute.autotermination

import rego.v1

max_minutes := object.get(input.parameters, "max_minutes", 120)

max_job_minutes := object.get(input.parameters, "max_job_minutes", 480)

within(minutes, bound) if {
	is_number(minutes)
	minutes > 0
	minutes <= bound
}

deny contains {"key": r.address, "message": msg} if {
	some r in input.resources
	r.kind == "Cluster"
	minutes := object.get(r.spec, "autotermination_minutes", 0)
	not within(minutes, max_minutes)
	msg := sprintf("cluster must auto-terminate within %v minutes: set autotermination_minutes between 1 and %v (now %v)", [max_minutes, max_minutes, minutes])
}

deny contains {"key": r.address, "message": msg} if {
	some r in input.resources
	r.kind == "InstancePool"
	minutes := object.get(r.spec, "idle_instance_autotermination_minutes", 0)
	not within(minutes, max_minutes)
	msg := sprintf("idle pool instances must stop within %v minutes: set idle_instance_autotermination_minutes between 1 and %v (now %v)", [max_minutes, max_minutes, minutes])
}

# A warehouse without auto_stop_mins stops after 120 minutes, the API's default.
deny contains {"key": r.address, "message": msg} if {
	some r in input.resources
	r.kind == "SqlWarehouse"
	minutes := object.get(r.spec, "auto_stop_mins", 120)
	not within(minutes, max_minutes)
	msg := sprintf("warehouse must stop within %v minutes of idling: set auto_stop_mins between 1 and %v (now %v)", [max_minutes, max_minutes, minutes])
}

# A job that starts clusters of its own.
starts_clusters(spec) if count(object.get(spec, "job_clusters", [])) > 0

starts_clusters(spec) if {
	some task in object.get(spec, "tasks", [])
	task.new_cluster
}

deny contains {"key": r.address, "message": msg} if {
	some r in input.resources
	r.kind == "Job"
	starts_clusters(r.spec)
	seconds := object.get(r.spec, "timeout_seconds", 0)
	not within(seconds, max_job_minutes * 60)
	msg := sprintf("job clusters must terminate within %v minutes: set the job's timeout_seconds between 1 and %v (now %v)", [max_job_minutes, max_job_minutes * 60, seconds])
}
