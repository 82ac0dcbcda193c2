"""The package as published: its name and version, declared dependencies, the lock file, and a built wheel
that carries the shipped scenarios, action plans, experiments and the web app's script."""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions, version
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from typer.testing import CliRunner

from sim.cli import app
from sim.scenario import shipped
from sim.vocabulary import DISTRIBUTION, SHIPPED_EXPERIMENTS, SHIPPED_PLANS

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
LOCKED_EXTRAS = ("app", "dask", "parquet")       # the Makefile's `lock` target


def requirements(extras=()) -> list[Requirement]:
    out = [Requirement(r) for r in PROJECT["dependencies"]]
    for extra in extras:
        out += [Requirement(r) for r in PROJECT["optional-dependencies"][extra]]
    return out


# --- name and version -------------------------------------------------------------------------------------------
def test_distribution_name_is_the_one_the_code_and_docs_use():
    assert PROJECT["name"] == DISTRIBUTION == "wfsim-ics"
    assert PROJECT["scripts"] == {"wfsim": "sim.cli:main"}
    stale = []
    for path in [ROOT / "README.md", *ROOT.glob("docs/**/*.md"), *ROOT.glob("sim/**/*.py")]:
        text = path.read_text(encoding="utf-8")
        stale += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in re.finditer(r"pip install '?wfsim\b(?!-ics)", text)]
        stale += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in re.finditer(r"version\([\"']wfsim[\"']\)", text)]
    assert not stale, "the distribution is wfsim-ics: " + "; ".join(stale)


def test_version_option_prints_the_installed_version():
    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0, r.output
    assert r.output.strip() == f"wfsim {version(DISTRIBUTION)} (package wfsim-ics)"
    assert version(DISTRIBUTION) == PROJECT["version"]


def test_metadata_is_complete():
    for key in ("description", "readme", "license", "authors", "keywords", "classifiers", "requires-python"):
        assert PROJECT.get(key), key
    assert (ROOT / PROJECT["license-files"][0]).read_text().startswith("MIT License")
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert f'version: "{PROJECT["version"]}"' in cff and "cff-version: 1.2.0" in cff
    assert f"## {PROJECT['version']}" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


# --- dependencies -----------------------------------------------------------------------------------------------
def imports(path: Path) -> list[tuple[str, bool]]:
    """(top-level module, imported when the module is) for each absolute import of a source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    at_load = set()
    for node in tree.body:                                   # module level, including try/if blocks there
        for inner in ast.walk(node) if isinstance(node, (ast.Try, ast.If, ast.Import, ast.ImportFrom)) else ():
            at_load.add(id(inner))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        out += [(name.split(".")[0], id(node) in at_load) for name in names]
    return out


def test_every_imported_package_is_declared():
    """An import of a third-party package needs it in pyproject.toml: in ``dependencies`` when a module
    outside the web app imports it on load, else there or in an extra (optional features import lazily)."""
    core = {canonicalize_name(r.name) for r in requirements()}
    extras = {canonicalize_name(r.name) for e in PROJECT["optional-dependencies"] for r in requirements([e])}
    owners = packages_distributions()
    problems = []
    for path in sorted((ROOT / "sim").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for module, on_load in imports(path):
            if module in sys.stdlib_module_names or module == "sim":
                continue
            dists = {canonicalize_name(d) for d in owners.get(module, [])}
            if not dists:
                problems.append(f"{rel}: imports {module}, which no installed distribution provides")
            elif on_load and not rel.startswith("sim/app/") and not dists & core:
                problems.append(f"{rel}: imports {module} on load; declare {'/'.join(sorted(dists))} in dependencies")
            elif not dists & (core | extras):
                problems.append(f"{rel}: imports {module}; declare {'/'.join(sorted(dists))} in pyproject.toml")
    assert not problems, "\n".join(sorted(set(problems)))


def locked() -> dict[str, Version]:
    """Name → pinned version in requirements.lock for this Python (lines ``name==version ; marker``)."""
    env = default_environment()
    out = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(env):
            (pin,) = req.specifier
            assert pin.operator == "==", line
            out[canonicalize_name(req.name)] = Version(pin.version)
    return out


def test_lock_file_pins_every_dependency_within_pyproject():
    pins = locked()
    problems = []
    for req in requirements(LOCKED_EXTRAS):
        name = canonicalize_name(req.name)
        if name not in pins:
            problems.append(f"{req.name} is not in requirements.lock")
        elif not req.specifier.contains(pins[name], prereleases=True):
            problems.append(f"requirements.lock pins {req.name}=={pins[name]}, outside {req.specifier}")
    assert not problems, "; ".join(problems) + " (make lock)"


# --- shipped files ---------------------------------------------------------------------------------------------
def test_shipped_files_are_the_repository_files():
    """One copy in the repository: the package's data folders are links to configs/ and experiments/."""
    assert SHIPPED_PLANS.resolve() == (ROOT / "configs" / "levers").resolve()
    assert SHIPPED_EXPERIMENTS.resolve() == (ROOT / "experiments").resolve()
    assert set(shipped.action_plans()) == {p.stem for p in (ROOT / "configs" / "levers").glob("*.yaml")}
    assert set(shipped.experiments()) == {p.stem for p in (ROOT / "experiments").glob("*.yaml")}
    assert "configs/region.yaml" in shipped.scenarios()


