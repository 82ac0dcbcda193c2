"""The experiment report reads well: a table of contents whose links reach every section, alt text and
a numbered caption on every figure, STRESS answers taken from the experiment and its scenario, and
figures drawn once and reused."""
from __future__ import annotations

import html
import re
import shutil

import pytest

import sim.experiments.figures as report_figures_module
from sim.experiments.report import slug, write_report
from tests.test_experiments import reference  # noqa: F401 - the fixture


@pytest.fixture
def folder(reference, tmp_path):  # noqa: F811
    _, out, _ = reference
    target = tmp_path / "rep"
    shutil.copytree(out, target)
    return target


def test_html_report_has_contents_anchors_alt_text_and_captions(folder):
    path, _ = write_report(folder, "html")
    page = path.read_text(encoding="utf-8")
    ids = re.findall(r'<h2 id="([^"]+)">', page)
    assert len(ids) == page.count("<h2") >= 6
    links = re.findall(r'<a href="#([^"]+)">', page)
    assert links == ids                                   # one entry per section, in order, each reaching it
    images = re.findall(r"<img ([^>]*)>", page)
    assert images
    for tag in images:
        alt = html.unescape(re.search(r'alt="([^"]*)"', tag)[1])
        assert len(alt.split()) >= 8, alt                  # a sentence, not a file name
    captions = re.findall(r"<em>Figure (\d+)\. ", page)
    assert [int(c) for c in captions] == list(range(1, len(images) + 1))


def test_markdown_contents_links_match_the_headings(folder):
    path, _ = write_report(folder, "md")
    text = path.read_text(encoding="utf-8")
    heads = re.findall(r"^## (.+)$", text, re.M)
    links = re.findall(r"^\d+\. \[(.+?)\]\(#(.+?)\)$", text, re.M)
    assert [h for h, _ in links] == heads and [s for _, s in links] == [slug(h) for h in heads]
    assert slug("Results: each run against its baseline") == "results-each-run-against-its-baseline"


def test_stress_answers_come_from_the_experiment(reference, folder):  # noqa: F811
    exp, _, ds = reference
    text = write_report(folder, "md")[0].read_text(encoding="utf-8")
    stress = text.split("## STRESS checklist", 1)[1]
    scn = exp.runs[0].scenario
    for place in [p for p, _, _ in scn.geography.place_table()]:
        assert place in stress
    assert scn.description.split()[0] in stress and scn.name in stress.replace("\\", "")
    assert f"{exp.spec.replicates:,} replicates per run" in stress
    assert f"seed {exp.spec.seed}" in stress
    assert f"{scn.years} years ({12 * scn.years} months) from {scn.start}" in stress
    assert "`extra`" in stress                                  # the more_places variant's lever, by its id
    assert "slower\\_leaving" in stress or "slower_leaving" in stress
    staff = sum(p.headcount if isinstance(p.headcount, (int, float)) else sum(p.headcount.values())
                for p in scn.professions.values())
    assert f"{staff:,.0f} staff in post" in stress


def test_figures_are_drawn_once_and_reused(folder, monkeypatch):
    first, _ = write_report(folder, "html")
    pngs = sorted((folder / "figures").glob("*.png"))
    stamps = {p: p.stat().st_mtime_ns for p in pngs}

    def no_drawing(*a, **k):
        raise AssertionError("figures drawn again")

    monkeypatch.setattr(report_figures_module, "standard_figures", no_drawing)
    write_report(folder, "md")
    write_report(folder, "html")
    assert {p: p.stat().st_mtime_ns for p in pngs} == stamps
    pngs[0].write_bytes(b"not a figure")                       # a damaged figure: drawn again
    with pytest.raises(AssertionError, match="drawn again"):
        write_report(folder, "md")
