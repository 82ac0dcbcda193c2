"""``wfsim report``: one document per experiment for a planning board, written as Markdown (with PNG
figures beside it) or as one self-contained HTML file (the same Markdown rendered, figures inlined).

Sections: the question; the runs (variants and futures, what each changes); the ranked comparison;
goal probabilities; who spent what (when runs have owners of levers); the figures; provenance (scenario hashes, seed, version, timings); and the STRESS
checklist (Monks et al. 2019, "Strengthening the reporting of empirical simulation studies"),
filled in from the experiment so that a reader can judge and repeat it.
"""
from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Callable

import pandas as pd
import xarray as xr

from ..outputs import check_file, write_text
from ..vocabulary import COMPARISON, MANIFEST, STORE
from .compare import COLUMNS, goals_frame, percent_cells, row_cells
from .figures import describe_figure, report_figures
from .spending import spending_frame, spending_md
from .store import Manifest
from .stress import stress_items

CSS = """body{font-family:system-ui,sans-serif;max-width:68rem;margin:2rem auto;padding:0 1rem;line-height:1.45;
color:#222}table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0 1.2rem}th,td{border:1px solid #ccc;
padding:.25rem .5rem;text-align:right}th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.4rem 0}code{background:#f5f5f5;padding:0 .2rem}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}"""


class ReportError(ValueError):
    """A results path that holds no experiment to report on."""


_MARKUP = re.compile(r"([\\`*_{}\[\]()#+!~])")


def text(value) -> str:
    """Text from a scenario or experiment file as Markdown that shows it and nothing else: HTML's special
    characters as entities, Markdown's punctuation backslash-escaped, line breaks as spaces (so no heading,
    list, link, image, emphasis or raw HTML can come from the input)."""
    s = " ".join(str(value).split())
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MARKUP.sub(r"\\\1", s)
    return re.sub(r"^(\d+)([.)])", r"\1\\\2", s)          # "1. x" would start a list


def code(value) -> str:
    """Text from a file as a Markdown code span (a fence longer than any run of backticks inside it)."""
    s = " ".join(str(value).split())
    fence = "`" * (max((len(m) for m in re.findall(r"`+", s)), default=0) + 1)
    return f"{fence} {s} {fence}" if fence != "`" or s.startswith("`") or s.endswith("`") else f"`{s}`"


def md_table(header: list[str], rows: list[list]) -> str:
    """A Markdown pipe table (cells are escaped for pipes)."""
    esc = lambda v: str(v).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(map(esc, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(esc, r)) + " |" for r in rows]
    return "\n".join(lines)


def _comparison_md(table: pd.DataFrame) -> str:
    parts = []
    for (prof, year, future), rows in table.groupby(["profession", "year", "future"], sort=False):
        parts.append(f"**{prof}, {year}**" + (f", future *{future}*" if table.future.nunique() > 1 else ""))
        parts.append(md_table(list(COLUMNS), [row_cells(r, "()") for _, r in rows.iterrows()]))
    return "\n\n".join(parts)


def _runs_md(spec: dict) -> str:
    def change(c: dict) -> str:
        bits = []
        if c.get("plans"):
            bits.append("action plans " + ", ".join(code(p) for p in c["plans"]))
        if c.get("levers"):
            bits.append("levers " + ", ".join(code(x.get("id") or x.get("lever")) for x in c["levers"]))
        if c.get("set"):
            bits.append("sets " + ", ".join(f"{code(k)} = {code(json.dumps(v))}" for k, v in c["set"].items()))
        return "; ".join(bits) or "nothing (as the base scenario)"

    rows = [[text(name), text(c.get("description", "")), change(c)] for name, c in spec["variants"].items()]
    out = "Variants (what planners choose):\n\n" + md_table(["variant", "description", "changes"], rows)
    if spec.get("futures"):
        rows = [[text(name), text(c.get("description", "")), change(c)] for name, c in spec["futures"].items()]
        out += "\n\nFutures (what they do not choose; every variant runs under each):\n\n" + \
               md_table(["future", "description", "changes"], rows)
    return out


