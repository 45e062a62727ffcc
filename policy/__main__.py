"""Entry point the Pulumi CLI runs: `pulumi preview --policy-pack policy`."""

from pulumi_policy import EnforcementLevel, PolicyPack
from rules import policies

PolicyPack(name="login-monitoring", enforcement_level=EnforcementLevel.MANDATORY, policies=policies())
