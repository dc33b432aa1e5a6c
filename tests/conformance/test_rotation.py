"""What rotation and partial edits rely on: jobs/update merging tasks and job
clusters by key, instance pools that are gone answering NotFound, service
principal OAuth secrets (create, list, sign in with, delete) and
on-behalf-of tokens from creation to deletion."""

import time
from datetime import datetime

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    InvalidParameterValue, NotFound, PermissionDenied, ResourceDoesNotExist, Unauthenticated,
)
from databricks.sdk.service import compute, jobs

from conftest import client, unique

SDK_ENV = [
    "DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET",
    "DATABRICKS_OIDC_TOKEN_FILEPATH", "DATABRICKS_AUTH_TYPE", "DATABRICKS_CONFIG_PROFILE",
]


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in SDK_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "absent.cfg"))
    return monkeypatch


def task(key, path, depends=(), cluster="main"):
    return jobs.Task(
        task_key=key,
        job_cluster_key=cluster,
        notebook_task=jobs.NotebookTask(notebook_path=path),
        depends_on=[jobs.TaskDependency(task_key=d) for d in depends],
    )


def job_cluster(key, spark_version="15.4.x-scala2.12"):
    spec = compute.ClusterSpec(spark_version=spark_version, node_type_id="i3.xlarge",
                               num_workers=1)
    return jobs.JobCluster(job_cluster_key=key, new_cluster=spec)


def pipeline_job(w):
    return w.jobs.create(
        name=unique("pipeline"),
        job_clusters=[job_cluster("main"), job_cluster("big")],
        tasks=[
            task("extract", "/Shared/extract"),
            task("transform", "/Shared/transform", depends=["extract"]),
            task("load", "/Shared/load", depends=["transform"]),
        ],
    ).job_id


def by_key(items, key):
    return {getattr(i, key): i for i in items}


def test_update_with_one_task_replaces_it_and_keeps_the_others(w):
    job_id = pipeline_job(w)
    before = by_key(w.jobs.get(job_id).settings.tasks, "task_key")
    # Only the changed task is sent; it still depends on a task it does not carry.
    w.jobs.update(job_id, new_settings=jobs.JobSettings(tasks=[
        task("transform", "/Shared/transform-v2", depends=["extract"], cluster="big"),
    ]))
    s = w.jobs.get(job_id).settings
    assert [t.task_key for t in s.tasks] == ["extract", "transform", "load"]
    got = by_key(s.tasks, "task_key")
    assert got["transform"].notebook_task.notebook_path == "/Shared/transform-v2"
    assert got["transform"].job_cluster_key == "big"
    assert got["extract"] == before["extract"]
    assert got["load"] == before["load"]


def test_update_adds_a_task_with_a_new_key(w):
    job_id = pipeline_job(w)
    w.jobs.update(job_id, new_settings=jobs.JobSettings(tasks=[
        task("report", "/Shared/report", depends=["load"]),
    ]))
    s = w.jobs.get(job_id).settings
    assert [t.task_key for t in s.tasks] == ["extract", "transform", "load", "report"]
    assert s.tasks[3].run_if == jobs.RunIf.ALL_SUCCESS


def test_update_merges_job_clusters_by_key(w):
    job_id = pipeline_job(w)
    w.jobs.update(job_id, new_settings=jobs.JobSettings(job_clusters=[
        job_cluster("main", spark_version="16.0.x-scala2.12"),
        job_cluster("gpu", spark_version="15.4.x-gpu-ml-scala2.12"),
    ]))
    s = w.jobs.get(job_id).settings
    versions = [(c.job_cluster_key, c.new_cluster.spark_version) for c in s.job_clusters]
    assert versions == [("main", "16.0.x-scala2.12"), ("big", "15.4.x-scala2.12"),
                        ("gpu", "15.4.x-gpu-ml-scala2.12")]
    assert [t.task_key for t in s.tasks] == ["extract", "transform", "load"]