def test_names_resolve_only_when_no_such_file_exists(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert shipped.action_plan("train") == SHIPPED_PLANS / "train.yaml"
    assert shipped.experiment("hee_supply_levers") == SHIPPED_EXPERIMENTS / "hee_supply_levers.yaml"
    (tmp_path / "train").write_text("levers: []\n")            # a file of that name wins
    assert shipped.action_plan("train") == Path("train")
    for text in ("train.yaml", "plans/train", "nope"):         # a path, or an unknown name, stays a path
        assert shipped.action_plan(text) == Path(text)
    assert shipped.action_plan("retain", base=tmp_path) == SHIPPED_PLANS / "retain.yaml"


def build_wheel(out: Path) -> Path:
    """Build the wheel from a copy of the files it is made of (so the worktree gets no build/ folder)."""
    src = out / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("sim", "configs", "experiments"):
        shutil.copytree(ROOT / name, src / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    r = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(src)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (wheel,) = out.glob("wfsim_ics-*.whl")
    return wheel


def test_wheel_carries_plans_experiments_scenarios_and_the_app(tmp_path):
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
        expected = {"sim/data/baseline_ics.yaml": ROOT / "sim" / "data" / "baseline_ics.yaml",
                    "sim/app/main.py": ROOT / "sim" / "app" / "main.py",
                    "sim/data/configs/region.yaml": ROOT / "configs" / "region.yaml",
                    "sim/data/configs/examples/spec_example.yaml": ROOT / "configs" / "examples" / "spec_example.yaml"}
        expected |= {f"sim/data/configs/levers/{p.name}": p for p in (ROOT / "configs" / "levers").glob("*.yaml")}
        expected |= {f"sim/data/experiments/{p.name}": p for p in (ROOT / "experiments").glob("*.yaml")}
        expected |= {f"sim/data/configs/analytic/{p.name}": p for p in (ROOT / "configs" / "analytic").glob("*.yaml")}
        for name, source in expected.items():
            assert name in names, name
            assert z.read(name) == source.read_bytes(), name
    assert len([n for n in names if n.endswith("baseline_ics.yaml")]) == 1       # the embedded scenario, once
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "results/", "benchmarks/"))]
    assert "Name: wfsim-ics" in meta and "License-Expression: MIT" in meta
    declared = {(canonicalize_name(r.name), r.specifier) for r in map(Requirement, re.findall(
        r"^Requires-Dist: (.*)$", meta, flags=re.M)) if r.marker is None}
    for req in requirements():
        assert (canonicalize_name(req.name), req.specifier) in declared, req
    assert "wfsim = sim.cli:main" in entry_points


@pytest.mark.slow
def test_wheel_installs_and_runs_in_a_fresh_environment(tmp_path):
    """The wheel in a new virtual environment outside the repository: a shipped plan by name, and the app's
    command (needs the package index for the dependencies)."""
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    r = subprocess.run([venv / "bin" / "pip", "install", "--quiet", f"{wheel}[app]"], capture_output=True, text=True,
                       timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    work = tmp_path / "work"
    work.mkdir()
    wfsim = venv / "bin" / "wfsim"
    r = subprocess.run([wfsim, "run", "--plan", "train", "-n", "5", "--years", "1", "--quiet", "--out", "x.nc"],
                       cwd=work, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0 and (work / "x.nc").exists(), r.stderr[-3000:]
    r = subprocess.run([wfsim, "app", "--help"], cwd=work, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "--port" in r.stdout, r.stderr
    r = subprocess.run([wfsim, "--version"], cwd=work, capture_output=True, text=True, timeout=300)
    assert r.stdout.strip() == f"wfsim {PROJECT['version']} (package wfsim-ics)"
