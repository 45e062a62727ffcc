"""A fake Pulumi engine: runs the real program in-process and records what it registers.

Used by the offline plan and by the tests. Resource outputs are filled the way AWS
would fill them (names, ARNs, URLs) so policies and wiring can be inspected; every value
so invented is remembered with the resource and attribute it stands for, so the plan can
show it as computed rather than as a name AWS would never pick.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import os
import pickle
import runpy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import rpc, settings
from pulumi.runtime.proto import source_pb2

from components.settings import SettingsError
from offline.stack_config import PROJECT_DIR, StackConfig

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
# Where the AWS provider looks for its Region, in its order (pulumi-aws checks these before it configures).
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
OFFLINE_ORGANIZATION_ID = "o-offlineplan0"


@dataclass(frozen=True)
class Organization:
    id: str
    management_account_id: str


@dataclass(frozen=True)
class ResourceRecord:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    state: dict[str, Any]
    dependencies: tuple[str, ...]
    # `retainOnDelete`: `pulumi destroy` forgets the resource and leaves it in AWS.
    retain_on_delete: bool = False
    # The explicit provider's "<urn>::<id>", when the resource has one (another Region, say).
    provider: str = ""


@dataclass
class ProgramRun:
    project: str
    stack: str
    account_id: str
    region: str
    resources: list[ResourceRecord] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    # Invented value -> what it stands for ("<logical name>.<attribute>").
    computed: dict[str, str] = field(default_factory=dict)
    # What the program logged as warnings, as `pulumi preview` would show them.
    warnings: list[str] = field(default_factory=list)
    # The provider functions the program called (aws:index/getCallerIdentity:getCallerIdentity, ...).
    invokes: list[str] = field(default_factory=list)

    def of_type(self, type_token: str) -> list[ResourceRecord]:
        return [resource for resource in self.resources if resource.type == type_token]

    def one(self, type_token: str) -> ResourceRecord:
        found = self.of_type(type_token)
        if len(found) != 1:
            raise AssertionError(f"expected one {type_token}, found {len(found)}")
        return found[0]

    def by_urn(self, urn: str) -> ResourceRecord:
        return next(resource for resource in self.resources if resource.urn == urn)

    def children(self, parent: ResourceRecord) -> list[ResourceRecord]:
        return [resource for resource in self.resources if resource.parent == parent.urn]


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


class AwsLikeMocks(pulumi.runtime.Mocks):
    """Fills computed outputs the way AWS names things, so ARNs in policies read true."""

    def __init__(
        self,
        account_id: str,
        region: str,
        stack_outputs: dict[str, dict] | None = None,
        organization: Organization | None = None,
    ) -> None:
        self.account_id = account_id
        self.region = region
        # What AWS Organizations answers; by default an organization this account manages.
        self.organization = organization or Organization(OFFLINE_ORGANIZATION_ID, account_id)
        self.partition = partition_of(region)
        # Outputs of the stacks a program references, by stack name (or its last path segment).
        self.stack_outputs = stack_outputs or {}
        self.computed: dict[str, str] = {}
        # Explicit AWS providers by name -> their Region.
        self.provider_regions: dict[str, str] = {}
        # The inputs of the registration under way on each thread, as the monitor deserialized them.
        self.registering = threading.local()
        self.invokes: set[str] = set()

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.invokes.add(args.token)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account_id,
                "arn": f"arn:{self.partition}:iam::{self.account_id}:user/offline",
                "userId": "AIDAOFFLINEPLAN",
                "id": self.account_id,
            }
        if args.token == "aws:index/getRegion:getRegion":
            return {
                "name": self.region,
                "region": self.region,
                "id": self.region,
                "description": self.region,
                "endpoint": f"ec2.{self.region}.amazonaws.com",
            }
        if args.token == "aws:index/getPartition:getPartition":
            return {
                "partition": self.partition,
                "dnsSuffix": "amazonaws.com",
                "id": self.partition,
                "reverseDnsPrefix": "com.amazonaws",
            }
        if args.token == "aws:organizations/getOrganization:getOrganization":
            org = self.organization
            return {
                "id": org.id,
                "arn": f"arn:{self.partition}:organizations::{org.management_account_id}:organization/{org.id}",
                "masterAccountId": org.management_account_id,
                "masterAccountArn": (
                    f"arn:{self.partition}:organizations::{org.management_account_id}:account/{org.id}/"
                    f"{org.management_account_id}"
                ),
                "masterAccountEmail": "management@example.com",
                "masterAccountName": "management",
                "featureSet": "ALL",
                "returnOrganizationOnly": True,
            }
        raise NotImplementedError(f"the offline engine has no answer for the invoke {args.token}")

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.registering.inputs = args.inputs
        if args.typ == "pulumi:pulumi:StackReference":
            name = args.inputs.get("name") or args.resource_id or args.name
            outputs = self.stack_outputs.get(name, self.stack_outputs.get(name.rsplit("/", 1)[-1], {}))
            for key, value in outputs.items():
                self._remember(value, f"{name}.outputs.{key}")
                for inner, item in value.items() if isinstance(value, dict) else ():
                    self._remember(item, f"{name}.outputs.{key}.{inner}")
            return name, {"name": name, "outputs": outputs, "secretOutputNames": []}
        state = dict(args.inputs)
        if args.typ == "pulumi:providers:aws":
            # Resources placed with this provider live in its Region, and their ARNs say so.
            self.provider_regions[args.name] = args.inputs.get("region") or self.region
            return args.name, state
        name = args.inputs.get("name") or (
            args.inputs["namePrefix"] + _physical_name(args.name)[-7:]
            if args.inputs.get("namePrefix")
            else _physical_name(args.name)
        )
        arn = self._arn_for(args.typ, name, args.inputs, state, self._region_of(args.provider))
        if arn:
            state.setdefault("arn", arn)
        resource_id = state.pop("_id", None) or name
        for key, value in state.items():
            if value != args.inputs.get(key):
                self._remember(value, f"{args.name}.{key}")
        if resource_id not in args.inputs.values():
            self._remember(resource_id, f"{args.name}.id")
        return resource_id, state

    def _remember(self, value: Any, meaning: str) -> None:
        if isinstance(value, str) and value and value not in self.computed:
            self.computed[value] = meaning

    def _region_of(self, provider_reference: str | None) -> str:
        # A provider reference is "<urn>::<id>"; the URN ends with the provider's name.
        if provider_reference:
            urn = provider_reference.rsplit("::", 1)[0]
            return self.provider_regions.get(urn.rsplit("::", 1)[-1], self.region)
        return self.region

    def _arn_for(self, typ: str, name: str, inputs: dict, state: dict, region: str) -> str | None:
        p, r, a = self.partition, region, self.account_id
        if typ == "aws:s3/bucket:Bucket":
            bucket = inputs.get("bucket") or name.lower()
            state.update(bucket=bucket, _id=bucket)
            return f"arn:{p}:s3:::{bucket}"
        if typ == "aws:sns/topic:Topic":
            state["name"] = name
            return f"arn:{p}:sns:{r}:{a}:{name}"
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            state["name"] = name
            return f"arn:{p}:logs:{r}:{a}:log-group:{name}"
        if typ == "aws:iam/role:Role":
            state.update(name=name, uniqueId="AROAOFFLINE" + name.upper()[:10])
            return f"arn:{p}:iam::{a}:role/{name}"
        if typ == "aws:dynamodb/table:Table":
            state["name"] = name
            return f"arn:{p}:dynamodb:{r}:{a}:table/{name}"
        if typ == "aws:sqs/queue:Queue":
            url = f"https://sqs.{r}.amazonaws.com/{a}/{name}"
            state.update(name=name, url=url, _id=url)
            return f"arn:{p}:sqs:{r}:{a}:{name}"
        if typ == "aws:lambda/function:Function":
            state["name"] = name
            return f"arn:{p}:lambda:{r}:{a}:function:{name}"
        if typ == "aws:kms/key:Key":
            key_id = _uuid_like(name)
            state.update(keyId=key_id, _id=key_id)
            return f"arn:{p}:kms:{r}:{a}:key/{key_id}"
        if typ == "aws:cloudtrail/trail:Trail":
            # An organization trail belongs to the management account, whoever creates it.
            owner = self.organization.management_account_id if inputs.get("isOrganizationTrail") else a
            return f"arn:{p}:cloudtrail:{r}:{owner}:trail/{name}"
        if typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            state["name"] = name
            return f"arn:{p}:cloudwatch:{r}:{a}:alarm:{name}"
        if typ == "aws:cloudwatch/compositeAlarm:CompositeAlarm":
            alarm = inputs.get("alarmName") or name
            state["alarmName"] = alarm
            return f"arn:{p}:cloudwatch:{r}:{a}:alarm:{alarm}"
        if typ == "aws:cloudwatch/eventRule:EventRule":
            state["name"] = name
            return f"arn:{p}:events:{r}:{a}:rule/{name}"
        if typ == "aws:oam/sink:Sink":
            return f"arn:{p}:oam:{r}:{a}:sink/{_uuid_like(name)}"
        if typ == "aws:oam/link:Link":
            return f"arn:{p}:oam:{r}:{a}:link/{_uuid_like(name)}"
        if typ == "aws:cloudwatch/dashboard:Dashboard":
            return f"arn:{p}:cloudwatch::{a}:dashboard/{inputs.get('dashboardName', name)}"
        if typ == "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter":
            state["name"] = name
            return None
        if typ == "aws:sns/topicSubscription:TopicSubscription":
            return f"{inputs.get('topic', '')}:{_uuid_like(name)}"
        return None


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Keeps each registration's parent and dependencies, which the mocks alone never see."""

    def __init__(self, mocks: pulumi.runtime.Mocks, records: list[ResourceRecord]) -> None:
        super().__init__(mocks)
        self.records = records

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            registration = self.resources.get(response.urn)
            self.records.append(
                ResourceRecord(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    custom=request.custom,
                    inputs=self._inputs(request),
                    state=dict(registration.state) if registration else {},
                    dependencies=tuple(request.dependencies),
                    retain_on_delete=bool(request.retainOnDelete),
                    provider=request.provider,
                )
            )
        return response

    def _inputs(self, request) -> dict[str, Any]:
        # The mocks saw the same inputs deserialized a moment ago on this thread; deserializing twice is slow.
        registering = getattr(self.mocks, "registering", None)
        inputs = getattr(registering, "inputs", None)
        if registering is not None:
            registering.inputs = None
        return inputs if inputs is not None else rpc.deserialize_properties(request.object)

    def ReadResource(self, request):
        response = super().ReadResource(request)
        self.records.append(
            ResourceRecord(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=True,
                inputs={"name": request.id},
                state={},
                dependencies=(),
            )
        )
        return response


