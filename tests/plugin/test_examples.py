"""The example programs that add the package: every input they set and output they read is the schema's,
of the schema's type, and the settings they choose pass the component's own checks."""

from __future__ import annotations

import ast
import json
import re

import pytest
import yaml

from components.settings import settings_from_inputs
from plugin.provider import PACKAGE_NAME, ROOT, LoginMonitoringProvider

EXAMPLES = ROOT / "examples"
TOKEN = f"{PACKAGE_NAME}:index:LoginMonitoring"
COMPUTED = object()  # a value the example computes (a secret from config, say) rather than writes out


@pytest.fixture(scope="module")
def resource() -> dict:
    return json.loads(LoginMonitoringProvider().schema)["resources"][TOKEN]


def snake(name: str) -> str:
    return re.sub(r"[A-Z]", lambda upper: "_" + upper.group().lower(), name)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def kind(value: object) -> str:
    """The schema type of a literal; "expression" for anything computed."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return "expression" if value is COMPUTED else {str: "string", list: "array", dict: "object"}[type(value)]


def check(inputs: dict[str, object], outputs: set[str], resource: dict) -> None:
    schema_inputs, schema_outputs = resource["inputProperties"], resource["properties"]
    assert inputs and outputs
    assert set(inputs) <= set(schema_inputs), sorted(set(inputs) - set(schema_inputs))
    assert outputs <= set(schema_outputs), sorted(outputs - set(schema_outputs))
    literals = {}
    for name, value in inputs.items():
        prop = schema_inputs[name]
        if kind(value) == "expression":
            # Only an input that takes an Output may be given one.
            assert prop.get("plain") is None, name
            continue
        assert kind(value) == prop["type"], (name, value)
        if isinstance(value, list):
            assert all(kind(item) == prop["items"]["type"] for item in value), name
        literals[snake(name)] = value
    settings_from_inputs(literals)


def _ts_value(text: str) -> object:
    text = text.strip()
    if text.startswith("{"):
        # An object literal of string keys and values: { team: "security" }.
        return {key: value for key, value in re.findall(r'(\w+)\s*:\s*"([^"]*)"', text)}
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return COMPUTED


def test_typescript_example(resource):
    source = (EXAMPLES / "typescript" / "index.ts").read_text(encoding="utf-8")
    call = re.search(r'new loginmonitoring\.LoginMonitoring\("[^"]+",\s*\{(.*?)\n\}\);', source, re.S)
    assert call, "index.ts creates no loginmonitoring.LoginMonitoring"
    body = "\n".join(line for line in call.group(1).splitlines() if not line.strip().startswith("//"))
    inputs = {key: _ts_value(value) for key, value in re.findall(r"^\s*(\w+):\s*(.+?),\s*$", body, re.M)}
    outputs = set(re.findall(r"\bmonitoring\.(\w+)", source))
    check(inputs, outputs, resource)
    assert 'from "@pulumi/loginmonitoring"' in source
    package = json.loads((EXAMPLES / "typescript" / "package.json").read_text(encoding="utf-8"))
    assert package["dependencies"]["@pulumi/loginmonitoring"] == "file:sdks/loginmonitoring"


def test_yaml_example(resource):
    program = yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert program["runtime"] == "yaml" and PACKAGE_NAME in program["packages"]
    (monitoring,) = [
        (name, spec) for name, spec in program["resources"].items() if spec["type"] == f"{PACKAGE_NAME}:LoginMonitoring"
    ]
    name, spec = monitoring
    outputs = {match for value in program["outputs"].values() for match in re.findall(rf"\${{{name}\.(\w+)}}", value)}
    check(spec["properties"], outputs, resource)


def test_python_consumer_example(resource):
    tree = ast.parse((EXAMPLES / "python-consumer" / "__main__.py").read_text(encoding="utf-8"))
    (args,) = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "LoginMonitoringArgs"
    ]
    inputs = {}
    for keyword in args.keywords:
        try:
            inputs[camel(keyword.arg)] = ast.literal_eval(keyword.value)
        except ValueError:
            inputs[camel(keyword.arg)] = COMPUTED
    outputs = {
        camel(node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "monitoring"
    }
    check(inputs, outputs, resource)
    requirements = (EXAMPLES / "python-consumer" / "requirements.txt").read_text(encoding="utf-8")
    assert "sdks/loginmonitoring" in requirements
