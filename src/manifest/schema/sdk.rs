//! The request shapes of the Databricks create calls, as published in the
//! request classes of the Databricks SDK for Python 0.162.0: field names as
//! sent on the wire, their types, enum values, and which fields are required.
//! Generated from that SDK's service modules; regenerate rather than edit.

use super::{Ty, TypeDef, f};

pub static JOB: TypeDef = TypeDef {
    name: "job",
    fields: &[
        f("budget_policy_id", Ty::Str, false, false),
        f("continuous", Ty::Obj(&T_JOBS_CONTINUOUS), false, false),
        f("deployment", Ty::Obj(&T_JOBS_JOB_DEPLOYMENT), false, false),
        f("description", Ty::Str, false, false),
        f("duration_target", Ty::Str, false, false),
        f("edit_mode", Ty::Enum(E_JOBS_JOB_EDIT_MODE), false, false),
        f(
            "email_notifications",
            Ty::Obj(&T_JOBS_JOB_EMAIL_NOTIFICATIONS),
            false,
            false,
        ),
        f(
            "environment_variables",
            Ty::Obj(&T_JOBS_JOB_ENVIRONMENT_VARIABLES),
            true,
            false,
        ),
        f(
            "environments",
            Ty::Obj(&T_JOBS_JOB_ENVIRONMENT),
            true,
            false,
        ),
        f("format", Ty::Enum(E_JOBS_FORMAT), false, false),
        f("git_source", Ty::Obj(&T_JOBS_GIT_SOURCE), false, false),
        f("health", Ty::Obj(&T_JOBS_JOBS_HEALTH_RULES), false, false),
        f("job_clusters", Ty::Obj(&T_JOBS_JOB_CLUSTER), true, false),
        f("max_concurrent_runs", Ty::Int, false, false),
        f("name", Ty::Str, false, false),
        f(
            "notification_settings",
            Ty::Obj(&T_JOBS_JOB_NOTIFICATION_SETTINGS),
            false,
            false,
        ),
        f(
            "parameters",
            Ty::Obj(&T_JOBS_JOB_PARAMETER_DEFINITION),
            true,
            false,
        ),
        f("parent_path", Ty::Str, false, false),
        f(
            "performance_target",
            Ty::Enum(E_JOBS_PERFORMANCE_TARGET),
            false,
            false,
        ),
        f("queue", Ty::Obj(&T_JOBS_QUEUE_SETTINGS), false, false),
        f("run_as", Ty::Obj(&T_JOBS_JOB_RUN_AS), false, false),
        f("schedule", Ty::Obj(&T_JOBS_CRON_SCHEDULE), false, false),
        f("tags", Ty::Map, false, false),
        f("tasks", Ty::Obj(&T_JOBS_TASK), true, false),
        f("timeout_seconds", Ty::Int, false, false),
        f("trigger", Ty::Obj(&T_JOBS_TRIGGER_SETTINGS), false, false),
        f(
            "triggers",
            Ty::Obj(&T_JOBS_TRIGGER_CONFIGURATION),
            true,
            false,
        ),
        f("usage_policy_id", Ty::Str, false, false),
        f(
            "webhook_notifications",
            Ty::Obj(&T_JOBS_WEBHOOK_NOTIFICATIONS),
            false,
            false,
        ),
    ],
};
pub static CLUSTER: TypeDef = TypeDef {
    name: "cluster",
    fields: &[
        f("apply_policy_default_values", Ty::Bool, false, false),
        f("autoscale", Ty::Obj(&T_COMPUTE_AUTO_SCALE), false, false),
        f("autotermination_minutes", Ty::Int, false, false),
        f(
            "aws_attributes",
            Ty::Obj(&T_COMPUTE_AWS_ATTRIBUTES),
            false,
            false,
        ),
        f(
            "azure_attributes",
            Ty::Obj(&T_COMPUTE_AZURE_ATTRIBUTES),
            false,
            false,
        ),
        f(
            "clone_from",
            Ty::Obj(&T_COMPUTE_CLONE_CLUSTER),
            false,
            false,
        ),
        f(
            "cluster_log_conf",
            Ty::Obj(&T_COMPUTE_CLUSTER_LOG_CONF),
            false,
            false,
        ),
        f("cluster_name", Ty::Str, false, false),
        f("custom_tags", Ty::Map, false, false),
        f(
            "data_security_mode",
            Ty::Enum(E_COMPUTE_DATA_SECURITY_MODE),
            false,
            false,
        ),
        f(
            "dependency_mode",
            Ty::Enum(E_COMPUTE_DEPENDENCY_MODE),
            false,
            false,
        ),
        f(
            "docker_image",
            Ty::Obj(&T_COMPUTE_DOCKER_IMAGE),
            false,
            false,
        ),
        f("driver_instance_pool_id", Ty::Str, false, false),
        f(
            "driver_node_type_flexibility",
            Ty::Obj(&T_COMPUTE_NODE_TYPE_FLEXIBILITY),
            false,
            false,
        ),
        f("driver_node_type_id", Ty::Str, false, false),
        f("enable_elastic_disk", Ty::Bool, false, false),
        f("enable_local_disk_encryption", Ty::Bool, false, false),
        f(
            "gcp_attributes",
            Ty::Obj(&T_COMPUTE_GCP_ATTRIBUTES),
            false,
            false,
        ),
        f(
            "init_scripts",
            Ty::Obj(&T_COMPUTE_INIT_SCRIPT_INFO),
            true,
            false,
        ),
        f("instance_pool_id", Ty::Str, false, false),
        f("is_single_node", Ty::Bool, false, false),
        f("kind", Ty::Enum(E_COMPUTE_KIND), false, false),
        f("node_type_id", Ty::Str, false, false),
        f("num_workers", Ty::Int, false, false),
        f("policy_id", Ty::Str, false, false),
        f("remote_disk_throughput", Ty::Int, false, false),
        f(
            "runtime_engine",
            Ty::Enum(E_COMPUTE_RUNTIME_ENGINE),
            false,
            false,
        ),
        f("single_user_name", Ty::Str, false, false),
        f("spark_conf", Ty::Map, false, false),
        f("spark_env_vars", Ty::Map, false, false),
        f("spark_version", Ty::Str, false, true),
        f("ssh_public_keys", Ty::Str, true, false),
        f("total_initial_remote_disk_size", Ty::Int, false, false),
        f("use_ml_runtime", Ty::Bool, false, false),
        f(
            "worker_node_type_flexibility",
            Ty::Obj(&T_COMPUTE_NODE_TYPE_FLEXIBILITY),
            false,
            false,
        ),
        f(
            "workload_type",
            Ty::Obj(&T_COMPUTE_WORKLOAD_TYPE),
            false,
            false,
        ),
    ],
};
pub static CLUSTER_POLICY: TypeDef = TypeDef {
    name: "cluster_policy",
    fields: &[
        f("definition", Ty::Str, false, false),
        f("description", Ty::Str, false, false),
        f("libraries", Ty::Obj(&T_COMPUTE_LIBRARY), true, false),
        f("max_clusters_per_user", Ty::Int, false, false),
        f("name", Ty::Str, false, false),
        f("policy_family_definition_overrides", Ty::Str, false, false),
        f("policy_family_id", Ty::Str, false, false),
    ],
};
pub static INSTANCE_POOL: TypeDef = TypeDef {
    name: "instance_pool",
    fields: &[
        f(
            "aws_attributes",
            Ty::Obj(&T_COMPUTE_INSTANCE_POOL_AWS_ATTRIBUTES),
            false,
            false,
        ),
        f(
            "azure_attributes",
            Ty::Obj(&T_COMPUTE_INSTANCE_POOL_AZURE_ATTRIBUTES),
            false,
            false,
        ),
        f("custom_tags", Ty::Map, false, false),
        f("disk_spec", Ty::Obj(&T_COMPUTE_DISK_SPEC), false, false),
        f("enable_elastic_disk", Ty::Bool, false, false),
        f(
            "gcp_attributes",
            Ty::Obj(&T_COMPUTE_INSTANCE_POOL_GCP_ATTRIBUTES),
            false,
            false,
        ),
        f(
            "idle_instance_autotermination_minutes",
            Ty::Int,
            false,
            false,
        ),
        f("instance_pool_name", Ty::Str, false, true),
        f("max_capacity", Ty::Int, false, false),
        f("min_idle_instances", Ty::Int, false, false),
        f(
            "node_type_flexibility",
            Ty::Obj(&T_COMPUTE_NODE_TYPE_FLEXIBILITY),
            false,
            false,
        ),
        f("node_type_id", Ty::Str, false, true),
        f(
            "preloaded_docker_images",
            Ty::Obj(&T_COMPUTE_DOCKER_IMAGE),
            true,
            false,
        ),
        f("preloaded_spark_versions", Ty::Str, true, false),
        f("remote_disk_throughput", Ty::Int, false, false),
        f("total_initial_remote_disk_size", Ty::Int, false, false),
    ],
};
pub static SQL_WAREHOUSE: TypeDef = TypeDef {
    name: "sql_warehouse",
    fields: &[
        f("auto_stop_mins", Ty::Int, false, false),
        f("channel", Ty::Obj(&T_SQL_CHANNEL), false, false),
        f("cluster_size", Ty::Str, false, false),
        f("creator_name", Ty::Str, false, false),
        f("customer_version_label", Ty::Str, false, false),
        f("enable_photon", Ty::Bool, false, false),
        f("enable_serverless_compute", Ty::Bool, false, false),
        f("instance_profile_arn", Ty::Str, false, false),
        f("max_dbu", Ty::Int, false, false),
        f("max_num_clusters", Ty::Int, false, false),
        f("min_num_clusters", Ty::Int, false, false),
        f("name", Ty::Str, false, false),
        f("reyden_cluster_size_multiplier", Ty::Float, false, false),
        f(
            "spot_instance_policy",
            Ty::Enum(E_SQL_SPOT_INSTANCE_POLICY),
            false,
            false,
        ),
        f("statement_timeout", Ty::Int, false, false),
        f("tags", Ty::Obj(&T_SQL_ENDPOINT_TAGS), false, false),
        f(
            "warehouse_type",
            Ty::Enum(E_SQL_CREATE_WAREHOUSE_REQUEST_WAREHOUSE_TYPE),
            false,
            false,
        ),
    ],
};
pub static SECRET_SCOPE: TypeDef = TypeDef {
    name: "secret_scope",
    fields: &[
        f(
            "backend_azure_keyvault",
            Ty::Obj(&T_WORKSPACE_AZURE_KEY_VAULT_SECRET_SCOPE_METADATA),
            false,
            false,
        ),
        f("initial_manage_principal", Ty::Str, false, false),
        f("scope", Ty::Str, false, true),
        f(
            "scope_backend_type",
            Ty::Enum(E_WORKSPACE_SCOPE_BACKEND_TYPE),
            false,
            false,
        ),
    ],
};
pub static CATALOG: TypeDef = TypeDef {
    name: "catalog",
    fields: &[
        f("comment", Ty::Str, false, false),
        f("connection_name", Ty::Str, false, false),
        f("custom_max_retention_hours", Ty::Int, false, false),
        f(
            "managed_encryption_settings",
            Ty::Obj(&T_CATALOG_ENCRYPTION_SETTINGS),
            false,
            false,
        ),
        f("name", Ty::Str, false, true),
        f("options", Ty::Map, false, false),
        f("properties", Ty::Map, false, false),
        f("provider_name", Ty::Str, false, false),
        f("share_name", Ty::Str, false, false),
        f("storage_root", Ty::Str, false, false),
    ],
};
pub static SCHEMA: TypeDef = TypeDef {
    name: "schema",
    fields: &[
        f("catalog_name", Ty::Str, false, true),
        f("comment", Ty::Str, false, false),
        f("custom_max_retention_hours", Ty::Int, false, false),
        f("name", Ty::Str, false, true),
        f("properties", Ty::Map, false, false),
        f("storage_root", Ty::Str, false, false),
    ],
};
static T_JOBS_MAINTENANCE_WINDOW: TypeDef = TypeDef {
    name: "MaintenanceWindow",
    fields: &[
        f("day_of_week", Ty::Enum(E_JOBS_DAY_OF_WEEK), false, true),
        f("start_hour", Ty::Int, false, true),
        f("timezone_id", Ty::Str, false, true),
    ],
};
static T_JOBS_CONTINUOUS: TypeDef = TypeDef {
    name: "Continuous",
    fields: &[
        f(
            "maintenance_window",
            Ty::Obj(&T_JOBS_MAINTENANCE_WINDOW),
            false,
            false,
        ),
        f("pause_status", Ty::Enum(E_JOBS_PAUSE_STATUS), false, false),
        f(
            "task_retry_mode",
            Ty::Enum(E_JOBS_TASK_RETRY_MODE),
            false,
            false,
        ),
    ],
};
static T_JOBS_JOB_DEPLOYMENT: TypeDef = TypeDef {
    name: "JobDeployment",
    fields: &[
        f("deployment_id", Ty::Str, false, false),
        f("kind", Ty::Enum(E_JOBS_JOB_DEPLOYMENT_KIND), false, true),
        f("metadata_file_path", Ty::Str, false, false),
        f("version_id", Ty::Str, false, false),
    ],
};
static T_JOBS_JOB_EMAIL_NOTIFICATIONS: TypeDef = TypeDef {
    name: "JobEmailNotifications",
    fields: &[
        f("no_alert_for_skipped_runs", Ty::Bool, false, false),
        f(
            "on_duration_warning_threshold_exceeded",
            Ty::Str,
            true,
            false,
        ),
        f("on_failure", Ty::Str, true, false),
        f("on_maintenance_complete", Ty::Str, true, false),
        f("on_maintenance_start", Ty::Str, true, false),
        f("on_start", Ty::Str, true, false),
        f("on_streaming_backlog_exceeded", Ty::Str, true, false),
        f("on_success", Ty::Str, true, false),
    ],
};
static T_JOBS_JOB_ENVIRONMENT_VARIABLES_SPEC: TypeDef = TypeDef {
    name: "JobEnvironmentVariablesSpec",
    fields: &[
        f("files", Ty::Str, true, false),
        f("variables", Ty::Map, false, false),
    ],
};
static T_JOBS_JOB_ENVIRONMENT_VARIABLES: TypeDef = TypeDef {
    name: "JobEnvironmentVariables",
    fields: &[
        f("environment_variables_key", Ty::Str, false, true),
        f(
            "spec",
            Ty::Obj(&T_JOBS_JOB_ENVIRONMENT_VARIABLES_SPEC),
            false,
            false,
        ),
    ],
};
static T_COMPUTE_ENVIRONMENT: TypeDef = TypeDef {
    name: "Environment",
    fields: &[
        f("base_environment", Ty::Str, false, false),
        f("client", Ty::Str, false, false),
        f("dependencies", Ty::Str, true, false),
        f("environment_version", Ty::Str, false, false),
        f("java_dependencies", Ty::Str, true, false),
        f("project_environment", Ty::Str, false, false),
    ],
};
static T_JOBS_JOB_ENVIRONMENT: TypeDef = TypeDef {
    name: "JobEnvironment",
    fields: &[
        f("environment_key", Ty::Str, false, true),
        f("spec", Ty::Obj(&T_COMPUTE_ENVIRONMENT), false, false),
    ],
};
static T_JOBS_GIT_SNAPSHOT: TypeDef = TypeDef {
    name: "GitSnapshot",
    fields: &[f("used_commit", Ty::Str, false, false)],
};
static T_JOBS_JOB_SOURCE: TypeDef = TypeDef {
    name: "JobSource",
    fields: &[
        f(
            "dirty_state",
            Ty::Enum(E_JOBS_JOB_SOURCE_DIRTY_STATE),
            false,
            false,
        ),
        f("import_from_git_branch", Ty::Str, false, true),
        f("job_config_path", Ty::Str, false, true),
    ],
};
static T_JOBS_SPARSE_CHECKOUT: TypeDef = TypeDef {
    name: "SparseCheckout",
    fields: &[f("patterns", Ty::Str, true, false)],
};
static T_JOBS_GIT_SOURCE: TypeDef = TypeDef {
    name: "GitSource",
    fields: &[
        f("git_branch", Ty::Str, false, false),
        f("git_commit", Ty::Str, false, false),
        f("git_provider", Ty::Enum(E_JOBS_GIT_PROVIDER), false, true),
        f("git_snapshot", Ty::Obj(&T_JOBS_GIT_SNAPSHOT), false, false),
        f("git_tag", Ty::Str, false, false),
        f("git_url", Ty::Str, false, true),
        f("job_source", Ty::Obj(&T_JOBS_JOB_SOURCE), false, false),
        f(
            "sparse_checkout",
            Ty::Obj(&T_JOBS_SPARSE_CHECKOUT),
            false,
            false,
        ),
    ],
};
static T_JOBS_JOBS_HEALTH_RULE: TypeDef = TypeDef {
    name: "JobsHealthRule",
    fields: &[
        f("metric", Ty::Enum(E_JOBS_JOBS_HEALTH_METRIC), false, true),
        f("op", Ty::Enum(E_JOBS_JOBS_HEALTH_OPERATOR), false, true),
        f("value", Ty::Int, false, true),
    ],
};
static T_JOBS_JOBS_HEALTH_RULES: TypeDef = TypeDef {
    name: "JobsHealthRules",
    fields: &[f("rules", Ty::Obj(&T_JOBS_JOBS_HEALTH_RULE), true, false)],
};
static T_COMPUTE_AUTO_SCALE: TypeDef = TypeDef {
    name: "AutoScale",
    fields: &[
        f("max_workers", Ty::Int, false, false),
        f("min_workers", Ty::Int, false, false),
    ],
};
static T_COMPUTE_AWS_ATTRIBUTES: TypeDef = TypeDef {
    name: "AwsAttributes",
    fields: &[
        f(
            "availability",
            Ty::Enum(E_COMPUTE_AWS_AVAILABILITY),
            false,
            false,
        ),
        f("ebs_volume_count", Ty::Int, false, false),
        f("ebs_volume_iops", Ty::Int, false, false),
        f("ebs_volume_size", Ty::Int, false, false),
        f("ebs_volume_throughput", Ty::Int, false, false),
        f(
            "ebs_volume_type",
            Ty::Enum(E_COMPUTE_EBS_VOLUME_TYPE),
            false,
            false,
        ),
        f("first_on_demand", Ty::Int, false, false),
        f("instance_profile_arn", Ty::Str, false, false),
        f("spot_bid_price_percent", Ty::Int, false, false),
        f("zone_id", Ty::Str, false, false),
    ],
};
static T_COMPUTE_LOG_ANALYTICS_INFO: TypeDef = TypeDef {
    name: "LogAnalyticsInfo",
    fields: &[
        f("log_analytics_primary_key", Ty::Str, false, false),
        f("log_analytics_workspace_id", Ty::Str, false, false),
    ],
};
static T_COMPUTE_AZURE_ATTRIBUTES: TypeDef = TypeDef {
    name: "AzureAttributes",
    fields: &[
        f(
            "availability",
            Ty::Enum(E_COMPUTE_AZURE_AVAILABILITY),
            false,
            false,
        ),
        f("capacity_reservation_group", Ty::Str, false, false),
        f("first_on_demand", Ty::Int, false, false),
        f(
            "log_analytics_info",
            Ty::Obj(&T_COMPUTE_LOG_ANALYTICS_INFO),
            false,
            false,
        ),
        f("spot_bid_max_price", Ty::Float, false, false),
    ],
};
static T_COMPUTE_DBFS_STORAGE_INFO: TypeDef = TypeDef {
    name: "DbfsStorageInfo",
    fields: &[f("destination", Ty::Str, false, true)],
};
static T_COMPUTE_S3_STORAGE_INFO: TypeDef = TypeDef {
    name: "S3StorageInfo",
    fields: &[
        f("canned_acl", Ty::Str, false, false),
        f("destination", Ty::Str, false, true),
        f("enable_encryption", Ty::Bool, false, false),
        f("encryption_type", Ty::Str, false, false),
        f("endpoint", Ty::Str, false, false),
        f("kms_key", Ty::Str, false, false),
        f("region", Ty::Str, false, false),
    ],
};
static T_COMPUTE_VOLUMES_STORAGE_INFO: TypeDef = TypeDef {
    name: "VolumesStorageInfo",
    fields: &[f("destination", Ty::Str, false, true)],
};
static T_COMPUTE_CLUSTER_LOG_CONF: TypeDef = TypeDef {
    name: "ClusterLogConf",
    fields: &[
        f("dbfs", Ty::Obj(&T_COMPUTE_DBFS_STORAGE_INFO), false, false),
        f("s3", Ty::Obj(&T_COMPUTE_S3_STORAGE_INFO), false, false),
        f(
            "volumes",
            Ty::Obj(&T_COMPUTE_VOLUMES_STORAGE_INFO),
            false,
            false,
        ),
    ],
};
static T_COMPUTE_DOCKER_BASIC_AUTH: TypeDef = TypeDef {
    name: "DockerBasicAuth",
    fields: &[
        f("password", Ty::Str, false, false),
        f("username", Ty::Str, false, false),
    ],
};
static T_COMPUTE_DOCKER_IMAGE: TypeDef = TypeDef {
    name: "DockerImage",
    fields: &[
        f(
            "basic_auth",
            Ty::Obj(&T_COMPUTE_DOCKER_BASIC_AUTH),
            false,
            false,
        ),
        f("url", Ty::Str, false, false),
    ],
};
static T_COMPUTE_NODE_TYPE_FLEXIBILITY: TypeDef = TypeDef {
    name: "NodeTypeFlexibility",
    fields: &[
        f("alternate_node_type_ids", Ty::Str, true, false),
        f("aws_context_id", Ty::Str, false, false),
    ],
};
static T_COMPUTE_GCP_ATTRIBUTES: TypeDef = TypeDef {
    name: "GcpAttributes",
    fields: &[
        f(
            "availability",
            Ty::Enum(E_COMPUTE_GCP_AVAILABILITY),
            false,
            false,
        ),
        f("boot_disk_size", Ty::Int, false, false),
        f(
            "confidential_compute_type",
            Ty::Enum(E_COMPUTE_CONFIDENTIAL_COMPUTE_TYPE),
            false,
            false,
        ),
        f("first_on_demand", Ty::Int, false, false),
        f("google_service_account", Ty::Str, false, false),
        f("local_ssd_count", Ty::Int, false, false),
        f("use_preemptible_executors", Ty::Bool, false, false),
        f("zone_id", Ty::Str, false, false),
    ],
};
static T_COMPUTE_ADLSGEN2_INFO: TypeDef = TypeDef {
    name: "Adlsgen2Info",
    fields: &[f("destination", Ty::Str, false, true)],
};
static T_COMPUTE_LOCAL_FILE_INFO: TypeDef = TypeDef {
    name: "LocalFileInfo",
    fields: &[f("destination", Ty::Str, false, true)],
};
static T_COMPUTE_GCS_STORAGE_INFO: TypeDef = TypeDef {
    name: "GcsStorageInfo",
    fields: &[f("destination", Ty::Str, false, true)],
};
static T_COMPUTE_WORKSPACE_STORAGE_INFO: TypeDef = TypeDef {
    name: "WorkspaceStorageInfo",
    fields: &[f("destination", Ty::Str, false, true)],
};
static T_COMPUTE_INIT_SCRIPT_INFO: TypeDef = TypeDef {
    name: "InitScriptInfo",
    fields: &[
        f("abfss", Ty::Obj(&T_COMPUTE_ADLSGEN2_INFO), false, false),
        f("dbfs", Ty::Obj(&T_COMPUTE_DBFS_STORAGE_INFO), false, false),
        f("file", Ty::Obj(&T_COMPUTE_LOCAL_FILE_INFO), false, false),
        f("gcs", Ty::Obj(&T_COMPUTE_GCS_STORAGE_INFO), false, false),
        f("s3", Ty::Obj(&T_COMPUTE_S3_STORAGE_INFO), false, false),
        f(
            "volumes",
            Ty::Obj(&T_COMPUTE_VOLUMES_STORAGE_INFO),
            false,
            false,
        ),
        f(
            "workspace",
            Ty::Obj(&T_COMPUTE_WORKSPACE_STORAGE_INFO),
            false,
            false,
        ),
    ],
};
static T_COMPUTE_CLIENTS_TYPES: TypeDef = TypeDef {
    name: "ClientsTypes",
    fields: &[
        f("jobs", Ty::Bool, false, false),
        f("notebooks", Ty::Bool, false, false),
    ],
};
static T_COMPUTE_WORKLOAD_TYPE: TypeDef = TypeDef {
    name: "WorkloadType",
    fields: &[f("clients", Ty::Obj(&T_COMPUTE_CLIENTS_TYPES), false, true)],
};
static T_COMPUTE_CLUSTER_SPEC: TypeDef = TypeDef {
    name: "ClusterSpec",
    fields: &[
        f("apply_policy_default_values", Ty::Bool, false, false),
        f("autoscale", Ty::Obj(&T_COMPUTE_AUTO_SCALE), false, false),
        f("autotermination_minutes", Ty::Int, false, false),
        f(
            "aws_attributes",
            Ty::Obj(&T_COMPUTE_AWS_ATTRIBUTES),
            false,
            false,
        ),
        f(
            "azure_attributes",
            Ty::Obj(&T_COMPUTE_AZURE_ATTRIBUTES),
            false,
            false,
        ),
        f(
            "cluster_log_conf",
            Ty::Obj(&T_COMPUTE_CLUSTER_LOG_CONF),
            false,
            false,
        ),
        f("cluster_name", Ty::Str, false, false),
        f("custom_tags", Ty::Map, false, false),
        f(
            "data_security_mode",
            Ty::Enum(E_COMPUTE_DATA_SECURITY_MODE),
            false,
            false,
        ),
        f(
            "dependency_mode",
            Ty::Enum(E_COMPUTE_DEPENDENCY_MODE),
            false,
            false,
        ),
        f(
            "docker_image",
            Ty::Obj(&T_COMPUTE_DOCKER_IMAGE),
            false,
            false,
        ),
        f("driver_instance_pool_id", Ty::Str, false, false),
        f(
            "driver_node_type_flexibility",
            Ty::Obj(&T_COMPUTE_NODE_TYPE_FLEXIBILITY),
            false,
            false,
        ),
        f("driver_node_type_id", Ty::Str, false, false),
        f("enable_elastic_disk", Ty::Bool, false, false),
        f("enable_local_disk_encryption", Ty::Bool, false, false),
        f(
            "gcp_attributes",
            Ty::Obj(&T_COMPUTE_GCP_ATTRIBUTES),
            false,
            false,
        ),
        f(
            "init_scripts",
            Ty::Obj(&T_COMPUTE_INIT_SCRIPT_INFO),
            true,
            false,
        ),
        f("instance_pool_id", Ty::Str, false, false),
        f("is_single_node", Ty::Bool, false, false),
        f("kind", Ty::Enum(E_COMPUTE_KIND), false, false),
        f("node_type_id", Ty::Str, false, false),
        f("num_workers", Ty::Int, false, false),
        f("policy_id", Ty::Str, false, false),
        f("remote_disk_throughput", Ty::Int, false, false),
        f(
            "runtime_engine",
            Ty::Enum(E_COMPUTE_RUNTIME_ENGINE),
            false,
            false,
        ),
        f("single_user_name", Ty::Str, false, false),
        f("spark_conf", Ty::Map, false, false),
        f("spark_env_vars", Ty::Map, false, false),
        f("spark_version", Ty::Str, false, false),
        f("ssh_public_keys", Ty::Str, true, false),
        f("total_initial_remote_disk_size", Ty::Int, false, false),
        f("use_ml_runtime", Ty::Bool, false, false),
        f(
            "worker_node_type_flexibility",
            Ty::Obj(&T_COMPUTE_NODE_TYPE_FLEXIBILITY),
            false,
            false,
        ),
        f(
            "workload_type",
            Ty::Obj(&T_COMPUTE_WORKLOAD_TYPE),
            false,
            false,
        ),
    ],
};
static T_JOBS_JOB_CLUSTER_SERVERLESS_COMPUTE: TypeDef = TypeDef {
    name: "JobClusterServerlessCompute",
    fields: &[f("policy_id", Ty::Str, false, false)],
};
static T_JOBS_JOB_CLUSTER: TypeDef = TypeDef {
    name: "JobCluster",
    fields: &[
        f("job_cluster_key", Ty::Str, false, true),
        f(
            "new_cluster",
            Ty::Obj(&T_COMPUTE_CLUSTER_SPEC),
            false,
            false,
        ),
        f(
            "serverless_compute",
            Ty::Obj(&T_JOBS_JOB_CLUSTER_SERVERLESS_COMPUTE),
            false,
            false,
        ),
        f("serverless_compute_id", Ty::Str, false, false),
    ],
};
static T_JOBS_JOB_NOTIFICATION_SETTINGS: TypeDef = TypeDef {
    name: "JobNotificationSettings",
    fields: &[
        f("no_alert_for_canceled_runs", Ty::Bool, false, false),
        f("no_alert_for_skipped_runs", Ty::Bool, false, false),
    ],
};
static T_JOBS_JOB_PARAMETER_DEFINITION: TypeDef = TypeDef {
    name: "JobParameterDefinition",
    fields: &[
        f("default", Ty::Str, false, true),
        f("name", Ty::Str, false, true),
    ],
};
static T_JOBS_QUEUE_SETTINGS: TypeDef = TypeDef {
    name: "QueueSettings",
    fields: &[f("enabled", Ty::Bool, false, true)],
};
static T_JOBS_JOB_RUN_AS: TypeDef = TypeDef {
    name: "JobRunAs",
    fields: &[
        f("group_name", Ty::Str, false, false),
        f("service_principal_name", Ty::Str, false, false),
        f("user_name", Ty::Str, false, false),
    ],
};
static T_JOBS_SQL_CONDITION_CONFIGURATION: TypeDef = TypeDef {
    name: "SqlConditionConfiguration",
    fields: &[
        f("sql_query_id", Ty::Str, false, true),
        f(
            "trigger_mode",
            Ty::Enum(E_JOBS_SQL_CONDITION_TRIGGER_MODE),
            false,
            false,
        ),
        f("warehouse_id", Ty::Str, false, true),
    ],
};
static T_JOBS_CRON_SCHEDULE: TypeDef = TypeDef {
    name: "CronSchedule",
    fields: &[
        f("pause_status", Ty::Enum(E_JOBS_PAUSE_STATUS), false, false),
        f("quartz_cron_expression", Ty::Str, false, true),
        f(
            "sql_condition",
            Ty::Obj(&T_JOBS_SQL_CONDITION_CONFIGURATION),
            false,
            false,
        ),
        f("timezone_id", Ty::Str, false, true),
    ],
};
static T_JOBS_QUALIFIED_NAME: TypeDef = TypeDef {
    name: "QualifiedName",
    fields: &[
        f("catalog", Ty::Str, false, false),
        f("schema", Ty::Str, false, false),
        f("table", Ty::Str, false, false),
    ],
};
static T_JOBS_AI_CLASSIFY_FUNCTION_LABEL: TypeDef = TypeDef {
    name: "AiClassifyFunctionLabel",
    fields: &[
        f("description", Ty::Str, false, false),
        f("name", Ty::Str, false, true),
    ],
};
static T_JOBS_AI_CLASSIFY_FUNCTION_INLINE_LABELS: TypeDef = TypeDef {
    name: "AiClassifyFunctionInlineLabels",
    fields: &[f(
        "labels",
        Ty::Obj(&T_JOBS_AI_CLASSIFY_FUNCTION_LABEL),
        true,
        true,
    )],
};
static T_JOBS_AI_CLASSIFY_FUNCTION: TypeDef = TypeDef {
    name: "AiClassifyFunction",
    fields: &[
        f("enable_confidence_scores", Ty::Bool, false, false),
        f("enable_rationales", Ty::Bool, false, false),
        f(
            "inline_labels",
            Ty::Obj(&T_JOBS_AI_CLASSIFY_FUNCTION_INLINE_LABELS),
            false,
            false,
        ),
        f("instructions", Ty::Str, false, false),
        f("multilabel", Ty::Bool, false, false),
        f("version", Ty::Str, false, true),
    ],
};
static T_JOBS_AI_EXTRACT_FUNCTION: TypeDef = TypeDef {
    name: "AiExtractFunction",
    fields: &[
        f("enable_citations", Ty::Bool, false, false),
        f("enable_confidence_scores", Ty::Bool, false, false),
        f("instructions", Ty::Str, false, false),
        f(
            "mode",
            Ty::Enum(E_JOBS_AI_EXTRACT_FUNCTION_MODE),
            false,
            false,
        ),
        f("schema", Ty::Str, false, false),
        f("version", Ty::Str, false, true),
    ],
};
static T_JOBS_AI_PARSE_DOCUMENT_FUNCTION: TypeDef = TypeDef {
    name: "AiParseDocumentFunction",
    fields: &[
        f(
            "description_element_types",
            Ty::Enum(E_JOBS_AI_PARSE_DOCUMENT_FUNCTION_DESCRIPTION_ELEMENT_TYPE),
            true,
            false,
        ),
        f("image_output_path", Ty::Str, false, false),
        f("page_range", Ty::Str, false, false),
        f("version", Ty::Str, false, true),
    ],
};
static T_JOBS_DELTA_TABLE_SOURCE: TypeDef = TypeDef {
    name: "DeltaTableSource",
    fields: &[
        f("input_column", Ty::Str, false, true),
        f("merge_key_columns", Ty::Str, true, false),
        f("table_name", Ty::Str, false, true),
    ],
};
static T_JOBS_VOLUME_SOURCE: TypeDef = TypeDef {
    name: "VolumeSource",
    fields: &[f("volume_path", Ty::Str, false, true)],
};
static T_JOBS_AI_FUNCTION_TASK: TypeDef = TypeDef {
    name: "AiFunctionTask",
    fields: &[
        f(
            "ai_classify",
            Ty::Obj(&T_JOBS_AI_CLASSIFY_FUNCTION),
            false,
            false,
        ),
        f(
            "ai_extract",
            Ty::Obj(&T_JOBS_AI_EXTRACT_FUNCTION),
            false,
            false,
        ),
        f(
            "ai_parse_document",
            Ty::Obj(&T_JOBS_AI_PARSE_DOCUMENT_FUNCTION),
            false,
            false,
        ),
        f(
            "delta_table",
            Ty::Obj(&T_JOBS_DELTA_TABLE_SOURCE),
            false,
            false,
        ),
        f("output", Ty::Obj(&T_JOBS_QUALIFIED_NAME), false, true),
        f("volume", Ty::Obj(&T_JOBS_VOLUME_SOURCE), false, false),
    ],
};
static T_JOBS_COMPUTE_SPEC: TypeDef = TypeDef {
    name: "ComputeSpec",
    fields: &[
        f("accelerator_count", Ty::Int, false, true),
        f(
            "accelerator_type",
            Ty::Enum(E_JOBS_COMPUTE_SPEC_ACCELERATOR_TYPE),
            false,
            true,
        ),
        f("provisioned_capacity_id", Ty::Str, false, false),
    ],
};
static T_JOBS_DEPLOYMENT_SPEC: TypeDef = TypeDef {
    name: "DeploymentSpec",
    fields: &[
        f("command_path", Ty::Str, false, false),
        f("compute", Ty::Obj(&T_JOBS_COMPUTE_SPEC), false, true),
        f("name", Ty::Str, false, false),
    ],
};
static T_JOBS_AI_RUNTIME_TASK: TypeDef = TypeDef {
    name: "AiRuntimeTask",
    fields: &[
        f("code_source_path", Ty::Str, false, false),
        f("deployments", Ty::Obj(&T_JOBS_DEPLOYMENT_SPEC), true, true),
        f("docker_image_url", Ty::Str, false, false),
        f("experiment", Ty::Str, false, true),
        f("mlflow_artifact_location", Ty::Str, false, false),
        f("mlflow_experiment_directory", Ty::Str, false, false),
        f("mlflow_run", Ty::Str, false, false),
        f(
            "priority_class",
            Ty::Enum(E_JOBS_AI_RUNTIME_TASK_PRIORITY_CLASS),
            false,
            false,
        ),
        f("unity_catalog_image_path", Ty::Str, false, false),
    ],
};
static T_JOBS_ALERT_TASK_SUBSCRIBER: TypeDef = TypeDef {
    name: "AlertTaskSubscriber",
    fields: &[
        f("destination_id", Ty::Str, false, false),
        f("user_name", Ty::Str, false, false),
    ],
};
static T_JOBS_ALERT_TASK: TypeDef = TypeDef {
    name: "AlertTask",
    fields: &[
        f("alert_id", Ty::Str, false, false),
        f("parameters", Ty::Map, false, false),
        f(
            "subscribers",
            Ty::Obj(&T_JOBS_ALERT_TASK_SUBSCRIBER),
            true,
            false,
        ),
        f("warehouse_id", Ty::Str, false, false),
        f("workspace_path", Ty::Str, false, false),
    ],
};
static T_JOBS_CLEAN_ROOMS_NOTEBOOK_TASK: TypeDef = TypeDef {
    name: "CleanRoomsNotebookTask",
    fields: &[
        f("clean_room_name", Ty::Str, false, true),
        f("etag", Ty::Str, false, false),
        f("notebook_base_parameters", Ty::Map, false, false),
        f("notebook_name", Ty::Str, false, true),
    ],
};
static T_JOBS_COMPUTE: TypeDef = TypeDef {
    name: "Compute",
    fields: &[f(
        "hardware_accelerator",
        Ty::Enum(E_COMPUTE_HARDWARE_ACCELERATOR_TYPE),
        false,
        false,
    )],
};
static T_JOBS_CONDITION_TASK: TypeDef = TypeDef {
    name: "ConditionTask",
    fields: &[
        f("left", Ty::Str, false, true),
        f("op", Ty::Enum(E_JOBS_CONDITION_TASK_OP), false, true),
        f("right", Ty::Str, false, true),
    ],
};
static T_JOBS_SUBSCRIPTION_ATTACHMENT_DATA_ATTACHMENT_WIDGET: TypeDef = TypeDef {
    name: "SubscriptionAttachmentDataAttachmentWidget",
    fields: &[
        f("page_id", Ty::Str, false, true),
        f("widget_id", Ty::Str, false, true),
    ],
};
static T_JOBS_SUBSCRIPTION_ATTACHMENT_DATA_ATTACHMENT: TypeDef = TypeDef {
    name: "SubscriptionAttachmentDataAttachment",
    fields: &[
        f(
            "file_format",
            Ty::Enum(E_JOBS_SUBSCRIPTION_ATTACHMENT_DATA_ATTACHMENT_FILE_FORMAT),
            false,
            true,
        ),
        f("include_applied_filters", Ty::Bool, false, false),
        f(
            "widgets",
            Ty::Obj(&T_JOBS_SUBSCRIPTION_ATTACHMENT_DATA_ATTACHMENT_WIDGET),
            true,
            true,
        ),
    ],
};
static T_JOBS_SUBSCRIPTION_ATTACHMENT_PAGE_ATTACHMENT: TypeDef = TypeDef {
    name: "SubscriptionAttachmentPageAttachment",
    fields: &[
        f("page_ids", Ty::Str, true, false),
        f(
            "page_selection",
            Ty::Enum(E_JOBS_SUBSCRIPTION_ATTACHMENT_PAGE_ATTACHMENT_PAGE_SELECTION),
            false,
            false,
        ),
    ],
};
static T_JOBS_SUBSCRIPTION_ATTACHMENT: TypeDef = TypeDef {
    name: "SubscriptionAttachment",
    fields: &[
        f(
            "data_attachment",
            Ty::Obj(&T_JOBS_SUBSCRIPTION_ATTACHMENT_DATA_ATTACHMENT),
            false,
            false,
        ),
        f(
            "page_attachment",
            Ty::Obj(&T_JOBS_SUBSCRIPTION_ATTACHMENT_PAGE_ATTACHMENT),
            false,
            false,
        ),
    ],
};
static T_JOBS_SUBSCRIPTION_SUBSCRIBER: TypeDef = TypeDef {
    name: "SubscriptionSubscriber",
    fields: &[
        f("destination_id", Ty::Str, false, false),
        f("user_name", Ty::Str, false, false),
    ],
};
static T_JOBS_SUBSCRIPTION: TypeDef = TypeDef {
    name: "Subscription",
    fields: &[
        f(
            "attachment",
            Ty::Obj(&T_JOBS_SUBSCRIPTION_ATTACHMENT),
            false,
            false,
        ),
        f("custom_subject", Ty::Str, false, false),
        f("paused", Ty::Bool, false, false),
        f(
            "subscribers",
            Ty::Obj(&T_JOBS_SUBSCRIPTION_SUBSCRIBER),
            true,
            false,
        ),
    ],
};
static T_JOBS_DASHBOARD_TASK: TypeDef = TypeDef {
    name: "DashboardTask",
    fields: &[
        f("dashboard_id", Ty::Str, false, false),
        f("filters", Ty::Map, false, false),
        f("subscription", Ty::Obj(&T_JOBS_SUBSCRIPTION), false, false),
        f("warehouse_id", Ty::Str, false, false),
    ],
};
static T_JOBS_DBT_CLOUD_TASK: TypeDef = TypeDef {
    name: "DbtCloudTask",
    fields: &[
        f("connection_resource_name", Ty::Str, false, false),
        f("dbt_cloud_job_id", Ty::Int, false, false),
    ],
};
static T_JOBS_DBT_PLATFORM_TASK: TypeDef = TypeDef {
    name: "DbtPlatformTask",
    fields: &[
        f("connection_resource_name", Ty::Str, false, false),
        f("dbt_platform_job_id", Ty::Str, false, false),
    ],
};
static T_JOBS_DBT_TASK: TypeDef = TypeDef {
    name: "DbtTask",
    fields: &[
        f("catalog", Ty::Str, false, false),
        f("commands", Ty::Str, true, true),
        f("profiles_directory", Ty::Str, false, false),
        f("project_directory", Ty::Str, false, false),
        f("schema", Ty::Str, false, false),
        f("source", Ty::Enum(E_JOBS_SOURCE), false, false),
        f("warehouse_id", Ty::Str, false, false),
    ],
};
static T_JOBS_TASK_DEPENDENCY: TypeDef = TypeDef {
    name: "TaskDependency",
    fields: &[
        f("outcome", Ty::Str, false, false),
        f("task_key", Ty::Str, false, true),
    ],
};
static T_JOBS_TASK_EMAIL_NOTIFICATIONS: TypeDef = TypeDef {
    name: "TaskEmailNotifications",
    fields: &[
        f("no_alert_for_skipped_runs", Ty::Bool, false, false),
        f(
            "on_duration_warning_threshold_exceeded",
            Ty::Str,
            true,
            false,
        ),
        f("on_failure", Ty::Str, true, false),
        f("on_maintenance_complete", Ty::Str, true, false),
        f("on_maintenance_start", Ty::Str, true, false),
        f("on_start", Ty::Str, true, false),
        f("on_streaming_backlog_exceeded", Ty::Str, true, false),
        f("on_success", Ty::Str, true, false),
    ],
};
static T_JOBS_FOR_EACH_TASK: TypeDef = TypeDef {
    name: "ForEachTask",
    fields: &[
        f("concurrency", Ty::Int, false, false),
        f("inputs", Ty::Str, false, true),
        f("task", Ty::Obj(&T_JOBS_TASK), false, true),
    ],
};
static T_JOBS_COMPUTE_CONFIG: TypeDef = TypeDef {
    name: "ComputeConfig",
    fields: &[
        f("gpu_node_pool_id", Ty::Str, false, false),
        f("gpu_type", Ty::Str, false, false),
        f("num_gpus", Ty::Int, false, true),
    ],
};
static T_JOBS_GEN_AI_COMPUTE_TASK: TypeDef = TypeDef {
    name: "GenAiComputeTask",
    fields: &[
        f("command", Ty::Str, false, false),
        f("compute", Ty::Obj(&T_JOBS_COMPUTE_CONFIG), false, false),
        f("dl_runtime_image", Ty::Str, false, true),
        f("mlflow_experiment_name", Ty::Str, false, false),
        f("source", Ty::Enum(E_JOBS_SOURCE), false, false),
        f("training_script_path", Ty::Str, false, false),
        f("yaml_parameters", Ty::Str, false, false),
        f("yaml_parameters_file_path", Ty::Str, false, false),
    ],
};
static T_COMPUTE_R_CRAN_LIBRARY: TypeDef = TypeDef {
    name: "RCranLibrary",
    fields: &[
        f("package", Ty::Str, false, true),
        f("repo", Ty::Str, false, false),
    ],
};
static T_COMPUTE_MAVEN_LIBRARY: TypeDef = TypeDef {
    name: "MavenLibrary",
    fields: &[
        f("coordinates", Ty::Str, false, true),
        f("exclusions", Ty::Str, true, false),
        f("repo", Ty::Str, false, false),
    ],
};
static T_COMPUTE_PYTHON_PY_PI_LIBRARY: TypeDef = TypeDef {
    name: "PythonPyPiLibrary",
    fields: &[
        f("package", Ty::Str, false, true),
        f("repo", Ty::Str, false, false),
    ],
};
static T_COMPUTE_LIBRARY: TypeDef = TypeDef {
    name: "Library",
    fields: &[
        f("cran", Ty::Obj(&T_COMPUTE_R_CRAN_LIBRARY), false, false),
        f("egg", Ty::Str, false, false),
        f("jar", Ty::Str, false, false),
        f("maven", Ty::Obj(&T_COMPUTE_MAVEN_LIBRARY), false, false),
        f(
            "pypi",
            Ty::Obj(&T_COMPUTE_PYTHON_PY_PI_LIBRARY),
            false,
            false,
        ),
        f("requirements", Ty::Str, false, false),
        f("whl", Ty::Str, false, false),
    ],
};
static T_JOBS_NOTEBOOK_TASK: TypeDef = TypeDef {
    name: "NotebookTask",
    fields: &[
        f("base_parameters", Ty::Map, false, false),
        f("notebook_path", Ty::Str, false, true),
        f("source", Ty::Enum(E_JOBS_SOURCE), false, false),
        f("warehouse_id", Ty::Str, false, false),
    ],
};
static T_JOBS_TASK_NOTIFICATION_SETTINGS: TypeDef = TypeDef {
    name: "TaskNotificationSettings",
    fields: &[
        f("alert_on_last_attempt", Ty::Bool, false, false),
        f("no_alert_for_canceled_runs", Ty::Bool, false, false),
        f("no_alert_for_skipped_runs", Ty::Bool, false, false),
    ],
};
static T_JOBS_PIPELINE_TASK: TypeDef = TypeDef {
    name: "PipelineTask",
    fields: &[
        f("full_refresh", Ty::Bool, false, false),
        f("full_refresh_selection", Ty::Str, true, false),
        f("parameters", Ty::Map, false, false),
        f("pipeline_id", Ty::Str, false, true),
        f("refresh_flow_selection", Ty::Str, true, false),
        f("refresh_selection", Ty::Str, true, false),
        f("reset_checkpoint_selection", Ty::Str, true, false),
    ],
};
static T_JOBS_POWER_BI_MODEL: TypeDef = TypeDef {
    name: "PowerBiModel",
    fields: &[
        f(
            "authentication_method",
            Ty::Enum(E_JOBS_AUTHENTICATION_METHOD),
            false,
            false,
        ),
        f("model_name", Ty::Str, false, false),
        f("overwrite_existing", Ty::Bool, false, false),
        f("storage_mode", Ty::Enum(E_JOBS_STORAGE_MODE), false, false),
        f("workspace_name", Ty::Str, false, false),
    ],
};
static T_JOBS_POWER_BI_TABLE: TypeDef = TypeDef {
    name: "PowerBiTable",
    fields: &[
        f("catalog", Ty::Str, false, false),
        f("name", Ty::Str, false, false),
        f("schema", Ty::Str, false, false),
        f("storage_mode", Ty::Enum(E_JOBS_STORAGE_MODE), false, false),
    ],
};
static T_JOBS_POWER_BI_TASK: TypeDef = TypeDef {
    name: "PowerBiTask",
    fields: &[
        f("connection_resource_name", Ty::Str, false, false),
        f(
            "power_bi_model",
            Ty::Obj(&T_JOBS_POWER_BI_MODEL),
            false,
            false,
        ),
        f("refresh_after_update", Ty::Bool, false, false),
        f("tables", Ty::Obj(&T_JOBS_POWER_BI_TABLE), true, false),
        f("warehouse_id", Ty::Str, false, false),
    ],
};
static T_JOBS_PYTHON_OPERATOR_TASK_PARAMETER: TypeDef = TypeDef {
    name: "PythonOperatorTaskParameter",
    fields: &[
        f("name", Ty::Str, false, false),
        f("value", Ty::Str, false, false),
    ],
};
static T_JOBS_PYTHON_OPERATOR_TASK: TypeDef = TypeDef {
    name: "PythonOperatorTask",
    fields: &[
        f("main", Ty::Str, false, false),
        f(
            "parameters",
            Ty::Obj(&T_JOBS_PYTHON_OPERATOR_TASK_PARAMETER),
            true,
            false,
        ),
    ],
};
static T_JOBS_PYTHON_WHEEL_TASK: TypeDef = TypeDef {
    name: "PythonWheelTask",
    fields: &[
        f("entry_point", Ty::Str, false, true),
        f("named_parameters", Ty::Map, false, false),
        f("package_name", Ty::Str, false, true),
        f("parameters", Ty::Str, true, false),
    ],
};
static T_JOBS_PIPELINE_PARAMS: TypeDef = TypeDef {
    name: "PipelineParams",
    fields: &[
        f("full_refresh", Ty::Bool, false, false),
        f("full_refresh_selection", Ty::Str, true, false),
        f("refresh_flow_selection", Ty::Str, true, false),
        f("refresh_selection", Ty::Str, true, false),
        f("reset_checkpoint_selection", Ty::Str, true, false),
    ],
};
static T_JOBS_RUN_JOB_TASK: TypeDef = TypeDef {
    name: "RunJobTask",
    fields: &[
        f("dbt_commands", Ty::Str, true, false),
        f("jar_params", Ty::Str, true, false),
        f("job_id", Ty::Int, false, true),
        f("job_parameters", Ty::Map, false, false),
        f("notebook_params", Ty::Map, false, false),
        f(
            "pipeline_params",
            Ty::Obj(&T_JOBS_PIPELINE_PARAMS),
            false,
            false,
        ),
        f("python_named_params", Ty::Map, false, false),
        f("python_params", Ty::Str, true, false),
        f("spark_submit_params", Ty::Str, true, false),
        f("sql_params", Ty::Map, false, false),
    ],
};
static T_JOBS_SPARK_JAR_TASK: TypeDef = TypeDef {
    name: "SparkJarTask",
    fields: &[
        f("jar_uri", Ty::Str, false, false),
        f("main_class_name", Ty::Str, false, false),
        f("parameters", Ty::Str, true, false),
        f("run_as_repl", Ty::Bool, false, false),
    ],
};
static T_JOBS_SPARK_PYTHON_TASK: TypeDef = TypeDef {
    name: "SparkPythonTask",
    fields: &[
        f("parameters", Ty::Str, true, false),
        f("python_file", Ty::Str, false, true),
        f("source", Ty::Enum(E_JOBS_SOURCE), false, false),
    ],
};
static T_JOBS_SPARK_SUBMIT_TASK: TypeDef = TypeDef {
    name: "SparkSubmitTask",
    fields: &[f("parameters", Ty::Str, true, false)],
};
static T_JOBS_SQL_TASK_SUBSCRIPTION: TypeDef = TypeDef {
    name: "SqlTaskSubscription",
    fields: &[
        f("destination_id", Ty::Str, false, false),
        f("user_name", Ty::Str, false, false),
    ],
};
static T_JOBS_SQL_TASK_ALERT: TypeDef = TypeDef {
    name: "SqlTaskAlert",
    fields: &[
        f("alert_id", Ty::Str, false, true),
        f("pause_subscriptions", Ty::Bool, false, false),
        f(
            "subscriptions",
            Ty::Obj(&T_JOBS_SQL_TASK_SUBSCRIPTION),
            true,
            false,
        ),
    ],
};
static T_JOBS_SQL_TASK_DASHBOARD: TypeDef = TypeDef {
    name: "SqlTaskDashboard",
    fields: &[
        f("custom_subject", Ty::Str, false, false),
        f("dashboard_id", Ty::Str, false, true),
        f("pause_subscriptions", Ty::Bool, false, false),
        f(
            "subscriptions",
            Ty::Obj(&T_JOBS_SQL_TASK_SUBSCRIPTION),
            true,
            false,
        ),
    ],
};
static T_JOBS_SQL_TASK_FILE: TypeDef = TypeDef {
    name: "SqlTaskFile",
    fields: &[
        f("path", Ty::Str, false, true),
        f("source", Ty::Enum(E_JOBS_SOURCE), false, false),
    ],
};
static T_JOBS_SQL_TASK_QUERY: TypeDef = TypeDef {
    name: "SqlTaskQuery",
    fields: &[f("query_id", Ty::Str, false, true)],
};
static T_JOBS_SQL_TASK: TypeDef = TypeDef {
    name: "SqlTask",
    fields: &[
        f("alert", Ty::Obj(&T_JOBS_SQL_TASK_ALERT), false, false),
        f(
            "dashboard",
            Ty::Obj(&T_JOBS_SQL_TASK_DASHBOARD),
            false,
            false,
        ),
        f("file", Ty::Obj(&T_JOBS_SQL_TASK_FILE), false, false),
        f("parameters", Ty::Map, false, false),
        f("query", Ty::Obj(&T_JOBS_SQL_TASK_QUERY), false, false),
        f("warehouse_id", Ty::Str, false, true),
    ],
};
static T_JOBS_WEBHOOK: TypeDef = TypeDef {
    name: "Webhook",
    fields: &[f("id", Ty::Str, false, true)],
};
static T_JOBS_WEBHOOK_NOTIFICATIONS: TypeDef = TypeDef {
    name: "WebhookNotifications",
    fields: &[
        f(
            "on_duration_warning_threshold_exceeded",
            Ty::Obj(&T_JOBS_WEBHOOK),
            true,
            false,
        ),
        f("on_failure", Ty::Obj(&T_JOBS_WEBHOOK), true, false),
        f(
            "on_maintenance_complete",
            Ty::Obj(&T_JOBS_WEBHOOK),
            true,
            false,
        ),
        f(
            "on_maintenance_start",
            Ty::Obj(&T_JOBS_WEBHOOK),
            true,
            false,
        ),
        f("on_start", Ty::Obj(&T_JOBS_WEBHOOK), true, false),
        f(
            "on_streaming_backlog_exceeded",
            Ty::Obj(&T_JOBS_WEBHOOK),
            true,
            false,
        ),
        f("on_success", Ty::Obj(&T_JOBS_WEBHOOK), true, false),
    ],
};
static T_JOBS_TASK: TypeDef = TypeDef {
    name: "Task",
    fields: &[
        f(
            "ai_function_task",
            Ty::Obj(&T_JOBS_AI_FUNCTION_TASK),
            false,
            false,
        ),
        f(
            "ai_runtime_task",
            Ty::Obj(&T_JOBS_AI_RUNTIME_TASK),
            false,
            false,
        ),
        f("alert_task", Ty::Obj(&T_JOBS_ALERT_TASK), false, false),
        f(
            "clean_rooms_notebook_task",
            Ty::Obj(&T_JOBS_CLEAN_ROOMS_NOTEBOOK_TASK),
            false,
            false,
        ),
        f("compute", Ty::Obj(&T_JOBS_COMPUTE), false, false),
        f(
            "condition_task",
            Ty::Obj(&T_JOBS_CONDITION_TASK),
            false,
            false,
        ),
        f(
            "dashboard_task",
            Ty::Obj(&T_JOBS_DASHBOARD_TASK),
            false,
            false,
        ),
        f(
            "dbt_cloud_task",
            Ty::Obj(&T_JOBS_DBT_CLOUD_TASK),
            false,
            false,
        ),
        f(
            "dbt_platform_task",
            Ty::Obj(&T_JOBS_DBT_PLATFORM_TASK),
            false,
            false,
        ),
        f("dbt_task", Ty::Obj(&T_JOBS_DBT_TASK), false, false),
        f("depends_on", Ty::Obj(&T_JOBS_TASK_DEPENDENCY), true, false),
        f("description", Ty::Str, false, false),
        f("disable_auto_optimization", Ty::Bool, false, false),
        f("disabled", Ty::Bool, false, false),
        f(
            "email_notifications",
            Ty::Obj(&T_JOBS_TASK_EMAIL_NOTIFICATIONS),
            false,
            false,
        ),
        f("environment_key", Ty::Str, false, false),
        f("environment_variables_key", Ty::Str, false, false),
        f("existing_cluster_id", Ty::Str, false, false),
        f(
            "for_each_task",
            Ty::Obj(&T_JOBS_FOR_EACH_TASK),
            false,
            false,
        ),
        f(
            "gen_ai_compute_task",
            Ty::Obj(&T_JOBS_GEN_AI_COMPUTE_TASK),
            false,
            false,
        ),
        f("health", Ty::Obj(&T_JOBS_JOBS_HEALTH_RULES), false, false),
        f("job_cluster_key", Ty::Str, false, false),
        f("libraries", Ty::Obj(&T_COMPUTE_LIBRARY), true, false),
        f("max_retries", Ty::Int, false, false),
        f("min_retry_interval_millis", Ty::Int, false, false),
        f(
            "new_cluster",
            Ty::Obj(&T_COMPUTE_CLUSTER_SPEC),
            false,
            false,
        ),
        f(
            "notebook_task",
            Ty::Obj(&T_JOBS_NOTEBOOK_TASK),
            false,
            false,
        ),
        f(
            "notification_settings",
            Ty::Obj(&T_JOBS_TASK_NOTIFICATION_SETTINGS),
            false,
            false,
        ),
        f(
            "pipeline_task",
            Ty::Obj(&T_JOBS_PIPELINE_TASK),
            false,
            false,
        ),
        f(
            "power_bi_task",
            Ty::Obj(&T_JOBS_POWER_BI_TASK),
            false,
            false,
        ),
        f(
            "python_operator_task",
            Ty::Obj(&T_JOBS_PYTHON_OPERATOR_TASK),
            false,
            false,
        ),
        f(
            "python_wheel_task",
            Ty::Obj(&T_JOBS_PYTHON_WHEEL_TASK),
            false,
            false,
        ),
        f("retry_on_timeout", Ty::Bool, false, false),
        f("run_if", Ty::Enum(E_JOBS_RUN_IF), false, false),
        f("run_job_task", Ty::Obj(&T_JOBS_RUN_JOB_TASK), false, false),
        f(
            "spark_jar_task",
            Ty::Obj(&T_JOBS_SPARK_JAR_TASK),
            false,
            false,
        ),
        f(
            "spark_python_task",
            Ty::Obj(&T_JOBS_SPARK_PYTHON_TASK),
            false,
            false,
        ),
        f(
            "spark_submit_task",
            Ty::Obj(&T_JOBS_SPARK_SUBMIT_TASK),
            false,
            false,
        ),
        f("sql_task", Ty::Obj(&T_JOBS_SQL_TASK), false, false),
        f("task_key", Ty::Str, false, true),
        f("timeout_seconds", Ty::Int, false, false),
        f(
            "webhook_notifications",
            Ty::Obj(&T_JOBS_WEBHOOK_NOTIFICATIONS),
            false,
            false,
        ),
    ],
};
static T_JOBS_FILE_ARRIVAL_TRIGGER_CONFIGURATION: TypeDef = TypeDef {
    name: "FileArrivalTriggerConfiguration",
    fields: &[
        f("min_time_between_triggers_seconds", Ty::Int, false, false),
        f("url", Ty::Str, false, true),
        f("wait_after_last_change_seconds", Ty::Int, false, false),
    ],
};
static T_JOBS_JOB_COMPLETION_TRIGGER_CONFIGURATION_MONITORED_JOB: TypeDef = TypeDef {
    name: "JobCompletionTriggerConfigurationMonitoredJob",
    fields: &[
        f("job_id", Ty::Str, false, true),
        f("workspace_id", Ty::Str, false, true),
    ],
};
static T_JOBS_JOB_COMPLETION_TRIGGER_CONFIGURATION: TypeDef = TypeDef {
    name: "JobCompletionTriggerConfiguration",
    fields: &[
        f(
            "if_status",
            Ty::Enum(E_JOBS_JOB_COMPLETION_TRIGGER_CONFIGURATION_IF_STATUS),
            false,
            false,
        ),
        f(
            "jobs",
            Ty::Obj(&T_JOBS_JOB_COMPLETION_TRIGGER_CONFIGURATION_MONITORED_JOB),
            true,
            true,
        ),
    ],
};
static T_JOBS_MODEL_TRIGGER_CONFIGURATION: TypeDef = TypeDef {
    name: "ModelTriggerConfiguration",
    fields: &[
        f("aliases", Ty::Str, true, false),
        f(
            "condition",
            Ty::Enum(E_JOBS_MODEL_TRIGGER_CONFIGURATION_CONDITION),
            false,
            true,
        ),
        f("min_time_between_triggers_seconds", Ty::Int, false, false),
        f("securable_name", Ty::Str, false, false),
        f("wait_after_last_change_seconds", Ty::Int, false, false),
    ],
};
static T_JOBS_PERIODIC_TRIGGER_CONFIGURATION: TypeDef = TypeDef {
    name: "PeriodicTriggerConfiguration",
    fields: &[
        f("interval", Ty::Int, false, true),
        f(
            "unit",
            Ty::Enum(E_JOBS_PERIODIC_TRIGGER_CONFIGURATION_TIME_UNIT),
            false,
            true,
        ),
    ],
};
static T_JOBS_TABLE_UPDATE_TRIGGER_CONFIGURATION: TypeDef = TypeDef {
    name: "TableUpdateTriggerConfiguration",
    fields: &[
        f("condition", Ty::Enum(E_JOBS_CONDITION), false, false),
        f("min_time_between_triggers_seconds", Ty::Int, false, false),
        f("table_names", Ty::Str, true, true),
        f("wait_after_last_change_seconds", Ty::Int, false, false),
    ],
};
static T_JOBS_TRIGGER_SETTINGS: TypeDef = TypeDef {
    name: "TriggerSettings",
    fields: &[
        f(
            "file_arrival",
            Ty::Obj(&T_JOBS_FILE_ARRIVAL_TRIGGER_CONFIGURATION),
            false,
            false,
        ),
        f(
            "job_completion",
            Ty::Obj(&T_JOBS_JOB_COMPLETION_TRIGGER_CONFIGURATION),
            false,
            false,
        ),
        f(
            "model",
            Ty::Obj(&T_JOBS_MODEL_TRIGGER_CONFIGURATION),
            false,
            false,
        ),
        f("pause_status", Ty::Enum(E_JOBS_PAUSE_STATUS), false, false),
        f(
            "periodic",
            Ty::Obj(&T_JOBS_PERIODIC_TRIGGER_CONFIGURATION),
            false,
            false,
        ),
        f(
            "sql_condition",
            Ty::Obj(&T_JOBS_SQL_CONDITION_CONFIGURATION),
            false,
            false,
        ),
        f(
            "table_update",
            Ty::Obj(&T_JOBS_TABLE_UPDATE_TRIGGER_CONFIGURATION),
            false,
            false,
        ),
    ],
};
static T_JOBS_CONTINUOUS_TRIGGER_CONFIGURATION: TypeDef = TypeDef {
    name: "ContinuousTriggerConfiguration",
    fields: &[
        f(
            "maintenance_window",
            Ty::Obj(&T_JOBS_MAINTENANCE_WINDOW),
            false,
            false,
        ),
        f(
            "task_retry_mode",
            Ty::Enum(E_JOBS_TASK_RETRY_MODE),
            false,
            false,
        ),
    ],
};
static T_JOBS_CRON_TRIGGER_CONFIGURATION: TypeDef = TypeDef {
    name: "CronTriggerConfiguration",
    fields: &[
        f("quartz_cron_expression", Ty::Str, false, true),
        f("timezone_id", Ty::Str, false, true),
    ],
};
static T_JOBS_TRIGGER_CONFIGURATION: TypeDef = TypeDef {
    name: "TriggerConfiguration",
    fields: &[
        f(
            "continuous",
            Ty::Obj(&T_JOBS_CONTINUOUS_TRIGGER_CONFIGURATION),
            false,
            false,
        ),
        f(
            "file_arrival",
            Ty::Obj(&T_JOBS_FILE_ARRIVAL_TRIGGER_CONFIGURATION),
            false,
            false,
        ),
        f(
            "job_completion",
            Ty::Obj(&T_JOBS_JOB_COMPLETION_TRIGGER_CONFIGURATION),
            false,
            false,
        ),
        f(
            "model",
            Ty::Obj(&T_JOBS_MODEL_TRIGGER_CONFIGURATION),
            false,
            false,
        ),
        f("pause_status", Ty::Enum(E_JOBS_PAUSE_STATUS), false, false),
        f(
            "periodic",
            Ty::Obj(&T_JOBS_PERIODIC_TRIGGER_CONFIGURATION),
            false,
            false,
        ),
        f(
            "schedule",
            Ty::Obj(&T_JOBS_CRON_TRIGGER_CONFIGURATION),
            false,
            false,
        ),
        f(
            "sql_condition",
            Ty::Obj(&T_JOBS_SQL_CONDITION_CONFIGURATION),
            false,
            false,
        ),
        f(
            "table_update",
            Ty::Obj(&T_JOBS_TABLE_UPDATE_TRIGGER_CONFIGURATION),
            false,
            false,
        ),
    ],
};
static T_COMPUTE_CLONE_CLUSTER: TypeDef = TypeDef {
    name: "CloneCluster",
    fields: &[f("source_cluster_id", Ty::Str, false, true)],
};
static T_COMPUTE_INSTANCE_POOL_AWS_ATTRIBUTES: TypeDef = TypeDef {
    name: "InstancePoolAwsAttributes",
    fields: &[
        f(
            "availability",
            Ty::Enum(E_COMPUTE_INSTANCE_POOL_AWS_ATTRIBUTES_AVAILABILITY),
            false,
            false,
        ),
        f("instance_profile_arn", Ty::Str, false, false),
        f("spot_bid_price_percent", Ty::Int, false, false),
        f("zone_id", Ty::Str, false, false),
    ],
};
static T_COMPUTE_INSTANCE_POOL_AZURE_ATTRIBUTES: TypeDef = TypeDef {
    name: "InstancePoolAzureAttributes",
    fields: &[
        f(
            "availability",
            Ty::Enum(E_COMPUTE_INSTANCE_POOL_AZURE_ATTRIBUTES_AVAILABILITY),
            false,
            false,
        ),
        f("capacity_reservation_group", Ty::Str, false, false),
        f("spot_bid_max_price", Ty::Float, false, false),
    ],
};
static T_COMPUTE_DISK_TYPE: TypeDef = TypeDef {
    name: "DiskType",
    fields: &[
        f(
            "azure_disk_volume_type",
            Ty::Enum(E_COMPUTE_DISK_TYPE_AZURE_DISK_VOLUME_TYPE),
            false,
            false,
        ),
        f(
            "ebs_volume_type",
            Ty::Enum(E_COMPUTE_DISK_TYPE_EBS_VOLUME_TYPE),
            false,
            false,
        ),
    ],
};
static T_COMPUTE_DISK_SPEC: TypeDef = TypeDef {
    name: "DiskSpec",
    fields: &[
        f("disk_count", Ty::Int, false, false),
        f("disk_iops", Ty::Int, false, false),
        f("disk_size", Ty::Int, false, false),
        f("disk_throughput", Ty::Int, false, false),
        f("disk_type", Ty::Obj(&T_COMPUTE_DISK_TYPE), false, false),
    ],
};
static T_COMPUTE_INSTANCE_POOL_GCP_ATTRIBUTES: TypeDef = TypeDef {
    name: "InstancePoolGcpAttributes",
    fields: &[
        f(
            "gcp_availability",
            Ty::Enum(E_COMPUTE_GCP_AVAILABILITY),
            false,
            false,
        ),
        f("local_ssd_count", Ty::Int, false, false),
        f("zone_id", Ty::Str, false, false),
    ],
};
static T_SQL_CHANNEL: TypeDef = TypeDef {
    name: "Channel",
    fields: &[
        f("dbsql_version", Ty::Str, false, false),
        f("name", Ty::Enum(E_SQL_CHANNEL_NAME), false, false),
    ],
};
static T_SQL_ENDPOINT_TAG_PAIR: TypeDef = TypeDef {
    name: "EndpointTagPair",
    fields: &[
        f("key", Ty::Str, false, false),
        f("value", Ty::Str, false, false),
    ],
};
static T_SQL_ENDPOINT_TAGS: TypeDef = TypeDef {
    name: "EndpointTags",
    fields: &[f(
        "custom_tags",
        Ty::Obj(&T_SQL_ENDPOINT_TAG_PAIR),
        true,
        false,
    )],
};
static T_WORKSPACE_AZURE_KEY_VAULT_SECRET_SCOPE_METADATA: TypeDef = TypeDef {
    name: "AzureKeyVaultSecretScopeMetadata",
    fields: &[
        f("dns_name", Ty::Str, false, true),
        f("resource_id", Ty::Str, false, true),
    ],
};
static T_CATALOG_AZURE_ENCRYPTION_SETTINGS: TypeDef = TypeDef {
    name: "AzureEncryptionSettings",
    fields: &[
        f("azure_cmk_access_connector_id", Ty::Str, false, false),
        f("azure_cmk_managed_identity_id", Ty::Str, false, false),
        f("azure_tenant_id", Ty::Str, false, true),
    ],
};
static T_CATALOG_ENCRYPTION_SETTINGS: TypeDef = TypeDef {
    name: "EncryptionSettings",
    fields: &[
        f(
            "azure_encryption_settings",
            Ty::Obj(&T_CATALOG_AZURE_ENCRYPTION_SETTINGS),
            false,
            false,
        ),
        f("azure_key_vault_key_id", Ty::Str, false, false),
        f("customer_managed_key_id", Ty::Str, false, false),
    ],
};
static E_JOBS_DAY_OF_WEEK: &[&str] = &[
    "FRIDAY",
    "MONDAY",
    "SATURDAY",
    "SUNDAY",
    "THURSDAY",
    "TUESDAY",
    "WEDNESDAY",
];
static E_JOBS_PAUSE_STATUS: &[&str] = &["PAUSED", "UNPAUSED"];
static E_JOBS_TASK_RETRY_MODE: &[&str] = &["NEVER", "ON_FAILURE"];
static E_JOBS_JOB_DEPLOYMENT_KIND: &[&str] = &["BUNDLE", "SYSTEM_MANAGED"];
static E_JOBS_JOB_EDIT_MODE: &[&str] = &["EDITABLE", "UI_LOCKED"];
static E_JOBS_FORMAT: &[&str] = &["MULTI_TASK", "SINGLE_TASK"];
static E_JOBS_GIT_PROVIDER: &[&str] = &[
    "awsCodeCommit",
    "azureDevOpsServices",
    "bitbucketCloud",
    "bitbucketServer",
    "gitHub",
    "gitHubEnterprise",
    "gitLab",
    "gitLabEnterpriseEdition",
];
static E_JOBS_JOB_SOURCE_DIRTY_STATE: &[&str] = &["DISCONNECTED", "NOT_SYNCED"];
static E_JOBS_JOBS_HEALTH_METRIC: &[&str] = &[
    "RUN_DURATION_SECONDS",
    "STREAMING_BACKLOG_BYTES",
    "STREAMING_BACKLOG_FILES",
    "STREAMING_BACKLOG_RECORDS",
    "STREAMING_BACKLOG_SECONDS",
];
static E_JOBS_JOBS_HEALTH_OPERATOR: &[&str] = &["GREATER_THAN"];
static E_COMPUTE_AWS_AVAILABILITY: &[&str] = &["ON_DEMAND", "SPOT", "SPOT_WITH_FALLBACK"];
static E_COMPUTE_EBS_VOLUME_TYPE: &[&str] = &["GENERAL_PURPOSE_SSD", "THROUGHPUT_OPTIMIZED_HDD"];
static E_COMPUTE_AZURE_AVAILABILITY: &[&str] =
    &["ON_DEMAND_AZURE", "SPOT_AZURE", "SPOT_WITH_FALLBACK_AZURE"];