# Finished runs by everything that decides them, pickled; None while runs are not shared (see share_runs).
_shared_runs: dict[str, bytes] | None = None


def share_runs(enabled: bool = True) -> None:
    """Remember every successful run and answer the same run again with a fresh copy of it.

    For a process that runs the same stacks many times over (the test suite): a run depends
    only on the program file, the config, account, Region, the outputs of the stacks it
    reads and the organization, all of which make the key. Each caller gets its own copy,
    so what one caller changes in its run no other caller sees.
    """
    global _shared_runs
    _shared_runs = {} if enabled else None


def run_program(
    config: StackConfig,
    *,
    project_dir: Path = PROJECT_DIR,
    account_id: str | None = None,
    region: str | None = None,
    records: list[ResourceRecord] | None = None,
    stack_outputs: dict[str, dict] | None = None,
    organization: Organization | None = None,
) -> ProgramRun:
    """Run `__main__.py` under the fake engine with the given stack config; raise what the program raises.

    `records`, when given, receives each registration as it happens, so a caller can
    see what was registered even when the program fails. `organization` is what AWS
    Organizations answers; offline it cannot be asked, so by default it is the one the
    stack's config describes.
    """
    region = region or stack_region(config)
    if _shared_runs is None or records is not None:
        return _run_program(config, project_dir, account_id, region, records, stack_outputs, organization)
    key = _run_key(config, project_dir, account_id, region, stack_outputs, organization)
    if key not in _shared_runs:
        run = _run_program(config, project_dir, account_id, region, records, stack_outputs, organization)
        _shared_runs[key] = pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL)
    return pickle.loads(_shared_runs[key])


