"""Clusters, cluster policies and instance pools through the SDK."""

import json

import pytest
from databricks.sdk.errors import InvalidParameterValue, NotFound, ResourceAlreadyExists
from databricks.sdk.service import compute

from conftest import unique


def test_cluster_lifecycle(w):
    cluster = w.clusters.create(
        cluster_name="etl", spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge",
        num_workers=2, autotermination_minutes=30,
    ).result()
    assert cluster.state == compute.State.RUNNING
    assert cluster.default_tags["ClusterName"] == "etl"
    assert cluster.cluster_source == compute.ClusterSource.API
    assert cluster.spec.num_workers == 2
    assert cluster.driver_node_type_id == "i3.xlarge"

    w.clusters.edit(cluster.cluster_id, spark_version="15.4.x-scala2.12",
                    node_type_id="i3.xlarge", num_workers=4, cluster_name="etl-big").result()
    again = w.clusters.get(cluster.cluster_id)
    assert again.num_workers == 4 and again.cluster_name == "etl-big"

    w.clusters.delete(cluster.cluster_id).result()
    assert w.clusters.get(cluster.cluster_id).state == compute.State.TERMINATED
    w.clusters.start(cluster.cluster_id).result()
    w.clusters.permanent_delete(cluster.cluster_id)
    with pytest.raises(NotFound):
        w.clusters.get(cluster.cluster_id)


def test_cluster_list_pages(w):
    for i in range(5):
        w.clusters.create(cluster_name=f"c{i}", spark_version="15.4.x-scala2.12",
                          node_type_id="i3.xlarge", num_workers=0)
    names = [c.cluster_name for c in w.clusters.list(page_size=2)]
    assert sorted(names) == [f"c{i}" for i in range(5)]


def test_cluster_requires_spark_version(w):
    with pytest.raises(InvalidParameterValue):
        w.clusters.create(cluster_name="x", spark_version="", node_type_id="i3.xlarge")


def test_cluster_policy_lifecycle_and_fixed_values(w):
    definition = {"spark_version": {"type": "fixed", "value": "15.4.x-scala2.12"},
                  "custom_tags.team": {"type": "fixed", "value": "data"}}
    policy = w.cluster_policies.create(name="team-data", definition=json.dumps(definition))
    got = w.cluster_policies.get(policy.policy_id)
    assert json.loads(got.definition) == definition
    assert got.creator_user_name == "admin@example.com"
    with pytest.raises(ResourceAlreadyExists):
        w.cluster_policies.create(name="team-data", definition="{}")

    cluster = w.clusters.create(cluster_name="governed", spark_version="15.4.x-scala2.12",
                                node_type_id="i3.xlarge", policy_id=policy.policy_id).result()
    assert cluster.custom_tags == {"team": "data"}

    w.cluster_policies.edit(policy.policy_id, name="team-data-2", definition="{}")
    assert [p.name for p in w.cluster_policies.list()] == ["team-data-2"]
    w.cluster_policies.delete(policy.policy_id)
    with pytest.raises(NotFound):
        w.cluster_policies.get(policy.policy_id)


def test_instance_pool_lifecycle(w):
    pool = w.instance_pools.create(instance_pool_name="warm", node_type_id="i3.xlarge",
                                   min_idle_instances=1, max_capacity=10)
    got = w.instance_pools.get(pool.instance_pool_id)
    assert got.state == compute.InstancePoolState.ACTIVE
    assert got.default_tags["DatabricksInstancePoolId"] == pool.instance_pool_id
    w.instance_pools.edit(pool.instance_pool_id, instance_pool_name="warmer",
                          node_type_id="i3.xlarge", max_capacity=20)
    got = w.instance_pools.get(pool.instance_pool_id)
    assert (got.instance_pool_name, got.max_capacity) == ("warmer", 20)
    with pytest.raises(InvalidParameterValue):
        w.instance_pools.edit(pool.instance_pool_id, instance_pool_name="warmer",
                              node_type_id="r5d.xlarge")
    second = w.instance_pools.create(instance_pool_name=unique("p"), node_type_id="m5d.large")
    assert {p.instance_pool_id for p in w.instance_pools.list()} == {
        pool.instance_pool_id, second.instance_pool_id}
    w.instance_pools.delete(pool.instance_pool_id)
    assert [p.instance_pool_id for p in w.instance_pools.list()] == [second.instance_pool_id]


def test_sdk_selection_helpers(w):
    assert w.clusters.select_spark_version(latest=True, long_term_support=True) == "16.4.x-scala2.12"
    assert w.clusters.select_node_type(local_disk=True, min_memory_gb=16)