static E_COMPUTE_DATA_SECURITY_MODE: &[&str] = &[
    "DATA_SECURITY_MODE_AUTO",
    "DATA_SECURITY_MODE_DEDICATED",
    "DATA_SECURITY_MODE_STANDARD",
    "LEGACY_PASSTHROUGH",
    "LEGACY_SINGLE_USER",
    "LEGACY_SINGLE_USER_STANDARD",
    "LEGACY_TABLE_ACL",
    "NONE",
    "SINGLE_USER",
    "USER_ISOLATION",
];
static E_COMPUTE_DEPENDENCY_MODE: &[&str] = &[
    "DEPENDENCY_MODE_AUTO",
    "DEPENDENCY_MODE_CLUSTER_LIBRARIES",
    "DEPENDENCY_MODE_ENVIRONMENTS",
];
static E_COMPUTE_GCP_AVAILABILITY: &[&str] = &[
    "ON_DEMAND_GCP",
    "PREEMPTIBLE_GCP",
    "PREEMPTIBLE_WITH_FALLBACK_GCP",
];
static E_COMPUTE_CONFIDENTIAL_COMPUTE_TYPE: &[&str] =
    &["CONFIDENTIAL_COMPUTE_TYPE_NONE", "SEV_SNP"];
static E_COMPUTE_KIND: &[&str] = &["CLASSIC_PREVIEW"];
static E_COMPUTE_RUNTIME_ENGINE: &[&str] = &["NULL", "PHOTON", "STANDARD"];
static E_JOBS_PERFORMANCE_TARGET: &[&str] = &["PERFORMANCE_OPTIMIZED", "STANDARD"];
static E_JOBS_SQL_CONDITION_TRIGGER_MODE: &[&str] = &["QUERY_RETURNS_ROWS", "RESULT_VALUE_CHANGES"];
static E_JOBS_AI_EXTRACT_FUNCTION_MODE: &[&str] = &["MODE_PRECISION"];
static E_JOBS_AI_PARSE_DOCUMENT_FUNCTION_DESCRIPTION_ELEMENT_TYPE: &[&str] = &[
    "DESCRIPTION_ELEMENT_TYPE_ALL",
    "DESCRIPTION_ELEMENT_TYPE_FIGURE",
];
static E_JOBS_COMPUTE_SPEC_ACCELERATOR_TYPE: &[&str] =
    &["GPU_1xA10", "GPU_1xH100", "GPU_8xB300", "GPU_8xH100"];