def _stress(ds: xr.Dataset, spec: dict, runs: dict, manifest: dict | None, version: str) -> str:
    items = stress_items(spec, runs, replicates=ds.sizes["replicate"], manifest=manifest, version=version,
                         experiment_file=ds.attrs.get("experiment_file") or "", text=text, code=code)
    return md_table(["STRESS item", "how this experiment meets it"], [[k, v] for k, v in items])


def slug(heading: str) -> str:
    """The anchor of a heading, as GitHub and MkDocs make it: lower case, punctuation dropped, spaces as hyphens."""
    words = re.sub(r"[^\w\- ]", "", heading.replace("\\", "").strip().lower())
    return words.replace(" ", "-")


def contents(blocks: list[str]) -> str:
    """A table of contents of the level-2 headings among the Markdown blocks."""
    heads = [b[3:].strip() for b in blocks if b.startswith("## ")]
    return "**Contents**\n\n" + "\n".join(f"{i}. [{h}](#{slug(h)})" for i, h in enumerate(heads, 1))


def figure_blocks(figures: list[Path], image: Callable[[Path], str], ds: xr.Dataset) -> list[str]:
    """Each figure with its alt text (what it shows, for a screen reader) and a numbered caption beneath."""
    out = []
    for i, f in enumerate(figures, 1):
        what = describe_figure(f.name, ds)
        out += [f"![{text(what)}]({image(f)})", f"*Figure {i}. {text(what)}*"]
    return out


def report_markdown(ds: xr.Dataset, table: pd.DataFrame, figures: list[Path], folder: Path,
                    manifest: dict | None, image: callable) -> str:
    resolved = json.loads(ds.attrs["experiment"])
    spec, runs = resolved["experiment"], resolved["runs"]
    version = ds.attrs.get("wfsim_version", "")
    out = [f"# {text(spec['name'])}: experiment report",
           f"*{ds.attrs.get('created', '')} · wfsim {version} · {ds.sizes['scenario']} runs × "
           f"{ds.sizes['replicate']:,} replicates · seed {spec['seed']} · engine {spec['engine']}*",
           "## The question", text(spec["question"]), text(spec.get("description", "")),
           "## The runs", _runs_md(spec),
           "## Results: each run against its baseline",
           "Gap = demand FTE − effective FTE (positive = shortfall), summed over areas, at the month given. "
           "Reduction and extra spend are paired differences from the baseline of the same future, replicate "
           "by replicate (common random numbers); extra spend is all spend (staff, bank and agency, training, "
           "levers) from the start to that month. Cells: median (5th to 95th percentile) over replicates. "
           "£ per FTE closed = median extra spend ÷ median gap reduction, shown only where the gap reduction is "
           "positive in at least 95% of replicates (a negative value: the run closes the gap and saves money). "
           "Extra spend is the whole workforce's, so for plans acting on several professions compare the "
           "*all professions* rows (the net gap of the whole workforce).",
           _comparison_md(table)]
    goals = goals_frame(table)
    if len(goals.columns):
        out += ["## Goals", "Share of replicates meeting each system goal of the scenario:",
                md_table(["run"] + [text(c[2:-1]) for c in goals.columns],
                         [[s] + percent_cells(row.values) for s, row in goals.iterrows()])]
    out += spending_md(spending_frame(ds, table), md_table)
    from ..evidence.report import sensitivity_section
    from ..optimise.report import optimise_section
    out += sensitivity_section(folder, image, md_table)      # when the folder holds a sensitivity analysis
    out += optimise_section(folder, image, md_table)         # when the folder is an optimisation's
    out.append("## Figures")
    out += figure_blocks(figures, image, ds)
    rows = [[s, str(v), str(fu), f"`{h[:16]}…`"] for s, v, fu, h in
            zip(ds.scenario.values, ds.variant.values, ds.future.values, ds.scenario_sha256.values)]
    done = (manifest or {}).get("done", {})
    out += ["## Provenance",
            f"Experiment file {code(ds.attrs.get('experiment_file', ''))}; results {code(folder / STORE)}; "
            f"fingerprint `{ds.attrs.get('experiment_fingerprint', '')[:16]}…`; {len(done)} blocks of "
            f"{spec['block']} replicates, output every {spec['every']}; created {ds.attrs.get('created', '')}.",
            md_table(["run", "variant", "future", "scenario sha256"], rows),
            "## STRESS checklist", _stress(ds, spec, runs, manifest, version)]
    out.insert(2, contents(out))
    return "\n\n".join(x for x in out if x) + "\n"


