//! The fixed catalogues behind cluster creation: node types, Spark versions
//! and availability zones (enough for the SDK's `select_node_type` and
//! `select_spark_version`).

use serde_json::{Value, json};

use crate::errors::ApiResult;
use crate::http::ok;

/// `GET clusters/list-node-types`.
pub async fn node_types() -> ApiResult {
    let types: Vec<Value> = [
        ("i3.xlarge", 31232, 4.0, "Storage Optimized"),
        ("i3.2xlarge", 62464, 8.0, "Storage Optimized"),
        ("m5d.large", 8192, 2.0, "General Purpose"),
        ("m5d.xlarge", 16384, 4.0, "General Purpose"),
        ("r5d.xlarge", 32768, 4.0, "Memory Optimized"),
    ]
    .iter()
    .map(|(id, mem, cores, category)| {
        json!({
            "node_type_id": id, "instance_type_id": id, "description": id, "memory_mb": mem,
            "num_cores": cores, "category": category, "is_deprecated": false,
            "is_io_cache_enabled": category == &"Storage Optimized",
            "support_port_forwarding": true, "photon_driver_capable": true,
            "photon_worker_capable": true,
            "node_info": {"status": []},
            "node_instance_type": {"instance_type_id": id, "local_disks": 1, "local_disk_size_gb": 950},
        })
    })
    .collect();
    ok(json!({"node_types": types}))
}

/// `GET clusters/spark-versions`.
pub async fn spark_versions() -> ApiResult {
    let versions: Vec<Value> = [
        (
            "16.4.x-scala2.12",
            "16.4 LTS (includes Apache Spark 3.5.2, Scala 2.12)",
        ),
        (
            "15.4.x-scala2.12",
            "15.4 LTS (includes Apache Spark 3.5.0, Scala 2.12)",
        ),
        (
            "15.4.x-photon-scala2.12",
            "15.4 LTS Photon (includes Apache Spark 3.5.0, Scala 2.12)",
        ),
        (
            "15.4.x-cpu-ml-scala2.12",
            "15.4 LTS ML (includes Apache Spark 3.5.0, Scala 2.12)",
        ),
        (
            "14.3.x-scala2.12",
            "14.3 LTS (includes Apache Spark 3.5.0, Scala 2.12)",
        ),
    ]
    .iter()
    .map(|(key, name)| json!({"key": key, "name": name}))
    .collect();
    ok(json!({"versions": versions}))
}

/// `GET clusters/list-zones`.
pub async fn zones() -> ApiResult {
    ok(json!({"zones": ["us-east-1a", "us-east-1b", "us-east-1c"], "default_zone": "us-east-1c"}))
}
