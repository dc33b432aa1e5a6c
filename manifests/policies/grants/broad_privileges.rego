# No sweeping rights for everyone: no ALL_PRIVILEGES or MANAGE on a Unity
# Catalog securable, and no CAN_MANAGE or IS_OWNER on a workspace object,
# for a principal that stands for every user.
#
# parameters:
#   broad_principals: principals that mean "everyone" (default
#                     ["account users", "users"])
package mortar.grants.broad

import rego.v1

broad := object.get(input.parameters, "broad_principals", ["account users", "users"])

sweeping_privileges := {"ALL_PRIVILEGES", "MANAGE"}

sweeping_levels := {"CAN_MANAGE", "IS_OWNER"}

deny contains {"key": r.address, "message": msg} if {
	some r in input.resources
	r.kind == "Grants"
	some assignment in object.get(r.spec, "privilege_assignments", [])
	assignment.principal in broad
	some privilege in object.get(assignment, "privileges", [])
	privilege in sweeping_privileges
	msg := sprintf("`%s` may not hold %s on %s `%v`; grant narrower privileges or to a smaller group", [assignment.principal, privilege, r.spec.securable_type, r.spec.full_name])
}

deny contains {"key": r.address, "message": msg} if {
	some r in input.resources
	some entry in r.permissions
	entry.group_name in broad
	entry.permission_level in sweeping_levels
	msg := sprintf("group `%s` may not hold %s; give it to a smaller group", [entry.group_name, entry.permission_level])
}