def run_body(config: StackConfig, body: Callable[[], object], *, region: str | None = None) -> ProgramRun:
    """Run `body` in place of `__main__.py`, under the same fake engine and the stack's config: what a
    component built elsewhere (the package's provider) registers is recorded the way the program's is."""
    region = region or stack_region(config)
    return _run_program(config, PROJECT_DIR, None, region, None, None, None, body)


def _run_key(
    config: StackConfig,
    project_dir: Path,
    account_id: str | None,
    region: str,
    stack_outputs: dict[str, dict] | None,
    organization: Organization | None,
) -> str:
    program = hashlib.sha256((project_dir / "__main__.py").read_bytes()).hexdigest()
    parts = [
        program,
        config.project,
        config.stack,
        config.values,
        account_id,
        region,
        stack_outputs or {},
        organization and [organization.id, organization.management_account_id],
        # The program reads the config the CLI passes in the environment as well as the one set in-process.
        os.environ.get("PULUMI_CONFIG"),
    ]
    return json.dumps(parts, sort_keys=True, default=repr)


def _run_program(
    config: StackConfig,
    project_dir: Path,
    account_id: str | None,
    region: str,
    records: list[ResourceRecord] | None,
    stack_outputs: dict[str, dict] | None,
    organization: Organization | None,
    body: Callable[[], object] | None = None,
) -> ProgramRun:
    account_id = account_id or _first_allowed_account(config) or DEFAULT_ACCOUNT_ID
    mocks = AwsLikeMocks(
        account_id, region, stack_outputs, organization or _configured_organization(config, account_id)
    )
    monitor = RecordingMonitor(mocks, records if records is not None else [])

    run = ProgramRun(project=config.project, stack=config.stack, account_id=account_id, region=region)
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        mocks, project=config.project, stack=config.stack, preview=False, monitor=monitor, logger=_collector(run)
    )
    pulumi.runtime.set_all_config(dict(config.values), [])

    def program():
        if body is None:
            runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")
        else:
            body()
        stack = settings.get_root_resource()
        return pulumi.Output.from_input(dict(stack.outputs)).apply(run.outputs.update)

    with _collected_once():
        try:
            with _no_source_positions():
                pulumi.runtime.test(program)()
        except Exception as error:
            _already_reported(error)
            raise
    # Registration order follows whichever output resolved first; name order is the same every run.
    run.resources = sorted(
        (replace(record, dependencies=tuple(sorted(set(record.dependencies)))) for record in monitor.records),
        key=lambda record: (record.name, record.type, record.urn),
    )
    run.computed = dict(mocks.computed)
    run.invokes = sorted(mocks.invokes)
    return run


