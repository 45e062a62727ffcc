"""The package's entry point: the Python host runs the folder holding PulumiPlugin.yaml, `python plugin/ <engine
address>`, from the consumer's working directory; this serves LoginMonitoring and LoginMonitoringHub to the Pulumi
engine."""

import sys
from pathlib import Path

# The repository root, this folder's parent, holds the components, whatever the working directory.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi.provider import main

from plugin.provider import LoginMonitoringProvider

if __name__ == "__main__":
    main(LoginMonitoringProvider(), sys.argv[1:])
