"""The notifier's deployment package: the handlers package plus bundled zone data."""

from __future__ import annotations

from pathlib import Path

import pulumi

HANDLERS_DIR = Path(__file__).resolve().parent.parent / "handlers"
HANDLER = "handlers.notifier.handler"
_SKIPPED_DIRS = {"__pycache__"}


def package_files(handlers_dir: Path = HANDLERS_DIR) -> dict[str, Path]:
    """Archive path -> file on disk; no caches, only what the function runs."""
    files = {f"handlers/{path.relative_to(handlers_dir).as_posix()}": path for path in _walk(handlers_dir, "*.py")}
    # The Lambda image may lack system zone data; bundling tzdata makes every IANA name resolvable.
    tzdata_dir = _tzdata_dir()
    files.update({f"tzdata/{path.relative_to(tzdata_dir).as_posix()}": path for path in _walk(tzdata_dir, "*")})
    return dict(sorted(files.items()))


def handler_archive(handlers_dir: Path = HANDLERS_DIR) -> pulumi.AssetArchive:
    return pulumi.AssetArchive(
        {name: pulumi.FileAsset(str(path)) for name, path in package_files(handlers_dir).items()}
    )


def _walk(root: Path, pattern: str):
    for path in root.rglob(pattern):
        if path.is_file() and not _SKIPPED_DIRS.intersection(path.relative_to(root).parts) and path.suffix != ".pyc":
            yield path


def _tzdata_dir() -> Path:
    import tzdata

    return Path(tzdata.__file__).resolve().parent
