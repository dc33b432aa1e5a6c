"""Secret scopes, secrets and ACLs through the SDK."""

import base64

import pytest
from databricks.sdk.errors import InvalidParameterValue, NotFound, PermissionDenied, ResourceAlreadyExists
from databricks.sdk.service import workspace

from conftest import USER_NAME


def test_scopes_secrets_and_acls(w, alice):
    w.secrets.create_scope("app")
    with pytest.raises(ResourceAlreadyExists):
        w.secrets.create_scope("app")
    assert [s.name for s in w.secrets.list_scopes()] == ["app"]

    w.secrets.put_secret("app", "db-password", string_value="hunter2")
    w.secrets.put_secret("app", "cert", bytes_value=base64.b64encode(b"\x00\x01").decode())
    keys = sorted(s.key for s in w.secrets.list_secrets("app"))
    assert keys == ["cert", "db-password"]
    value = w.secrets.get_secret("app", "db-password").value
    assert base64.b64decode(value) == b"hunter2"

    with pytest.raises(PermissionDenied):
        alice.secrets.get_secret("app", "db-password")
    w.secrets.put_acl("app", USER_NAME, workspace.AclPermission.READ)
    assert base64.b64decode(alice.secrets.get_secret("app", "db-password").value) == b"hunter2"
    with pytest.raises(PermissionDenied):
        alice.secrets.put_secret("app", "x", string_value="y")
    acls = {(a.principal, a.permission.value) for a in w.secrets.list_acls("app")}
    assert acls == {("admin@example.com", "MANAGE"), (USER_NAME, "READ")}
    assert w.secrets.get_acl("app", USER_NAME).permission == workspace.AclPermission.READ
    w.secrets.delete_acl("app", USER_NAME)
    with pytest.raises(NotFound):
        w.secrets.get_acl("app", USER_NAME)

    w.secrets.delete_secret("app", "cert")
    with pytest.raises(NotFound):
        w.secrets.delete_secret("app", "cert")
    w.secrets.delete_scope("app")
    with pytest.raises(NotFound):
        list(w.secrets.list_secrets("app"))


def test_secret_validation(w):
    with pytest.raises(InvalidParameterValue):
        w.secrets.create_scope("bad scope!")
    w.secrets.create_scope("v")
    with pytest.raises(InvalidParameterValue):
        w.secrets.put_secret("v", "k")
