"""Tokens, token management, on-behalf-of tokens and workspace-conf."""

import pytest
from databricks.sdk.errors import InvalidParameterValue, NotFound

from conftest import client


def test_pat_lifecycle(w, emulator):
    created = w.tokens.create(comment="ci", lifetime_seconds=3600)
    assert created.token_value.startswith("dapi")
    me = client(emulator, token=created.token_value).current_user.me()
    assert me.user_name == "admin@example.com"
    assert [t.comment for t in w.tokens.list()] == ["ci"]
    infos = list(w.token_management.list())
    assert [t.token_id for t in infos] == [created.token_info.token_id]
    assert infos[0].created_by_username == "admin@example.com"
    w.tokens.delete(created.token_info.token_id)
    with pytest.raises(Exception):
        client(emulator, token=created.token_value).current_user.me()
    with pytest.raises(NotFound):
        w.token_management.get(created.token_info.token_id)


def test_on_behalf_of_token(w, emulator):
    sp = w.service_principals.create(display_name="robot")
    obo = w.token_management.create_obo_token(application_id=sp.application_id, comment="robot")
    as_sp = client(emulator, token=obo.token_value)
    assert as_sp.current_user.me().user_name == sp.application_id
    with pytest.raises(NotFound):
        w.token_management.create_obo_token(application_id="00000000-0000-0000-0000-000000000000")


def test_workspace_conf(w):
    assert w.workspace_conf.get_status(keys="enableTokensConfig") == {"enableTokensConfig": "true"}
    w.workspace_conf.set_status({"maxTokenLifetimeDays": "30", "enableIpAccessLists": "true"})
    got = w.workspace_conf.get_status(keys="maxTokenLifetimeDays,enableIpAccessLists")
    assert got == {"maxTokenLifetimeDays": "30", "enableIpAccessLists": "true"}
    with pytest.raises(InvalidParameterValue):
        w.tokens.create(lifetime_seconds=31 * 86400)
    with pytest.raises(InvalidParameterValue):
        w.workspace_conf.set_status({"noSuchKey": "1"})
