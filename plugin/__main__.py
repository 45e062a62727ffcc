"""The package's entry point (PulumiPlugin.yaml's main): serves LoginMonitoring to the Pulumi engine."""

import sys
from pathlib import Path

# Run as `python plugin/ <engine address>`: the repository root holds the components.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi.provider import main

from plugin.provider import LoginMonitoringProvider

if __name__ == "__main__":
    main(LoginMonitoringProvider(), sys.argv[1:])
