"""Starts `mortar emulator` once per session and hands tests an SDK client.

The emulator binary comes from MORTAR_BIN (set by scripts/test). Keys for
token federation are generated here; their public halves go into the
emulator's config file as inline JWKS, and `sign_jwt` mints subject tokens.
"""

import base64
import json
import os
import subprocess
import time
import uuid

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from databricks.sdk import WorkspaceClient

ADMIN_TOKEN = "dapi-conformance-admin"
USER_TOKEN = "dapi-conformance-alice"
USER_NAME = "alice@example.com"
M2M_CLIENT_ID = "11111111-2222-4333-8444-555555555555"
M2M_SECRET = "m2m-secret-value"
FED_CLIENT_ID = "99999999-8888-4777-8666-555555555555"
ISSUER = "https://idp.conformance.example"
AUDIENCE = "mortar-conformance"
SUBJECT = "repo:acme/app:ref:refs/heads/main"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(n: int, length: int = 0) -> bytes:
    length = length or (n.bit_length() + 7) // 8
    return n.to_bytes(length, "big")


class Keys:
    """An RSA and an EC P-256 signing key with their JWKS."""

    def __init__(self):
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())

    def jwks(self) -> dict:
        rn = self.rsa.public_key().public_numbers()
        en = self.ec.public_key().public_numbers()
        return {
            "keys": [
                {"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256",
                 "n": b64url(int_bytes(rn.n)), "e": b64url(int_bytes(rn.e))},
                {"kty": "EC", "kid": "ec-1", "use": "sig", "alg": "ES256", "crv": "P-256",
                 "x": b64url(int_bytes(en.x, 32)), "y": b64url(int_bytes(en.y, 32))},
            ]
        }

    def sign(self, claims: dict, alg: str = "RS256") -> str:
        header = {"alg": alg, "typ": "JWT", "kid": "rsa-1" if alg == "RS256" else "ec-1"}
        signing_input = (
            b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        ).encode()
        if alg == "RS256":
            signature = self.rsa.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        else:
            der = self.ec.sign(signing_input, ec.ECDSA(hashes.SHA256()))
            r, s = decode_dss_signature(der)
            signature = int_bytes(r, 32) + int_bytes(s, 32)
        return signing_input.decode() + "." + b64url(signature)


class Emulator:
    def __init__(self, process, base_url, tokens, keys):
        self.process = process
        self.base_url = base_url
        self.tokens = tokens
        self.keys = keys

    def admin(self, method: str, path: str, body=None):
        response = requests.request(
            method,
            f"{self.base_url}/_emulator/{path}",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            json=body,
            timeout=10,
        )
        response.raise_for_status()
        return response.json()

    def jwt(self, alg="RS256", **overrides) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": SUBJECT, "iat": now, "exp": now + 600}
        claims.update(overrides)
        return self.keys.sign(claims, alg)


def write_config(path, keys: Keys):
    config = {
        "users": [{"user_name": USER_NAME, "token": USER_TOKEN, "admin": False}],
        "oauth_clients": [
            {"client_id": M2M_CLIENT_ID, "client_secret": M2M_SECRET,
             "service_principal": "conformance-m2m", "admin": True},
        ],
        "federation_policies": [
            {"issuer": ISSUER, "audiences": [AUDIENCE], "subject": SUBJECT,
             "jwks": json.dumps(keys.jwks()), "service_principal": FED_CLIENT_ID},
            # Account-wide federation: the subject names a user.
            {"issuer": ISSUER, "audiences": [AUDIENCE], "jwks": keys.jwks()},
        ],
        "transition_ms": 200,
    }
    # JSON is valid YAML.
    path.write_text(json.dumps(config))


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    binary = os.environ.get("MORTAR_BIN")
    if not binary:
        pytest.fail(
            "MORTAR_BIN is not set: the conformance suite needs the mortar binary "
            "(run scripts/test, which builds it and sets MORTAR_BIN)",
            pytrace=False,
        )
    keys = Keys()
    config = tmp_path_factory.mktemp("emulator") / "config.yaml"
    write_config(config, keys)
    process = subprocess.Popen(
        [binary, "emulator", "--listen", "127.0.0.1:0", "--config", str(config),
         "--token", ADMIN_TOKEN],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base_url, tokens = None, []
    deadline = time.time() + 30
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        line = line.strip()
        if line.startswith("base_url="):
            base_url = line.split("=", 1)[1]
        elif line.startswith("token="):
            tokens.append(line.split("=", 1)[1])
        elif line == "ready":
            break
    if not base_url:
        process.kill()
        pytest.fail("mortar emulator did not print base_url=", pytrace=False)
    yield Emulator(process, base_url, tokens, keys)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(autouse=True)
def clean_state(emulator):
    emulator.admin("POST", "reset")
    emulator.admin("PUT", "faults", {"fault_rate": 0.0, "latency_ms": 0})
    emulator.admin("PUT", "rate-limit", {"rps": None})
    yield


def client(emulator, token=ADMIN_TOKEN, **kwargs) -> WorkspaceClient:
    return WorkspaceClient(host=emulator.base_url, token=token, **kwargs)


@pytest.fixture
def w(emulator) -> WorkspaceClient:
    return client(emulator)


@pytest.fixture
def alice(emulator) -> WorkspaceClient:
    return client(emulator, token=USER_TOKEN)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
