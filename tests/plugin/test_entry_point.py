"""The provider started as the Pulumi CLI's Python host starts it: `python plugin/ <engine address>` from the
consumer's working directory, printing its port and serving the schema over gRPC."""

from __future__ import annotations

import json
import subprocess
import sys

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from plugin.provider import ROOT, package_schema


def test_the_host_started_plugin_prints_its_port_and_serves_the_schema(tmp_path):
    # The host runs the folder that holds PulumiPlugin.yaml, whatever else the file says.
    (project,) = [path for path in (ROOT / "PulumiPlugin.yaml", *ROOT.glob("*/PulumiPlugin.yaml")) if path.is_file()]
    process = subprocess.Popen(
        [sys.executable, str(project.parent), "127.0.0.1:1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        if not line.strip().isdigit():
            process.wait(timeout=30)
            pytest.fail(f"{project.parent.name}/ printed {line!r}, not a port: {process.stderr.read()[-2000:]}")
        with grpc.insecure_channel(f"127.0.0.1:{line.strip()}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            response = stub.GetSchema(provider_pb2.GetSchemaRequest(), timeout=10)
        assert json.loads(response.schema) == package_schema()
    finally:
        process.kill()
        process.wait()
