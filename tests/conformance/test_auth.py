"""Authentication through the SDK's own credential providers: PAT, OAuth M2M
(DATABRICKS_CLIENT_ID/SECRET) and token federation
(DATABRICKS_OIDC_TOKEN_FILEPATH), plus rejection of bad credentials."""

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import PermissionDenied, Unauthenticated

from conftest import (
    FED_CLIENT_ID, M2M_CLIENT_ID, M2M_SECRET, USER_NAME, client,
)

SDK_ENV = [
    "DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET",
    "DATABRICKS_OIDC_TOKEN_FILEPATH", "DATABRICKS_AUTH_TYPE", "DATABRICKS_CONFIG_PROFILE",
]


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in SDK_ENV:
        monkeypatch.delenv(name, raising=False)
    # No ~/.databrickscfg profile may leak in.
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "absent.cfg"))
    return monkeypatch


def test_pat_identifies_the_admin(w):
    me = w.current_user.me()
    assert me.user_name == "admin@example.com"
    assert any(g.display == "admins" for g in me.groups)


def test_printed_token_is_accepted(emulator):
    assert emulator.tokens == ["dapi-conformance-admin"]
    assert client(emulator, token=emulator.tokens[0]).current_user.me().user_name


def test_missing_or_wrong_token_is_401(emulator):
    response = requests.get(f"{emulator.base_url}/api/2.2/jobs/list", timeout=5)
    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHENTICATED"
    with pytest.raises(Unauthenticated):
        client(emulator, token="dapi-wrong").jobs.list().__next__()


def test_oauth_m2m_through_env(emulator, clean_env):
    clean_env.setenv("DATABRICKS_HOST", emulator.base_url)
    clean_env.setenv("DATABRICKS_CLIENT_ID", M2M_CLIENT_ID)
    clean_env.setenv("DATABRICKS_CLIENT_SECRET", M2M_SECRET)
    w = WorkspaceClient()
    assert w.config.auth_type == "oauth-m2m"
    me = w.current_user.me()
    assert me.user_name == M2M_CLIENT_ID
    created = w.jobs.create(name="made-by-m2m")
    assert w.jobs.get(created.job_id).creator_user_name == M2M_CLIENT_ID


def test_oauth_m2m_wrong_secret_fails(emulator, clean_env):
    clean_env.setenv("DATABRICKS_HOST", emulator.base_url)
    clean_env.setenv("DATABRICKS_CLIENT_ID", M2M_CLIENT_ID)
    clean_env.setenv("DATABRICKS_CLIENT_SECRET", "not-the-secret")
    w = WorkspaceClient()
    with pytest.raises(Exception) as info:
        w.current_user.me()
    assert "invalid_client" in str(info.value)


def federated_client(emulator, clean_env, tmp_path, jwt: str) -> WorkspaceClient:
    token_file = tmp_path / "oidc-token"
    token_file.write_text(jwt)
    clean_env.setenv("DATABRICKS_HOST", emulator.base_url)
    clean_env.setenv("DATABRICKS_CLIENT_ID", FED_CLIENT_ID)
    clean_env.setenv("DATABRICKS_OIDC_TOKEN_FILEPATH", str(token_file))
    # client_id alone would also select oauth-m2m; name the provider.
    clean_env.setenv("DATABRICKS_AUTH_TYPE", "file-oidc")
    return WorkspaceClient()


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_token_federation_through_file(emulator, clean_env, tmp_path, alg):
    w = federated_client(emulator, clean_env, tmp_path, emulator.jwt(alg=alg))
    assert w.config.auth_type == "file-oidc"
    assert w.current_user.me().user_name == FED_CLIENT_ID
    job = w.jobs.create(name="made-by-federation")
    assert w.jobs.get(job.job_id).creator_user_name == FED_CLIENT_ID


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "someone-else"},
        {"sub": "repo:evil/app"},
        {"iss": "https://other.example"},
        {"exp": 1_000_000},
    ],
    ids=["audience", "subject", "issuer", "expired"],
)
def test_token_federation_rejects_bad_claims(emulator, clean_env, tmp_path, overrides):
    w = federated_client(emulator, clean_env, tmp_path, emulator.jwt(**overrides))
    with pytest.raises(Exception) as info:
        w.current_user.me()
    assert "invalid_grant" in str(info.value)


def test_token_federation_rejects_foreign_signature(emulator, clean_env, tmp_path):
    good = emulator.jwt()
    header, payload, _ = good.split(".")
    forged = emulator.jwt(sub="repo:other/app").split(".")[2]
    w = federated_client(emulator, clean_env, tmp_path, f"{header}.{payload}.{forged}")
    with pytest.raises(Exception) as info:
        w.current_user.me()
    assert "invalid_grant" in str(info.value)


def test_non_admin_is_denied_admin_apis(alice):
    assert alice.current_user.me().user_name == USER_NAME
    with pytest.raises(PermissionDenied):
        list(alice.token_management.list())


def test_account_wide_federation_maps_subject_to_user(emulator, clean_env, tmp_path):
    token_file = tmp_path / "oidc-token"
    token_file.write_text(emulator.jwt(sub=USER_NAME))
    clean_env.setenv("DATABRICKS_HOST", emulator.base_url)
    clean_env.setenv("DATABRICKS_OIDC_TOKEN_FILEPATH", str(token_file))
    w = WorkspaceClient()
    assert w.config.auth_type == "file-oidc"
    assert w.current_user.me().user_name == USER_NAME
    with pytest.raises(PermissionDenied):
        list(w.token_management.list())