def test_update_removes_tasks_and_job_clusters_by_key(w):
    job_id = pipeline_job(w)
    w.jobs.update(job_id, fields_to_remove=["tasks/load", "job_clusters/big"])
    s = w.jobs.get(job_id).settings
    assert [t.task_key for t in s.tasks] == ["extract", "transform"]
    assert [c.job_cluster_key for c in s.job_clusters] == ["main"]


def test_update_checks_references_on_the_merged_job(w):
    job_id = pipeline_job(w)
    before = w.jobs.get(job_id).settings
    with pytest.raises(InvalidParameterValue):
        w.jobs.update(job_id, new_settings=jobs.JobSettings(tasks=[
            task("report", "/Shared/report", depends=["missing"]),
        ]))
    with pytest.raises(InvalidParameterValue):
        # transform still depends on extract.
        w.jobs.update(job_id, fields_to_remove=["tasks/extract"])
    with pytest.raises(InvalidParameterValue):
        # every task runs on main.
        w.jobs.update(job_id, fields_to_remove=["job_clusters/main"])
    with pytest.raises(InvalidParameterValue):
        w.jobs.update(job_id, new_settings=jobs.JobSettings(tasks=[
            task("x", "/Shared/x"), task("x", "/Shared/y"),
        ]))
    assert w.jobs.get(job_id).settings == before


def test_update_on_2_1_merges_the_same_way(w):
    job_id = pipeline_job(w)
    w.api_client.do("POST", "/api/2.1/jobs/update", body={
        "job_id": job_id,
        "new_settings": {"tasks": [
            {"task_key": "load", "job_cluster_key": "main",
             "notebook_task": {"notebook_path": "/Shared/load-v2"},
             "depends_on": [{"task_key": "transform"}]},
        ]},
    })
    got = w.api_client.do("GET", "/api/2.1/jobs/get", query={"job_id": job_id})
    tasks = got["settings"]["tasks"]
    assert [t["task_key"] for t in tasks] == ["extract", "transform", "load"]
    assert tasks[2]["notebook_task"]["notebook_path"] == "/Shared/load-v2"


def test_instance_pool_get_after_delete_is_not_found(w):
    pool = w.instance_pools.create(instance_pool_name=unique("pool"), node_type_id="i3.xlarge")
    w.instance_pools.delete(pool.instance_pool_id)
    with pytest.raises(NotFound) as info:
        w.instance_pools.get(pool.instance_pool_id)
    assert isinstance(info.value, ResourceDoesNotExist)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert str(info.value) == f"Can't find an instance pool with id: {pool.instance_pool_id}."
    with pytest.raises(NotFound):
        w.instance_pools.get("0000-000000-pool0000000")
    with pytest.raises(NotFound):
        w.instance_pools.edit(pool.instance_pool_id, instance_pool_name="again",
                              node_type_id="i3.xlarge")


def m2m_client(emulator, client_id, client_secret) -> WorkspaceClient:
    return WorkspaceClient(host=emulator.base_url, client_id=client_id,
                           client_secret=client_secret, auth_type="oauth-m2m")


def assert_refused(emulator, client_id, client_secret):
    with pytest.raises(Exception) as info:
        m2m_client(emulator, client_id, client_secret).current_user.me()
    assert "invalid_client" in str(info.value)


def test_sp_secret_signs_in_until_deleted(w, emulator, clean_env):
    sp = w.service_principals.create(display_name=unique("rotated"))
    proxy = w.service_principal_secrets_proxy
    created = proxy.create(sp.id, lifetime="3600s")
    assert created.secret.startswith("dose")
    assert created.status == "ACTIVE"
    assert len(created.id) == 64
    lifetime = (datetime.fromisoformat(created.expire_time)
                - datetime.fromisoformat(created.create_time))
    assert lifetime.total_seconds() == 3600
    listed = list(proxy.list(sp.id))
    assert [s.id for s in listed] == [created.id]
    assert listed[0].secret_hash == created.secret_hash
    assert "secret" not in listed[0].as_dict()

    as_sp = m2m_client(emulator, sp.application_id, created.secret)
    assert as_sp.config.auth_type == "oauth-m2m"
    assert as_sp.current_user.me().user_name == sp.application_id

    # Rotate: a second secret works alongside the first until the first goes.
    second = proxy.create(sp.id)
    assert m2m_client(emulator, sp.application_id, second.secret).current_user.me()
    proxy.delete(sp.id, created.id)
    assert [s.id for s in proxy.list(sp.id)] == [second.id]
    assert_refused(emulator, sp.application_id, created.secret)
    assert m2m_client(emulator, sp.application_id, second.secret).current_user.me()