def _saved_table(csv: Path) -> pd.DataFrame | None:
    """The saved comparison table, or None if it cannot be read (it is then computed again)."""
    try:
        return pd.read_csv(csv)
    except Exception:  # noqa: BLE001 - a damaged file is recomputed, not trusted
        return None


def is_report(path: Path) -> bool:
    """Whether ``path`` is a report written by wfsim report (HTML or Markdown)."""
    with open(path, "rb") as f:
        head = f.read(4096).decode("utf-8", "replace")
    if Path(path).suffix.lower() in (".html", ".htm"):
        return head.startswith("<!doctype html>") and ": wfsim report</title>" in head
    first = head.split("\n", 1)[0]
    return first.startswith("# ") and first.endswith(": experiment report")


def html_page(markdown: str, title: str) -> str:
    """The report as one HTML document: the Markdown rendered with raw HTML disabled (any tag in the
    input shows as text) and the title escaped."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    body = re.sub(r"<h2>(.*?)</h2>", lambda m: f'<h2 id="{slug(html.unescape(re.sub("<[^>]+>", "", m[1])))}">{m[1]}</h2>',
                  body)                                     # anchors for the table of contents
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(str(title))}: wfsim report"
            f"</title><style>{CSS}</style></head><body>{body}</body></html>\n")


def write_report(folder: str | Path, fmt: str = "html", out: Path | None = None) -> tuple[Path, bool]:
    """Write the report of the experiment in ``folder`` (its output folder); returns the file written and
    whether it replaced an earlier report. The report and its figures are checked before anything is
    drawn: an existing file is replaced only if wfsim wrote it (``sim.outputs``)."""
    from . import comparison, open_experiment

    folder = Path(folder)
    if not (folder / STORE).is_dir():
        raise ReportError(f"{folder}: no experiment results here (expected {folder / STORE}; run wfsim experiment)")
    target = out or folder / f"report.{'html' if fmt == 'html' else 'md'}"
    replaced = check_file(target, "--out", is_report, "report")
    ds = open_experiment(folder)
    if "experiment" not in ds.attrs:
        raise ReportError(f"{folder / STORE}: not written by wfsim experiment (no experiment attribute)")
    csv = folder / COMPARISON
    table = _saved_table(csv) if csv.is_file() else None
    table = table if table is not None else comparison(ds)
    manifest = Manifest.read(folder / MANIFEST)                # None if missing or unreadable
    figures = report_figures(ds, folder / "figures", table)
    if fmt == "md":
        markdown = report_markdown(ds, table, figures, folder, manifest, lambda f: f.relative_to(target.parent)
                                   if f.is_relative_to(target.parent) else f.resolve())
        write_text(target, markdown)
        return target, replaced

    def inline(f: Path) -> str:
        return "data:image/png;base64," + base64.b64encode(f.read_bytes()).decode()

    markdown = report_markdown(ds, table, figures, folder, manifest, inline)
    write_text(target, html_page(markdown, ds.attrs.get("experiment_name", "experiment")))
    return target, replaced
