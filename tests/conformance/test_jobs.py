"""Jobs through the SDK: create, read back with server defaults, list across
pages, update, reset, delete, 2.2 paging of large task arrays, errors."""

import pytest
from databricks.sdk.errors import InvalidParameterValue, NotFound, PermissionDenied
from databricks.sdk.service import jobs

from conftest import unique


def notebook_task(key, depends=()):
    return jobs.Task(
        task_key=key,
        notebook_task=jobs.NotebookTask(notebook_path="/Shared/nb"),
        existing_cluster_id="1128-000001-c0000001",
        depends_on=[jobs.TaskDependency(task_key=d) for d in depends],
    )


def test_create_and_read_back_with_server_defaults(w):
    created = w.jobs.create(
        name="nightly",
        tasks=[notebook_task("b", depends=("z", "a")), notebook_task("a"), notebook_task("z")],
    )
    job = w.jobs.get(created.job_id)
    assert job.creator_user_name == "admin@example.com"
    assert job.run_as_user_name == "admin@example.com"
    assert job.created_time > 0
    s = job.settings
    assert s.name == "nightly"
    assert s.format == jobs.Format.MULTI_TASK
    assert s.max_concurrent_runs == 1
    assert s.timeout_seconds == 0
    assert s.email_notifications == jobs.JobEmailNotifications()
    assert s.queue.enabled is True
    b = next(t for t in s.tasks if t.task_key == "b")
    assert [d.task_key for d in b.depends_on] == ["a", "z"]
    assert b.run_if == jobs.RunIf.ALL_SUCCESS
    assert b.notebook_task.source == jobs.Source.WORKSPACE


def test_list_250_jobs_across_pages(w):
    ids = {w.jobs.create(name=f"bulk-{i:03}").job_id for i in range(250)}
    listed = [j.job_id for j in w.jobs.list()]
    assert len(listed) == 250
    assert set(listed) == ids
    page = list(w.jobs.list(name="BULK-007"))
    assert [j.settings.name for j in page] == ["bulk-007"]


def test_get_pages_more_than_100_tasks(w):
    tasks = [notebook_task(f"t{i:03}") for i in range(150)]
    created = w.jobs.create(name="wide", tasks=tasks)
    job = w.jobs.get(created.job_id)
    assert [t.task_key for t in job.settings.tasks] == [f"t{i:03}" for i in range(150)]


def test_list_expand_tasks_fetches_the_rest(w):
    w.jobs.create(name="wide", tasks=[notebook_task(f"t{i:03}") for i in range(120)])
    w.jobs.create(name="narrow", tasks=[notebook_task("only")])
    listed = {j.settings.name: j for j in w.jobs.list(expand_tasks=True)}
    assert len(listed["wide"].settings.tasks) == 120
    assert [t.task_key for t in listed["narrow"].settings.tasks] == ["only"]
    plain = {j.settings.name: j for j in w.jobs.list()}
    assert not plain["wide"].settings.tasks  # tasks only with expand_tasks


def test_update_merges_tasks_and_removes_fields(w):
    created = w.jobs.create(name="merge", tasks=[notebook_task("a"), notebook_task("b")],
                            tags={"team": "data"})
    w.jobs.update(
        created.job_id,
        new_settings=jobs.JobSettings(
            name="merged",
            tasks=[jobs.Task(task_key="b", notebook_task=jobs.NotebookTask(notebook_path="/Shared/b"),
                             existing_cluster_id="1128-000001-c0000001"),
                   notebook_task("c")],
        ),
        fields_to_remove=["tags", "tasks/a"],
    )
    s = w.jobs.get(created.job_id).settings
    assert s.name == "merged"
    assert s.tags is None
    assert [t.task_key for t in s.tasks] == ["b", "c"]
    assert s.tasks[0].notebook_task.notebook_path == "/Shared/b"


def test_reset_replaces_settings(w):
    created = w.jobs.create(name="before", max_concurrent_runs=5, tags={"a": "b"})
    w.jobs.reset(created.job_id, new_settings=jobs.JobSettings(name="after"))
    s = w.jobs.get(created.job_id).settings
    assert s.name == "after"
    assert s.max_concurrent_runs == 1
    assert s.tags is None


def test_delete_then_get_is_not_found(w):
    created = w.jobs.create(name=unique("gone"))
    w.jobs.delete(created.job_id)
    with pytest.raises(NotFound):
        w.jobs.get(created.job_id)
    assert list(w.jobs.list()) == []


def test_invalid_parameters(w):
    with pytest.raises(InvalidParameterValue):
        w.jobs.create(name="dup", tasks=[notebook_task("a"), notebook_task("a")])
    with pytest.raises(InvalidParameterValue):
        next(iter(w.jobs.list(limit=500)))


def test_other_users_cannot_see_a_job(w, alice):
    created = w.jobs.create(name="private")
    with pytest.raises(PermissionDenied):
        alice.jobs.get(created.job_id)
    assert list(alice.jobs.list()) == []


def test_create_with_an_acl_sets_it_in_the_same_call(w):
    w.groups.create(display_name="analysts")
    created = w.jobs.create(name="with-acl", access_control_list=[
        jobs.JobAccessControlRequest(group_name="analysts",
                                     permission_level=jobs.JobPermissionLevel.CAN_MANAGE_RUN)])
    acl = w.jobs.get_permissions(str(created.job_id))
    direct = {
        (e.user_name or e.group_name or e.service_principal_name, p.permission_level.value)
        for e in acl.access_control_list
        for p in e.all_permissions
        if not p.inherited
    }
    # The creator stays the owner when the list names none.
    assert direct == {("admin@example.com", "IS_OWNER"), ("analysts", "CAN_MANAGE_RUN")}

    # An ACL naming nobody the workspace knows fails the create: no job is left.
    with pytest.raises(InvalidParameterValue):
        w.jobs.create(name="ghostly", access_control_list=[
            jobs.JobAccessControlRequest(user_name="ghost@example.com",
                                         permission_level=jobs.JobPermissionLevel.CAN_VIEW)])
    assert [j.settings.name for j in w.jobs.list()] == ["with-acl"]
