import zipfile
from pathlib import Path

from components.lambda_package import HANDLER, handler_archive, package_files


def test_package_holds_the_handler_module_and_zone_data():
    files = package_files()
    module_path = HANDLER.rsplit(".", 1)[0].replace(".", "/") + ".py"
    assert module_path in files
    assert "tzdata/zoneinfo/Asia/Tokyo" in files
    assert all(name.startswith(("handlers/", "tzdata/")) for name in files)


def test_caches_and_bytecode_stay_out_even_when_present(tmp_path):
    handlers = tmp_path / "handlers"
    (handlers / "__pycache__").mkdir(parents=True)
    (handlers / "__init__.py").write_text("")
    (handlers / "notifier.py").write_text("def handler(event, context):\n    return 1\n")
    (handlers / "__pycache__" / "notifier.cpython-313.pyc").write_bytes(b"\0")
    (handlers / "stray.pyc").write_bytes(b"\0")

    names = [name for name in package_files(handlers) if name.startswith("handlers/")]
    assert names == ["handlers/__init__.py", "handlers/notifier.py"]


def test_the_packaged_handler_imports_and_runs_from_a_zip(tmp_path):
    """What Lambda does: unzip into a folder, put it on sys.path, import the handler."""
    archive = tmp_path / "package.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, asset in handler_archive().assets.items():
            bundle.write(asset.path, name)
    import subprocess
    import sys

    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import handlers.notifier as n; from zoneinfo import ZoneInfo;"
        "print(n.handler.__module__, ZoneInfo('Asia/Tokyo').key)"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code, str(archive)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["handlers.notifier", "Asia/Tokyo"]
