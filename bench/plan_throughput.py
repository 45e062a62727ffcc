"""Offline plan of a hub and 50 generated member stacks; prints stacks/s (goal: 50 members in under 30 s).

python -m bench.plan_throughput [--members 50]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import yaml

from offline.plan import plan_all
from offline.stack_config import PROJECT_DIR, read_yaml

REGIONS = ("us-east-1", "eu-west-1", "ap-northeast-1", "us-west-2")


def write_project(folder: Path, members: int) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, folder / name)
    # The example hub, serving every Region a member below runs in: a member elsewhere is refused.
    hub = read_yaml(PROJECT_DIR / "examples" / "Pulumi.hub.yaml")
    hub_region = hub["config"]["aws:region"]
    hub["config"]["login-monitoring:memberRegions"] = sorted({r for r in REGIONS[:members] if r != hub_region})
    (folder / "Pulumi.hub.yaml").write_text(yaml.safe_dump(hub))
    for index in range(members):
        account = f"{100000000000 + index}"
        config = {
            "aws:region": REGIONS[index % len(REGIONS)],
            "aws:allowedAccountIds": [account],
            "aws:assumeRoles": [{"roleArn": f"arn:aws:iam::{account}:role/LoginMonitoringDeploy"}],
            "login-monitoring:hubStack": "acme/login-monitoring/hub",
            "login-monitoring:alertEmails": [f"team-{index}@example.com"],
        }
        if index % 3 == 0:
            config["login-monitoring:trailMode"] = "existing"
            config["login-monitoring:existingLogGroupName"] = f"aws-cloudtrail-logs-{account}"
        (folder / f"Pulumi.member-{index:03d}.yaml").write_text(yaml.safe_dump({"config": config}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=50)
    members = parser.parse_args(argv).members
    with tempfile.TemporaryDirectory() as folder:
        write_project(Path(folder), members)
        started = time.perf_counter()
        plans = plan_all(Path(folder))
        seconds = time.perf_counter() - started
    failed = [p.stack for p in plans if p.error]
    resources = sum(sum(1 for r in p.run.resources if r.custom) for p in plans if p.run)
    print(
        f"planned {len(plans)} stacks (1 hub + {members} members, {resources:,} resources) in {seconds:.1f} s: "
        f"{len(plans) / seconds:.2f} stacks/s; failed: {failed or 'none'}"
    )
    print(f"goal: {members} members in under 30 s -> {'met' if seconds < 30 and not failed else 'NOT met'}")


if __name__ == "__main__":
    main()