static E_JOBS_AI_RUNTIME_TASK_PRIORITY_CLASS: &[&str] = &["BEST_EFFORT", "NORMAL"];
static E_COMPUTE_HARDWARE_ACCELERATOR_TYPE: &[&str] =
    &["GPU_1xA10", "GPU_1xH100", "GPU_8xB300", "GPU_8xH100"];
static E_JOBS_CONDITION_TASK_OP: &[&str] = &[
    "EQUAL_TO",
    "GREATER_THAN",
    "GREATER_THAN_OR_EQUAL",
    "LESS_THAN",
    "LESS_THAN_OR_EQUAL",
    "NOT_EQUAL",
];
static E_JOBS_SUBSCRIPTION_ATTACHMENT_DATA_ATTACHMENT_FILE_FORMAT: &[&str] =
    &["FILE_FORMAT_CSV", "FILE_FORMAT_EXCEL", "FILE_FORMAT_TSV"];
static E_JOBS_SUBSCRIPTION_ATTACHMENT_PAGE_ATTACHMENT_PAGE_SELECTION: &[&str] =
    &["PAGE_SELECTION_ALL", "PAGE_SELECTION_SUBSET"];
static E_JOBS_SOURCE: &[&str] = &["GIT", "WORKSPACE"];
static E_JOBS_AUTHENTICATION_METHOD: &[&str] = &["OAUTH", "PAT"];
static E_JOBS_STORAGE_MODE: &[&str] = &["DIRECT_QUERY", "DUAL", "IMPORT"];
static E_JOBS_RUN_IF: &[&str] = &[
    "ALL_DONE",
    "ALL_FAILED",
    "ALL_SUCCESS",
    "AT_LEAST_ONE_FAILED",
    "AT_LEAST_ONE_SUCCESS",
    "NONE_FAILED",
];
static E_JOBS_JOB_COMPLETION_TRIGGER_CONFIGURATION_IF_STATUS: &[&str] =
    &["DONE", "FAILED", "SUCCESS"];
