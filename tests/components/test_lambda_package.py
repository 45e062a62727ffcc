import importlib.metadata
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import iptocc

from components.lambda_package import HANDLER, ROOT, WHEELS_DIR, handler_archive, package_files, unpack_wheel

BUNDLED = ("iptocc", "iso3166")
# ELF header: 64-bit, little endian, e_machine 183 (EM_AARCH64), which is what Lambda's arm64 loads.
ELF_MAGIC = b"\x7fELF"
EM_AARCH64 = 183


def test_package_holds_the_handler_module_zone_data_and_the_bundled_packages_only():
    files = package_files()
    module_path = HANDLER.rsplit(".", 1)[0].replace(".", "/") + ".py"
    assert module_path in files
    assert "tzdata/zoneinfo/Asia/Tokyo" in files
    assert "iptocc/__init__.py" in files
    assert "iso3166/__init__.py" in files
    allowed = ("handlers/", "tzdata/", *(f"{name}/" for name in BUNDLED), *(f"{name}-" for name in BUNDLED))
    assert all(name.startswith(allowed) for name in files)
    # The location data's licence travels with it.
    assert any(name.startswith("iptocc-") and "/licenses/" in name for name in files)


def test_every_native_library_in_the_package_is_built_for_arm64_linux():
    native = {name: path for name, path in package_files().items() if name.endswith(".so")}
    assert "iptocc/iptocc.abi3.so" in native
    for name, path in native.items():
        header = path.read_bytes()[:20]
        assert header[:4] == ELF_MAGIC, name
        assert header[4] == 2 and header[5] == 1, f"{name} is not a 64-bit little-endian library"
        assert int.from_bytes(header[18:20], "little") == EM_AARCH64, f"{name} is not built for aarch64"


def test_bundled_wheels_are_the_pinned_versions_for_lambdas_python_and_arm64():
    pins = dict(
        line.split("==")
        for line in (ROOT / "requirements-lambda.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert set(pins) == set(BUNDLED)
    wheels = {path.name.split("-")[0]: path.name for path in WHEELS_DIR.glob("*.whl")}
    assert set(wheels) == set(BUNDLED)
    for name, wheel in wheels.items():
        _, version, python_tag, abi_tag, platform_tag = wheel.removesuffix(".whl").split("-")
        assert version == pins[name]
        # The tests exercise the same code and data as the function.
        assert importlib.metadata.version(name) == pins[name]
        assert platform_tag == "any" or "manylinux2014_aarch64" in platform_tag, wheel
        # py3 / cp310-abi3 load on the function's python3.13.
        assert python_tag == "py3" or (python_tag == "cp310" and abi_tag == "abi3"), wheel


def test_wheels_unpack_once_into_a_folder_named_by_their_content(tmp_path):
    wheel = next(WHEELS_DIR.glob("iso3166-*.whl"))
    first = unpack_wheel(wheel, tmp_path)
    (first / "marker").write_text("kept")
    assert unpack_wheel(wheel, tmp_path) == first
    assert (first / "marker").read_text() == "kept"
    assert [path.name for path in tmp_path.iterdir()] == [first.name]


def test_caches_and_bytecode_stay_out_even_when_present(tmp_path):
    handlers = tmp_path / "handlers"
    (handlers / "__pycache__").mkdir(parents=True)
    (handlers / "__init__.py").write_text("")
    (handlers / "notifier.py").write_text("def handler(event, context):\n    return 1\n")
    (handlers / "__pycache__" / "notifier.cpython-313.pyc").write_bytes(b"\0")
    (handlers / "stray.pyc").write_bytes(b"\0")

    names = [name for name in package_files(handlers) if name.startswith("handlers/")]
    assert names == ["handlers/__init__.py", "handlers/notifier.py"]


def test_the_packaged_handler_imports_and_locates_from_the_unzipped_package(tmp_path):
    """What Lambda does: unzip into a folder, put it on sys.path, import the handler.

    This machine cannot load the arm64 library, so it is swapped for this machine's build of the same
    version (the tests above prove the version and the architecture); everything else is the package.
    """
    archive = tmp_path / "package.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, asset in handler_archive().assets.items():
            bundle.write(asset.path, name)
    task = tmp_path / "task"
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(task)
    shutil.copyfile(Path(iptocc.__file__).parent / "iptocc.abi3.so", task / "iptocc" / "iptocc.abi3.so")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import handlers.notifier as n, iptocc, iso3166; from zoneinfo import ZoneInfo;"
        "from handlers.location import locate;"
        "assert iptocc.__file__.startswith(sys.argv[1]) and iso3166.__file__.startswith(sys.argv[1]);"
        "print(n.handler.__module__, ZoneInfo('Asia/Tokyo').key, locate('1.0.16.1').country_code)"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code, str(task)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["handlers.notifier", "Asia/Tokyo", "JP"]
