"""Throttling and faults as the SDK sees them: 429 with Retry-After is
retried and succeeds; rate limits answer 429 with an integer Retry-After."""

import time

import requests

from conftest import ADMIN_TOKEN


def test_sdk_retries_injected_429_burst(w, emulator):
    job = w.jobs.create(name="throttled")
    emulator.admin("POST", "throttle", {"count": 2, "retry_after_secs": 1, "path_prefix": "/api/2.2/jobs/get"})
    started = time.monotonic()
    assert w.jobs.get(job.job_id).settings.name == "throttled"
    assert time.monotonic() - started >= 2  # slept Retry-After twice
    assert emulator.admin("POST", "throttle", {"count": 0})["pending"] == 0


def test_rate_limit_answers_429_with_retry_after(emulator):
    emulator.admin("PUT", "rate-limit", {"rps": 2})
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    statuses = [
        requests.get(f"{emulator.base_url}/api/2.2/jobs/list", headers=headers, timeout=5)
        for _ in range(6)
    ]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    assert limited[0].json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert int(limited[0].headers["Retry-After"]) >= 1


def test_sdk_survives_injected_503s(w, emulator):
    emulator.admin("PUT", "faults", {"fault_rate": 0.5, "kinds": ["error_503"], "seed": 3})
    names = {w.jobs.create(name=f"f{i}").job_id for i in range(4)}
    emulator.admin("PUT", "faults", {"fault_rate": 0.0})
    assert {j.job_id for j in w.jobs.list()} == names


def test_sdk_survives_dropped_connections(w, emulator):
    emulator.admin("PUT", "faults", {"fault_rate": 0.3, "kinds": ["drop"], "seed": 11})
    ids = {w.jobs.create(name=f"d{i}").job_id for i in range(5)}
    emulator.admin("PUT", "faults", {"fault_rate": 0.0})
    # A dropped request never reached a handler: no duplicates.
    assert {j.job_id for j in w.jobs.list()} == ids