def test_sp_secret_is_bound_to_its_service_principal(w, emulator, clean_env):
    one = w.service_principals.create(display_name=unique("one"))
    other = w.service_principals.create(display_name=unique("other"))
    secret = w.service_principal_secrets_proxy.create(one.id)
    assert_refused(emulator, other.application_id, secret.secret)
    with pytest.raises(NotFound):
        w.service_principal_secrets_proxy.delete(other.id, secret.id)


def test_expired_sp_secret_is_refused(w, emulator, clean_env):
    sp = w.service_principals.create(display_name=unique("short-lived"))
    secret = w.service_principal_secrets_proxy.create(sp.id, lifetime="1s")
    time.sleep(1.2)
    assert_refused(emulator, sp.application_id, secret.secret)


def test_deleting_the_service_principal_drops_its_secrets(w, emulator, clean_env):
    sp = w.service_principals.create(display_name=unique("leaving"))
    secret = w.service_principal_secrets_proxy.create(sp.id)
    w.service_principals.delete(sp.id)
    assert_refused(emulator, sp.application_id, secret.secret)
    with pytest.raises(NotFound):
        list(w.service_principal_secrets_proxy.list(sp.id))


def test_sp_secrets_list_pages(w):
    sp = w.service_principals.create(display_name=unique("many"))
    ids = [w.service_principal_secrets_proxy.create(sp.id).id for _ in range(5)]
    first = w.api_client.do(
        "GET", f"/api/2.0/accounts/servicePrincipals/{sp.id}/credentials/secrets",
        query={"page_size": 2})
    assert [s["id"] for s in first["secrets"]] == ids[:2]
    assert first["next_page_token"]
    assert [s.id for s in w.service_principal_secrets_proxy.list(sp.id, page_size=2)] == ids


def test_sp_secrets_need_an_admin_and_a_known_service_principal(w, alice):
    sp = w.service_principals.create(display_name=unique("guarded"))
    with pytest.raises(PermissionDenied):
        alice.service_principal_secrets_proxy.create(sp.id)
    with pytest.raises(PermissionDenied):
        list(alice.service_principal_secrets_proxy.list(sp.id))
    with pytest.raises(NotFound):
        w.service_principal_secrets_proxy.create("1234567")
    with pytest.raises(NotFound):
        # The path takes the SCIM id, not the application id.
        w.service_principal_secrets_proxy.create(sp.application_id)
    with pytest.raises(NotFound):
        w.service_principal_secrets_proxy.delete(sp.id, "0" * 64)
    with pytest.raises(InvalidParameterValue):
        w.service_principal_secrets_proxy.create(sp.id, lifetime="soon")


def test_on_behalf_of_token_round_trip(w, emulator):
    sp = w.service_principals.create(display_name=unique("obo"))
    obo = w.token_management.create_obo_token(application_id=sp.application_id,
                                              comment="rotation", lifetime_seconds=600)
    as_sp = client(emulator, token=obo.token_value)
    assert as_sp.current_user.me().user_name == sp.application_id
    info = w.token_management.get(obo.token_info.token_id).token_info
    assert info.comment == "rotation"
    assert info.owner_id == int(sp.id)
    listed = [t.token_id for t in w.token_management.list()]
    assert obo.token_info.token_id in listed
    w.token_management.delete(obo.token_info.token_id)
    with pytest.raises(Unauthenticated):
        client(emulator, token=obo.token_value).current_user.me()
    with pytest.raises(NotFound):
        w.token_management.get(obo.token_info.token_id)
    with pytest.raises(NotFound):
        w.token_management.delete(obo.token_info.token_id)
