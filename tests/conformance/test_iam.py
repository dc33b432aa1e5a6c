"""SCIM users, groups and service principals through the SDK."""

import pytest
from databricks.sdk.errors import NotFound, ResourceConflict
from databricks.sdk.service import iam


def test_groups_members_and_paging(w):
    user = w.users.create(user_name="bob@example.com", display_name="Bob")
    sp = w.service_principals.create(display_name="deployer")
    group = w.groups.create(display_name="data-eng", members=[iam.ComplexValue(value=user.id)])
    w.groups.patch(group.id, operations=[
        iam.Patch(op=iam.PatchOp.ADD, path="members", value=[{"value": sp.id}]),
    ], schemas=[iam.PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP])
    got = w.groups.get(group.id)
    assert {m.value for m in got.members} == {user.id, sp.id}

    w.groups.patch(group.id, operations=[
        iam.Patch(op=iam.PatchOp.REMOVE, path=f'members[value eq "{user.id}"]'),
    ], schemas=[iam.PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP])
    assert [m.value for m in w.groups.get(group.id).members] == [sp.id]
    assert any(g.display == "data-eng" for g in w.service_principals.get(sp.id).groups)

    for i in range(5):
        w.groups.create(display_name=f"team-{i}")
    names = [g.display_name for g in w.groups.list(count=2)]
    assert len(names) == len(set(names)) == 8  # admins, users, data-eng, team-0..4
    found = list(w.groups.list(filter='displayName eq "team-3"'))
    assert [g.display_name for g in found] == ["team-3"]


def test_duplicate_group_and_missing(w):
    w.groups.create(display_name="dup")
    # SCIM errors are classed by HTTP status: 409 is a conflict.
    with pytest.raises(ResourceConflict):
        w.groups.create(display_name="dup")
    with pytest.raises(NotFound):
        w.groups.get("123456")


def test_user_update_and_delete(w):
    user = w.users.create(user_name="carol@example.com")
    w.users.update(user.id, user_name="carol@example.com", display_name="Carol C")
    assert w.users.get(user.id).display_name == "Carol C"
    w.users.patch(user.id, operations=[
        iam.Patch(op=iam.PatchOp.REPLACE, path="displayName", value="Carol D")])
    assert w.users.get(user.id).display_name == "Carol D"
    assert [u.user_name for u in w.users.list(filter='userName sw "carol"')] == ["carol@example.com"]
    w.users.delete(user.id)
    with pytest.raises(NotFound):
        w.users.get(user.id)


def test_service_principal_update(w):
    sp = w.service_principals.create(display_name="sp-one")
    assert sp.application_id
    w.service_principals.update(sp.id, display_name="sp-renamed", application_id=sp.application_id)
    got = w.service_principals.get(sp.id)
    assert (got.display_name, got.application_id) == ("sp-renamed", sp.application_id)
    w.service_principals.delete(sp.id)
    with pytest.raises(NotFound):
        w.service_principals.get(sp.id)


def test_users_and_service_principals_list_across_pages(w):
    for i in range(5):
        w.users.create(user_name=f"page-user-{i}@example.com")
        w.service_principals.create(display_name=f"page-sp-{i}")
    users = [u.user_name for u in w.users.list(count=2, filter='userName sw "page-user"')]
    assert sorted(users) == [f"page-user-{i}@example.com" for i in range(5)]
    sps = [s.display_name for s in w.service_principals.list(count=2)]
    assert sorted(n for n in sps if n.startswith("page-sp")) == [f"page-sp-{i}" for i in range(5)]
    ordered = [u.user_name for u in w.users.list(sort_by="userName",
                                                 sort_order=iam.ListSortOrder.DESCENDING,
                                                 filter='userName sw "page-user"')]
    assert ordered == sorted(ordered, reverse=True)
