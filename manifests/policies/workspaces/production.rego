# Production belongs to named projects: an app of any other project may
# neither declare nor change anything in a production workspace.
#
# parameters:
#   workspaces: the production workspaces (default ["prod"])
#   projects:   the projects allowed there (default: none)
package mortar.workspaces.production

import rego.v1

production := object.get(input.parameters, "workspaces", ["prod"])

allowed := object.get(input.parameters, "projects", [])

outsider if not input.project.name in allowed

deny contains {"key": r.address, "message": msg} if {
	outsider
	some r in input.resources
	r.workspace in production
	msg := sprintf("project `%s` may not deploy to production workspace `%s` (allowed: %s)", [input.project.name, r.workspace, listed])
}

# Deletes are planned from the inventory, not from the resources.
deny contains {"key": a.address, "message": msg} if {
	outsider
	some a in input.actions
	a.workspace in production
	a.action in {"delete", "update", "create"}
	msg := sprintf("project `%s` may not %s in production workspace `%s` (allowed: %s)", [input.project.name, a.action, a.workspace, listed])
}

listed := concat(", ", allowed) if count(allowed) > 0

listed := "no project" if count(allowed) == 0
