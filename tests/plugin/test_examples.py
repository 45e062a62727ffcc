"""The example programs that add the package: every input they set and output they read is the schema's,
of the schema's type, and the settings they choose pass the component's own checks."""

from __future__ import annotations

import ast
import json
import re

import pytest
import yaml

from components.hub_connection import HUB_OUTPUTS
from components.settings import settings_from_hub_inputs, settings_from_inputs
from plugin.provider import PACKAGE_NAME, ROOT, LoginMonitoringProvider

EXAMPLES = ROOT / "examples"
TOKEN = f"{PACKAGE_NAME}:index:LoginMonitoring"
HUB_TOKEN = f"{PACKAGE_NAME}:index:LoginMonitoringHub"
COMPUTED = object()  # a value the example computes (a secret from config, say) rather than writes out


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(LoginMonitoringProvider().schema)


@pytest.fixture(scope="module")
def resource(schema) -> dict:
    return schema["resources"][TOKEN]


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


def check(inputs: dict[str, object], outputs: set[str], resource: dict, settings=settings_from_inputs) -> None:
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
    settings(literals)


def _ts_value(text: str) -> object:
    if text.startswith("{"):
        # An object literal of string keys and values: { team: "security" }.
        pairs = [part for part in text.removeprefix("{").removesuffix("}").split(",") if part.strip()]
        read = [re.fullmatch(r'\s*(\w+)\s*:\s*"([^"]*)"\s*', pair) for pair in pairs]
        assert text.endswith("}") and all(read), f"index.ts: cannot read the object {text!r}"
        return dict(match.groups() for match in read)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        # A name or a call (config.getSecret("...")) the program computes; anything else is a typo.
        assert re.fullmatch(r"[A-Za-z_$][\w$.]*(\(.*\))?", text), f"index.ts: cannot read the value {text!r}"
        return COMPUTED


def typescript_inputs(source: str, component: str = "LoginMonitoring") -> dict[str, object]:
    """The args object of index.ts's new LoginMonitoring (or another component), one `name: value` a line; any
    other line but a comment fails, so nothing the program passes goes unchecked."""
    call = re.search(rf'new loginmonitoring\.{component}\("[^"]+",\s*\{{(.*?)\n\}}\);', source, re.S)
    assert call, f"index.ts creates no loginmonitoring.{component}"
    inputs: dict[str, object] = {}
    for line in call.group(1).splitlines():
        text = line.strip()
        if not text or text.startswith("//"):
            continue
        match = re.fullmatch(r"(\w+):\s*(.+?),?", text)
        assert match, f"index.ts: cannot read {text!r}"
        name, value = match.groups()
        assert name not in inputs, f"index.ts: {name} given twice"
        inputs[name] = _ts_value(value)
    return inputs


def sdk_names(schema: dict) -> tuple[str, str]:
    """The npm package and Python module `pulumi package add` generates (Pulumi's codegen naming rules)."""
    namespace = schema.get("namespace")
    npm = f"@{namespace or 'pulumi'}/{schema['name']}"
    python = f"{(namespace or 'pulumi').replace('-', '_')}_{schema['name'].replace('-', '_')}"
    return npm, python


def test_typescript_example(resource, schema):
    source = (EXAMPLES / "typescript" / "index.ts").read_text(encoding="utf-8")
    outputs = set(re.findall(r"\bmonitoring\.(\w+)", source))
    check(typescript_inputs(source), outputs, resource)
    npm, _ = sdk_names(schema)
    assert f'import * as loginmonitoring from "{npm}";' in source
    package = json.loads((EXAMPLES / "typescript" / "package.json").read_text(encoding="utf-8"))
    assert package["dependencies"][npm] == f"file:sdks/{PACKAGE_NAME}"


def test_typescript_hub_example(schema):
    # The hub is a program of its own; members read its stack outputs by the names they have in the program.
    source = (EXAMPLES / "typescript" / "hub" / "index.ts").read_text(encoding="utf-8")
    exports = dict(re.findall(r"^export const (\w+) = hub\.(\w+);$", source, re.M))
    assert all(name == output for name, output in exports.items()), exports
    assert set(HUB_OUTPUTS) <= set(exports)
    outputs = set(re.findall(r"\bhub\.(\w+)", source))
    check(
        typescript_inputs(source, "LoginMonitoringHub"),
        outputs,
        schema["resources"][HUB_TOKEN],
        settings_from_hub_inputs,
    )
    assert 'new loginmonitoring.LoginMonitoringHub("login-monitoring-hub",' in source
    npm, _ = sdk_names(schema)
    assert f'import * as loginmonitoring from "{npm}";' in source
    package = json.loads((EXAMPLES / "typescript" / "hub" / "package.json").read_text(encoding="utf-8"))
    assert package["dependencies"][npm] == f"file:sdks/{PACKAGE_NAME}"
    project = yaml.safe_load((EXAMPLES / "typescript" / "hub" / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert project["runtime"]["name"] == "nodejs"


@pytest.mark.parametrize(
    "body",
    [
        # A misspelled last property, with no comma after it.
        '    alertEmails: ["a@example.com"],\n    alertEmial: ["b@example.com"]',
        # A value that is neither a literal nor a name.
        '    alertEmails: ["a@example.com"],\n    failedSignInThreshold: 10 +',
        # A property spread over lines.
        '    alertEmails: [\n        "a@example.com",\n    ],',
    ],
)
def test_the_typescript_reader_fails_on_what_it_cannot_check(resource, body):
    source = f'new loginmonitoring.LoginMonitoring("login-monitoring", {{\n{body}\n}});\n'
    with pytest.raises(AssertionError):
        check(typescript_inputs(source), {"alertTopicArn"}, resource)


def test_yaml_example(resource):
    program = yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert program["runtime"] == "yaml"
    # The package is the repository's plugin/ folder, where PulumiPlugin.yaml is, at a release tag.
    source = program["packages"][PACKAGE_NAME]
    assert re.fullmatch(r"https://github\.com/[\w-]+/login-monitoring/plugin@v\d+\.\d+\.\d+", source), source
    (monitoring,) = [
        (name, spec) for name, spec in program["resources"].items() if spec["type"] == f"{PACKAGE_NAME}:LoginMonitoring"
    ]
    name, spec = monitoring
    outputs = {match for value in program["outputs"].values() for match in re.findall(rf"\${{{name}\.(\w+)}}", value)}
    check(spec["properties"], outputs, resource)


def test_python_consumer_example(resource, schema):
    source = (EXAMPLES / "python-consumer" / "__main__.py").read_text(encoding="utf-8")
    assert f"import {sdk_names(schema)[1]} as loginmonitoring" in source
    tree = ast.parse(source)
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
