"""Object permissions through the SDK: inherited admins entry, PUT replaces,
PATCH merges, the single-owner rule, permission levels."""

import pytest
from databricks.sdk.errors import InvalidParameterValue, NotFound, PermissionDenied
from databricks.sdk.service import iam, jobs, sql

from conftest import USER_NAME


def direct(acl):
    return {
        (e.user_name or e.group_name or e.service_principal_name, p.permission_level.value)
        for e in acl.access_control_list
        for p in e.all_permissions
        if not p.inherited
    }


def test_job_acl_put_patch_owner(w, alice):
    w.groups.create(display_name="analysts")
    job = w.jobs.create(name="acl")
    acl = w.jobs.get_permissions(str(job.job_id))
    assert acl.object_id == f"/jobs/{job.job_id}" and acl.object_type == "job"
    admins = next(e for e in acl.access_control_list if e.group_name == "admins")
    assert admins.all_permissions[0].inherited is True
    assert admins.all_permissions[0].inherited_from_object == ["/jobs/"]
    assert direct(acl) == {("admin@example.com", "IS_OWNER")}

    # PUT without an owner keeps the current owner.
    acl = w.jobs.set_permissions(str(job.job_id), access_control_list=[
        jobs.JobAccessControlRequest(group_name="analysts", permission_level=jobs.JobPermissionLevel.CAN_VIEW)])
    assert direct(acl) == {("admin@example.com", "IS_OWNER"), ("analysts", "CAN_VIEW")}

    # PATCH merges and can transfer ownership.
    acl = w.jobs.update_permissions(str(job.job_id), access_control_list=[
        jobs.JobAccessControlRequest(user_name=USER_NAME, permission_level=jobs.JobPermissionLevel.IS_OWNER)])
    assert direct(acl) == {(USER_NAME, "IS_OWNER"), ("analysts", "CAN_VIEW")}
    assert alice.jobs.get(job.job_id).job_id == job.job_id

    with pytest.raises(InvalidParameterValue):
        w.jobs.set_permissions(str(job.job_id), access_control_list=[
            jobs.JobAccessControlRequest(user_name=USER_NAME, permission_level=jobs.JobPermissionLevel.IS_OWNER),
            jobs.JobAccessControlRequest(user_name="admin@example.com",
                                         permission_level=jobs.JobPermissionLevel.IS_OWNER)])
    with pytest.raises(InvalidParameterValue):
        w.jobs.set_permissions(str(job.job_id), access_control_list=[
            jobs.JobAccessControlRequest(user_name="ghost@example.com",
                                         permission_level=jobs.JobPermissionLevel.CAN_VIEW)])
    levels = w.jobs.get_permission_levels(str(job.job_id)).permission_levels
    assert [l.permission_level.value for l in levels] == ["CAN_VIEW", "CAN_MANAGE_RUN", "CAN_MANAGE", "IS_OWNER"]


def test_non_owner_cannot_change_acl(w, alice):
    job = w.jobs.create(name="locked")
    with pytest.raises(PermissionDenied):
        alice.jobs.set_permissions(str(job.job_id), access_control_list=[])


def test_warehouse_acl_through_both_paths(w):
    wh = w.warehouses.create(name="acl-wh", cluster_size="Small").response
    acl = w.warehouses.set_permissions(wh.id, access_control_list=[
        sql.WarehouseAccessControlRequest(group_name="users", permission_level=sql.WarehousePermissionLevel.CAN_USE)])
    assert direct(acl) == {("admin@example.com", "IS_OWNER"), ("users", "CAN_USE")}
    via_generic = w.permissions.get("sql/warehouses", wh.id)
    assert via_generic.object_id == f"/sql/warehouses/{wh.id}"
    assert direct(via_generic) == direct(acl)


def test_generic_permissions_for_other_types(w):
    cluster = w.clusters.create(cluster_name="p", spark_version="15.4.x-scala2.12",
                                node_type_id="i3.xlarge").response
    acl = w.permissions.set("clusters", cluster.cluster_id, access_control_list=[
        iam.AccessControlRequest(group_name="users", permission_level=iam.PermissionLevel.CAN_ATTACH_TO)])
    assert direct(acl) == {("users", "CAN_ATTACH_TO")}
    with pytest.raises(InvalidParameterValue):
        w.permissions.set("clusters", cluster.cluster_id, access_control_list=[
            iam.AccessControlRequest(group_name="users", permission_level=iam.PermissionLevel.IS_OWNER)])
    policy = w.cluster_policies.create(name="pp", definition="{}")
    acl = w.permissions.update("cluster-policies", policy.policy_id, access_control_list=[
        iam.AccessControlRequest(group_name="users", permission_level=iam.PermissionLevel.CAN_USE)])
    assert ("users", "CAN_USE") in direct(acl)
    pool = w.instance_pools.create(instance_pool_name="pp", node_type_id="i3.xlarge")
    assert w.permissions.get("instance-pools", pool.instance_pool_id).object_type == "instance-pool"
    tokens = w.permissions.get("authorization", "tokens")
    assert tokens.object_id == "authorization/tokens"
    with pytest.raises(NotFound):
        w.permissions.get("jobs", "424242")


def test_workspace_object_permissions_inherit_from_folders(w):
    w.workspace.mkdirs("/Shared/team")
    folder = w.workspace.get_status("/Shared/team")
    w.permissions.set("directories", str(folder.object_id), access_control_list=[
        iam.AccessControlRequest(user_name=USER_NAME, permission_level=iam.PermissionLevel.CAN_READ)])
    w.workspace.upload("/Shared/team/nb.py", b"# Databricks notebook source\nprint(1)\n",
                       format=__import__("databricks.sdk.service.workspace", fromlist=["x"]).ImportFormat.AUTO)
    nb = w.workspace.get_status("/Shared/team/nb")
    acl = w.permissions.get("notebooks", str(nb.object_id))
    inherited = [
        p.inherited_from_object for e in acl.access_control_list if e.user_name == USER_NAME
        for p in e.all_permissions
    ]
    assert inherited == [[f"/directories/{folder.object_id}"]]
