"""Every test starts from a fresh fake Pulumi engine and an AWS environment that cannot reach AWS."""

from __future__ import annotations

import functools
import gc
import os

import botocore.loaders
import botocore.session
import pulumi
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.sns.models import Subscription
from pulumi.runtime import settings as pulumi_settings

from offline.engine import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, AwsLikeMocks, share_runs

# Many tests plan the same stack with the same config; the program runs once per session for each, and
# every test gets its own copy of the result.
share_runs()

# moto hands every test a fresh boto3 session, and each new session parses botocore's JSON service models
# and endpoint rules again, a third of the Lambda tests' time. The files are the same for all; so is the loader.
botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)

# moto signs what SNS delivers with a new 2048-bit RSA key for every subscription, a twentieth of a second of
# CPU each, and the Lambda tests subscribe a mailbox in each test; no test reads the signature, so one key
# serves them all.
_signing_key = functools.cache(lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
assert callable(Subscription.private_key)
Subscription.private_key = lambda self: _signing_key()


# Each worker plans the stacks its tests use again and holds about half a gigabyte; past this many, more
# cores would mostly repeat that work.
MAX_WORKERS = 8


def pytest_xdist_auto_num_workers(config):
    # The whole suite (no paths given) is shared out over the machine's cores; a file or a test runs here,
    # where it starts sooner.
    if config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(cores, MAX_WORKERS)


def pytest_collection_finish(session):
    # What is alive once the tests are collected (modules, botocore's models, the test items) lives for the
    # whole run; frozen, the collector stops walking it again for every test's garbage.
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def fresh_runtime(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": DEFAULT_REGION,
        "AWS_REGION": DEFAULT_REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(AwsLikeMocks(DEFAULT_ACCOUNT_ID, DEFAULT_REGION), preview=False)
    pulumi.runtime.set_all_config({}, [])
    yield