static E_JOBS_MODEL_TRIGGER_CONFIGURATION_CONDITION: &[&str] =
    &["MODEL_ALIAS_SET", "MODEL_CREATED", "MODEL_VERSION_READY"];
static E_JOBS_PERIODIC_TRIGGER_CONFIGURATION_TIME_UNIT: &[&str] =
    &["DAYS", "HOURS", "MINUTES", "WEEKS"];
static E_JOBS_CONDITION: &[&str] = &["ALL_UPDATED", "ANY_UPDATED"];
static E_COMPUTE_INSTANCE_POOL_AWS_ATTRIBUTES_AVAILABILITY: &[&str] = &["ON_DEMAND", "SPOT"];
static E_COMPUTE_INSTANCE_POOL_AZURE_ATTRIBUTES_AVAILABILITY: &[&str] =
    &["ON_DEMAND_AZURE", "SPOT_AZURE"];
static E_COMPUTE_DISK_TYPE_AZURE_DISK_VOLUME_TYPE: &[&str] = &["PREMIUM_LRS", "STANDARD_LRS"];
static E_COMPUTE_DISK_TYPE_EBS_VOLUME_TYPE: &[&str] =
    &["GENERAL_PURPOSE_SSD", "THROUGHPUT_OPTIMIZED_HDD"];
static E_SQL_CHANNEL_NAME: &[&str] = &[
    "CHANNEL_NAME_CURRENT",
    "CHANNEL_NAME_CUSTOM",
    "CHANNEL_NAME_PREVIEW",
    "CHANNEL_NAME_PREVIOUS",
];
static E_SQL_SPOT_INSTANCE_POLICY: &[&str] = &[
    "COST_OPTIMIZED",
    "POLICY_UNSPECIFIED",
    "RELIABILITY_OPTIMIZED",
];
static E_SQL_CREATE_WAREHOUSE_REQUEST_WAREHOUSE_TYPE: &[&str] =
    &["CLASSIC", "PRO", "REALTIME", "TYPE_UNSPECIFIED"];
static E_WORKSPACE_SCOPE_BACKEND_TYPE: &[&str] = &["AZURE_KEYVAULT", "DATABRICKS"];