def stack_region(config: StackConfig) -> str:
    """The Region the provider would deploy to: the stack's aws:region, else the environment's. Without
    either `pulumi preview` stops, so the plan does too, rather than plan for a Region nobody chose."""
    region = config.get("aws:region") or next(filter(None, map(os.environ.get, REGION_VARIABLES)), None)
    if not region:
        raise SettingsError(
            [("aws:region", "is not set: run `pulumi config set aws:region <region>` (or set AWS_REGION)")]
        )
    return region


@contextlib.contextmanager
def _collected_once():
    """A run leaves tens of thousands of reference cycles (futures, outputs, their callbacks). Collected as they
    come, they set off full collections over everything alive, slower with every plan already kept: a third
    of planning fifty stacks. So the collector waits, and then looks once at what the run made, still young."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


@contextlib.contextmanager
def _no_source_positions():
    """The SDK walks the whole call stack of every registration to tell the engine where in the program it
    was made. Nothing offline shows that, and it costs a twentieth of a run, so the walk is skipped meanwhile."""
    walk = getattr(pulumi_resource, "_get_stack_trace", None)
    if walk is None:
        yield
        return
    pulumi_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        pulumi_resource._get_stack_trace = walk


class _DropReportedFailures(logging.Filter):
    """A failed program leaves hundreds of outputs holding its one error; when they are collected,
    asyncio logs "Future exception was never retrieved" for each. The caller already has that
    error, so those records say nothing new."""

    def __init__(self) -> None:
        super().__init__()
        self.reported: set[tuple[type, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return error is None or (type(error), str(error)) not in self.reported


_REPORTED = _DropReportedFailures()
logging.getLogger("asyncio").addFilter(_REPORTED)


def _already_reported(error: Exception) -> None:
    _REPORTED.reported.add((type(error), str(error)))


def _collector(run: ProgramRun) -> logging.Logger:
    """A logger that keeps the program's warnings with its run instead of printing them anywhere."""
    logger = logging.getLogger(f"{__name__}.{run.project}.{run.stack}")
    logger.propagate = False
    logger.handlers.clear()

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                run.warnings.append(record.getMessage())

    logger.addHandler(Keep())
    logger.setLevel(logging.WARNING)
    return logger


def _configured_organization(config: StackConfig, account_id: str) -> Organization:
    return Organization(
        config.get(f"{config.project}:organizationId") or OFFLINE_ORGANIZATION_ID,
        config.get(f"{config.project}:managementAccountId") or account_id,
    )


def _first_allowed_account(config: StackConfig) -> str | None:
    raw = config.get("aws:allowedAccountIds")
    if not raw:
        return None
    try:
        accounts = json.loads(raw)
    except ValueError:
        return None
    return str(accounts[0]) if accounts else None


def _physical_name(logical: str) -> str:
    # Pulumi auto-names resources "<logical name>-<7 random characters>"; keep it deterministic here.
    return f"{logical}-{hashlib.sha256(logical.encode()).hexdigest()[:7]}"


def _uuid_like(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
