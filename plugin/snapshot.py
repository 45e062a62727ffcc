"""Writes plugin/schema.json, the package schema as the analyzer infers it: `python -m plugin.snapshot`.

The snapshot shows a change to the package's inputs or outputs in review; a test keeps it current.
"""

import json

from plugin.provider import SCHEMA_SNAPSHOT, package_schema


def schema_text() -> str:
    return json.dumps(package_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SCHEMA_SNAPSHOT.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_SNAPSHOT.name}")
