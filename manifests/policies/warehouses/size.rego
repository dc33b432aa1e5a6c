# SQL warehouses stay within a size and a cluster count.
#
# parameters:
#   max_size:     the largest cluster_size allowed (default "Medium")
#   max_clusters: the largest max_num_clusters allowed (default 4)
package mortar.warehouses.size

import rego.v1

sizes := ["2X-Small", "X-Small", "Small", "Medium", "Large", "X-Large", "2X-Large", "3X-Large", "4X-Large"]

max_size := object.get(input.parameters, "max_size", "Medium")

max_clusters := object.get(input.parameters, "max_clusters", 4)

rank(size) := i if {
	some i, s in sizes
	s == size
}

deny contains {"key": r.address, "message": msg} if {
	some r in input.resources
	r.kind == "SqlWarehouse"
	rank(r.spec.cluster_size) > rank(max_size)
	msg := sprintf("warehouse size %s is above the cap of %s", [r.spec.cluster_size, max_size])
}

deny contains {"key": r.address, "message": msg} if {
	some r in input.resources
	r.kind == "SqlWarehouse"
	not rank(r.spec.cluster_size)
	msg := sprintf("unknown warehouse size %v; expected one of %s", [object.get(r.spec, "cluster_size", null), concat(", ", sizes)])
}

deny contains {"key": r.address, "message": msg} if {
	some r in input.resources
	r.kind == "SqlWarehouse"
	object.get(r.spec, "max_num_clusters", 1) > max_clusters
	msg := sprintf("warehouse may scale to %v clusters; the cap is %v", [r.spec.max_num_clusters, max_clusters])
}
