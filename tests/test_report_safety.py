"""Reports are safe HTML: text from scenario and experiment files is shown, never run (issue 17, class 7).

Before: the question, descriptions, variant and goal names went into report.html as raw HTML, so a
``<script>`` in a description ran when the report was opened. Now such text is escaped (and the Markdown
is rendered with raw HTML disabled), in the HTML and in the Markdown report alike.
"""
from __future__ import annotations

import copy
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.experiments import comparison, open_experiment
from sim.experiments import report

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "examples" / "spec_example.yaml"
SCRIPT = "<script>alert('pwned')</script>"
IMG = '<img src=x onerror="alert(1)">'
runner = CliRunner()

ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "em", "strong", "table",
                "thead", "tbody", "tr", "th", "td", "img", "code", "br", "a", "ul", "ol", "li", "hr", "pre",
                "blockquote", "h4", "h5", "h6"}


class Tags(HTMLParser):
    """Every tag and attribute of a document, to check that none came from the input."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def assert_safe_html(text: str) -> None:
    parser = Tags()
    parser.feed(text)
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, (tag, attrs)
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            if name in ("src", "href"):                       # only the report's own figures and links
                assert (value or "").startswith(("data:image/png;base64,", "#", "http://", "https://",
                                                 "figures/")), (tag, name, value)
                assert not (value or "").lower().lstrip().startswith(("javascript", "vbscript", "data:text"))
    assert "<script" not in text.lower()


def hostile_scenario(tmp_path: Path) -> Path:
    d = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    d["description"] = "Example " + SCRIPT
    d["professions"]["registered_nurse"]["label"] = "Nurses " + IMG
    d["goals"] = [{"name": "gap below 5% " + SCRIPT, "metric": "gap_share", "by": "2028-03", "max": 0.05}]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(d), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    data = {"name": "hostile", "question": "Which plan? " + SCRIPT, "description": "About " + IMG,
            "scenario": str(hostile_scenario(root)), "replicates": 2, "seed": 1, "years": 2, "every": "year",
            "block": 2,
            "variants": {"baseline": {"description": "as now " + SCRIPT},
                         "slower": {"description": "<b onmouseover=alert(1)>slower</b>",
                                    "set": {"professions.registered_nurse.leave_rate": 0.07}}},
            "futures": {"central": {"description": "[click](javascript:alert(1)) " + IMG}}}
    path = root / "e.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = root / "out"
    r = runner.invoke(app, ["experiment", str(path), "--out", str(out), "--workers", "1", "-q"])
    assert r.exit_code == 0, r.output
    return out


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_report_escapes_scenario_and_experiment_text(hostile, tmp_path, fmt):
    folder = tmp_path / "rep"
    shutil.copytree(hostile, folder)
    r = runner.invoke(app, ["report", str(folder), "--format", fmt])
    assert r.exit_code == 0, r.output
    text = (folder / f"report.{fmt}").read_text(encoding="utf-8")
    assert "<script" not in text.lower() and "<img src=x" not in text.lower() and "<b onmouseover" not in text
    if fmt == "md":                                                  # no Markdown link from the input
        assert "](javascript:" not in text
    assert "&lt;script&gt;" in text                                   # shown as text
    assert "Which plan?" in text and "gap below 5%" in text and "as now" in text
    if fmt == "html":
        assert_safe_html(text)


def test_report_out_over_another_file_is_refused(hostile, tmp_path):
    folder = tmp_path / "rep"
    shutil.copytree(hostile, folder)
    victim = tmp_path / "notes.html"
    victim.write_text("<p>mine</p>", encoding="utf-8")
    r = runner.invoke(app, ["report", str(folder), "--out", str(victim)])
    assert r.exit_code == 2 and "--out" in r.stderr and "not a wfsim" in r.stderr, r.output
    assert victim.read_text() == "<p>mine</p>"
    r = runner.invoke(app, ["report", str(folder), "--out", "/proc/wfsim-report.html"])
    assert r.exit_code == 2 and "--out" in r.stderr, r.output
    r = runner.invoke(app, ["report", str(folder), "--out", str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["report", str(folder), "--out", str(tmp_path / "r.html")])   # its own: replaced
    assert r.exit_code == 0, r.output


# --------------------------------------------------------------------------------------------------
# property: whatever the text, the HTML holds no tag or attribute from it

snippets = st.sampled_from([SCRIPT, IMG, "<svg onload=alert(1)>", "<iframe src='javascript:alert(1)'>",
                            "[x](javascript:alert(1))", "![x](javascript:alert(1))", "<a href=\"javascript:x\">a</a>",
                            "<!-- c -->", "<style>body{}</style>", "&lt;script&gt;", "| a | b |", "\n\n# h\n",
                            "<<script>script>", "<scr<script>ipt>", "`<script>`", "<", ">", "&", "\"", "'"])
texts = st.lists(st.one_of(snippets, st.text(max_size=20)), max_size=5).map("".join)


@pytest.fixture(scope="module")
def base_report(hostile):
    ds = open_experiment(hostile)
    return ds, comparison(ds)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(question=texts, description=texts, variant=texts, goal=texts)
def test_property_no_input_text_becomes_markup(base_report, question, description, variant, goal):
    ds, table = base_report
    resolved = json.loads(ds.attrs["experiment"])
    spec = resolved["experiment"]
    spec["question"], spec["description"] = question or "?", description
    spec["variants"]["baseline"]["description"] = variant
    ds = ds.copy()
    ds.attrs = {**ds.attrs, "experiment": json.dumps(resolved)}
    table = copy.deepcopy(table)
    table[f"P({goal})"] = 0.5
    markdown = report.report_markdown(ds, table, [], Path("."), None, str)
    assert_safe_html(report.html_page(markdown, ds.attrs.get("experiment_name", "")))
