# Cost attribution: compute carries the required tags (denied without
# them) and should carry the recommended ones (a warning).
#
# parameters:
#   tags:        required tag keys (default ["team"])
#   recommended: tag keys whose absence is a warning (default [])
package mortar.tags.required

import rego.v1

required := object.get(input.parameters, "tags", ["team"])

recommended := object.get(input.parameters, "recommended", [])

# The tags a resource carries, by kind.
tags(r) := object.keys(object.get(r.spec, "custom_tags", {})) if r.kind in {"Cluster", "InstancePool"}

tags(r) := object.keys(object.get(r.spec, "tags", {})) if r.kind == "Job"

tags(r) := {t.key | some t in object.get(r.spec, ["tags", "custom_tags"], [])} if r.kind == "SqlWarehouse"

missing(r, keys) := [k | some k in keys; not k in tags(r)]

deny contains {"key": r.address, "message": msg} if {
	some r in input.resources
	tags(r)
	gaps := missing(r, required)
	count(gaps) > 0
	msg := sprintf("missing required tag%s %s", [plural(gaps), concat(", ", gaps)])
}

warn contains {"key": r.address, "message": msg} if {
	some r in input.resources
	tags(r)
	gaps := missing(r, recommended)
	count(gaps) > 0
	msg := sprintf("missing recommended tag%s %s", [plural(gaps), concat(", ", gaps)])
}

plural(items) := "s" if count(items) > 1

plural(items) := "" if count(items) <= 1
