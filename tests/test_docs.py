"""The documentation site builds cleanly, and the README stays a short front page that links into it."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from offline.stack_config import as_config_string

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def build(project: Path, site: Path) -> subprocess.CompletedProcess:
    # --strict turns mkdocs.yml's validation warnings (broken links and anchors, pages missing from the
    # navigation, navigation entries without a page) into a failed build. Nothing is fetched.
    command = ["mkdocs", "build", "--strict", "--config-file", str(project / "mkdocs.yml"), "--site-dir", str(site)]
    return subprocess.run(
        [sys.executable, "-m", *command],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )


def test_the_docs_build_in_strict_mode_with_every_page_and_search(tmp_path):
    result = build(ROOT, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    for page in (ROOT / "docs").glob("*.md"):
        built = tmp_path / "site" / ("index.html" if page.stem == "index" else f"{page.stem}/index.html")
        assert built.is_file(), page.name
    assert (tmp_path / "site" / "search" / "search_index.json").is_file()


def test_a_broken_link_or_a_page_outside_the_navigation_fails_the_build(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "docs", project / "docs")
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    costs = project / "docs" / "costs.md"
    costs.write_text(costs.read_text() + "\nSee [the missing page](missing.md).\n")
    (project / "docs" / "orphan.md").write_text("# Not in the navigation\n")
    result = build(project, tmp_path / "site")
    assert result.returncode != 0
    assert "missing.md" in result.stderr
    assert "orphan.md" in result.stderr


def test_the_readme_is_short():
    assert len(README.splitlines()) <= 300


def test_every_link_of_the_readme_into_docs_names_a_page_and_heading_that_exist():
    for target, anchor in re.findall(r"\]\((docs/[^)#]+)(?:#([^)]+))?\)", README):
        path = ROOT / target
        assert path.is_file(), target
        if anchor:
            headings = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
            slugs = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}
            assert anchor in slugs, f"{target}#{anchor}"


def test_the_readme_configuration_summary_shows_declared_keys_with_their_defaults():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    summary = README.split("## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `(\w+)` \| `([^`]*)`", summary, flags=re.MULTILINE))
    assert rows
    assert "(docs/configuration.md)" in summary
    for key, default in rows.items():
        assert key in declared, key
        value = declared[key]["default"]
        assert default == ('""' if value == "" else as_config_string(value)), key


def test_the_readme_and_the_home_page_map_every_page():
    pages = {path.name for path in (ROOT / "docs").glob("*.md")} - {"index.md"}
    home = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    in_readme = set(re.findall(r"\]\(docs/([\w-]+\.md)\)", README.split("## Documentation", 1)[1]))
    assert in_readme - {"index.md"} == pages
    assert set(re.findall(r"\]\(([\w-]+\.md)\)", home.split("## The pages", 1)[1])) == pages
