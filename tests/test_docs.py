"""The documentation site builds with ``mkdocs build --strict`` (broken links, missing pages and anything
else MkDocs warns about fail it), its generated references cover everything the code has, and
user-facing text points only at things a user can open."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sim.levers import registry
from sim.results.dataset import DESCRIPTIONS
from sim.cli import app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out


def text(site: Path, page: str) -> str:
    html = (site / page / "index.html").read_text(encoding="utf-8")
    return re.sub(r"<[^>]+>", "", html)


def test_every_page_of_the_nav_is_built(site):
    nav = re.findall(r":\s*([\w/-]+)\.md\s*$", (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), flags=re.M)
    assert len(nav) > 15
    for page in nav:
        path = site / ("" if page == "index" else page) / "index.html"
        assert path.exists(), page


def test_lever_reference_has_every_lever_with_its_parameters_and_cost_rule(site):
    page = text(site, "reference/levers")
    for name, cls in registry().items():
        assert f"{name}" in page, name
        for field in cls.model_fields:
            alias = cls.model_fields[field].alias or field
            assert alias in page, (name, alias)
    assert page.count("Cost rule.") == len(registry())


def test_results_reference_has_every_variable(site):
    page = text(site, "reference/results")
    for name, meaning in DESCRIPTIONS.items():
        assert name in page, name
    for word in ("newly_qualified", "rotation_out", "retire", "wfsim_version", "stock", "flow"):
        assert word in page, word


def test_cli_reference_has_every_command_and_option(site):
    import typer.main

    page = text(site, "reference/cli")
    command = typer.main.get_command(app)
    for name, sub in command.commands.items():
        assert f"wfsim {name}" in page, name
        for param in sub.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--"):
                    assert opt in page, (name, opt)


def test_api_reference_documents_the_public_api(site):
    page = text(site, "reference/api")
    for name in ("load_scenario", "run", "expected", "ScenarioError", "registry", "Lever"):
        assert name in page, name
    assert "Bases: ValueError" in page or "ValueError" in page


def test_tutorial_commands_are_the_commands_of_today():
    """Each command the tutorial shows exists, with the options it uses (its outputs were pasted from a run)."""
    import typer.main

    command = typer.main.get_command(app)
    tutorial = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
    used = re.findall(r"^\$ wfsim (\w+)(.*)$", tutorial, flags=re.M)
    assert {"validate", "run", "experiment", "report", "plot"} <= {name for name, _ in used}
    for name, rest in used:
        options = {o for p in command.commands[name].params for o in getattr(p, "opts", [])}
        for opt in re.findall(r"(--?[a-z][\w-]*)", rest):
            assert opt in options, (name, opt)


USER_FACING = [ROOT / "README.md", *ROOT.glob("docs/**/*.md"), *ROOT.glob("sim/**/*.py"), *ROOT.glob("sim/**/*.yaml"),
               *ROOT.glob("configs/**/*.yaml"), *ROOT.glob("experiments/*.yaml"), ROOT / "results" / "README.md"]


def test_user_facing_text_does_not_cite_documents_outside_the_repository():
    """The specification and the shared reference folder are not shipped: cite public sources and the docs."""
    found = []
    for path in USER_FACING:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"SPEC\s*§|\bSPEC\b|shared/reference|\b[Ss]eed 00\d", line):
                found.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()[:80]}")
    assert not found, "\n".join(found)
