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

import pandas as pd
import xarray as xr

from ..outputs import check_file, write_text
from ..vocabulary import COMPARISON, MANIFEST, STORE
from .compare import COLUMNS, goals_frame, percent_cells, row_cells
from .spending import spending_frame, spending_md
from .store import Manifest

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
    first = next(iter(runs.values()))
    n_levers = {k: len(v.get("levers", [])) for k, v in runs.items()}
    years, start = first["years"], first["start"]
    seconds = sum(b["seconds"] for b in (manifest or {}).get("done", {}).values())
    items = [
        ("1.1 Purpose of the model", "Project the supply of and demand for health and care staff of "
         f"{text(first['name'])} ({text(first.get('description', ''))}) and test workforce plans against it."),
        ("1.2 Model outputs", f"Monthly stocks and flows by profession and {text(spec.get('level', 'place'))} "
         "(computed by provider and summed; the results dataset: headcount, FTE, "
         "effective FTE, joiners by source, leavers by reason, trainees, demand FTE, gap FTE, vacancies, cost by "
         f"kind); stored every {spec['every']}. The gap is demand FTE − effective FTE (positive = shortfall)."),
        ("1.3 Experimentation aims", text(spec["question"])),
        ("2.1 Base model overview", "Population → need → activity → required FTE (demand); training "
         "programmes (intake, attrition, completion, local employment) and experienced hires feed staff in post, "
         "who leave, retire, rotate between places and change profession; funded posts limit hiring."),
        ("2.2 Base model logic", "Individual staff and trainees with event times drawn once (competing risks of "
         "leaving, retirement at a drawn age, rotation); hires only into vacancies when so configured."),
        ("2.3 Scenario logic", "Each variant adds levers (plugins that transform the compiled plan tensors) or "
         "replaces scenario fields; futures replace fields of the base scenario. Levers per run: "
         + ", ".join(f"{k} {v}" for k, v in n_levers.items()) + "."),
        ("2.4 Algorithms", "Monte Carlo over individuals (numba kernel) or Mesa agents on a SimPy clock; "
         "sampling from exponential hazards per month, normal retirement ages, binomial attrition."),
        ("2.5 Components", "Entities: trainees and staff members; activities: training, employment; resources: "
         "funded posts, training places and placement capacity; queues: vacancies awaiting hires, graduates "
         "awaiting posts (unplaced graduates are lost); entry: intakes and hires; exit: dropout, leaving, "
         "retirement, moving out of the system."),
        ("3.1 Data sources", "Public England figures with dates and sources are cited in the scenario files' "
         "comments (compiled on the documentation's Reference figures page, docs/reference-figures.md); [A] "
         "marks assumptions."),
        ("3.2 Pre-processing", "England figures scaled to the area by population share; year tables hold from "
         "April of each year."),
        ("3.3 Input parameters", "The resolved scenario of every run is stored in the results (attribute "
         "`experiment`), with its sha256 below."),
        ("3.4 Assumptions", "See each scenario's [A] comments and the documentation's Known limits page "
         "(docs/limits.md; e.g. one joiner age distribution per profession)."),
        ("4.1 Initialisation", f"Staff in post at the start drawn from each profession's age distribution; "
         f"training pipelines start in steady state unless configured empty. Start {start}."),
        ("4.2 Run length", f"{years} years ({12 * int(years)} months) from {start}; no warm-up (the start is "
         "the observed workforce)."),
        ("4.3 Estimation approach", f"{ds.sizes['replicate']} replicates per run; percentiles (5th, 50th, 95th) "
         "over replicates; lever effects as paired differences under common random numbers (replicate r of "
         "every run shares its random numbers)."),
        ("5.1 Software", f"wfsim {version} (Python; numpy, numba, xarray, Mesa, SimPy)."),
        ("5.2 Random sampling", f"xoshiro256** streams keyed by (seed {spec['seed']}, replicate, decision, "
         "profession or programme) in the kernel; no global random state."),
        ("5.3 Model execution", f"Engine `{spec['engine']}`; blocks of {spec['block']} replicates run in worker "
         "processes (or Dask) into one zarr store; results are identical whatever the backend, thread count "
         "or interruptions."),
        ("5.4 System specification", f"{text((manifest or {}).get('machine') or 'machine not recorded')}; total "
         f"compute time of the blocks {seconds:,.0f} s (worker processes in parallel)."),
        ("6.1 Computer model sharing", "Open source; rerun with "
         f"{code('wfsim experiment ' + (ds.attrs.get('experiment_file') or 'EXPERIMENT.yaml'))} (the experiment "
         "file and the scenarios it names reproduce every number here)."),
    ]
    return md_table(["STRESS item", "how this experiment meets it"], [[k, v] for k, v in items])


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
    for f in figures:
        out.append(f"![{f.stem.replace('_', ' ')}]({image(f)})")
    rows = [[s, str(v), str(fu), f"`{h[:16]}…`"] for s, v, fu, h in
            zip(ds.scenario.values, ds.variant.values, ds.future.values, ds.scenario_sha256.values)]
    done = (manifest or {}).get("done", {})
    out += ["## Provenance",
            f"Experiment file {code(ds.attrs.get('experiment_file', ''))}; results {code(folder / STORE)}; "
            f"fingerprint `{ds.attrs.get('experiment_fingerprint', '')[:16]}…`; {len(done)} blocks of "
            f"{spec['block']} replicates, output every {spec['every']}; created {ds.attrs.get('created', '')}.",
            md_table(["run", "variant", "future", "scenario sha256"], rows),
            "## STRESS checklist", _stress(ds, spec, runs, manifest, version)]
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
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(str(title))}: wfsim report"
            f"</title><style>{CSS}</style></head><body>{body}</body></html>\n")


def write_report(folder: str | Path, fmt: str = "html", out: Path | None = None) -> tuple[Path, bool]:
    """Write the report of the experiment in ``folder`` (its output folder); returns the file written and
    whether it replaced an earlier report. The report and its figures are checked before anything is
    drawn: an existing file is replaced only if wfsim wrote it (``sim.outputs``)."""
    from ..plots import standard_figures
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
    figures = standard_figures(ds, folder / "figures", table=table, option="report figures")
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
