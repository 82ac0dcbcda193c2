"""The wfsim web app, a Streamlit script (``wfsim app`` serves it; ``streamlit run`` works too).

Tab "Run a scenario": pick a shipped scenario or upload one, switch levers on (forms generated from
each lever's parameter schema), run the scenario as it is and with the levers, paired replicate by
replicate, and read the results. Tab "Browse experiments": the same views of any experiment folder
(``wfsim experiment``'s or the app's). What the page does lives in ``sim.app.logic``, ``forms``,
``tables`` and ``charts``; this file is the layout.
"""
from __future__ import annotations

import math
import time
from itertools import groupby
from pathlib import Path

import streamlit as st
import yaml

from sim import ScenarioError
from sim.app import charts, forms, logic, tables
from sim.experiments import MANIFEST

UPLOAD = "upload a scenario file (YAML)…"


# --- cached reads ----------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=16)
def scenario_at(path: str, mtime: float):
    return logic.read_scenario(Path(path))


@st.cache_data(show_spinner=False)
def lever_examples() -> dict:
    return forms.examples(logic.example_files())


@st.cache_resource(show_spinner=False, max_entries=8)
def results_at(folder: str, stamp: float):
    ds = tables.open_results(Path(folder))
    return ds, tables.stored_comparison(Path(folder), ds)


@st.cache_data(show_spinner="reading the replicates…", max_entries=32)
def fan_at(folder: str, stamp: float, runs: tuple, professions: tuple, places: tuple):
    return tables.fan_frame(results_at(folder, stamp)[0], list(runs), list(professions), list(places))


@st.cache_data(show_spinner="pairing replicates…", max_entries=32)
def paired_at(folder: str, stamp: float, professions: tuple, places: tuple, month: str):
    return tables.paired(results_at(folder, stamp)[0], list(professions), list(places), month)


@st.cache_data(show_spinner=False, max_entries=8)
def spend_at(folder: str, stamp: float):
    return tables.spend_frame(results_at(folder, stamp)[0])


@st.cache_data(show_spinner=False, max_entries=4)
def tidy_at(folder: str, stamp: float):
    return tables.percentiles(results_at(folder, stamp)[0])


def stamp_of(folder: Path) -> float:
    """Changes when the folder's results do (cache key)."""
    return (folder / MANIFEST).stat().st_mtime


def show_problems(e: ScenarioError) -> None:
    """One line per problem, exactly as the command line prints them."""
    st.error("Please fix these inputs:\n\n" + "\n".join(f"- `{line}`" for line in e.lines()))


# --- lever forms -----------------------------------------------------------------------------------
def widget(f: forms.Field, name: str, scenario, geo: dict, months: list[str], ids: list[str]):
    """The input for one field of a lever's form; returns its value (None: left empty)."""
    key, label, help_ = f"lever.{name}.{f.key}", f.label, f.help or None
    if f.kind in ("profession", "programme"):
        table = scenario.professions if f.kind == "profession" else scenario.programmes
        options = ([None] if f.optional else []) + list(table)
        index = options.index(f.default) if f.default in options else 0
        words = (lambda k: "all" if k is None else getattr(table[k], "label", None) or k) if f.kind == "profession" \
            else (lambda k: "all" if k is None else k)
        return st.selectbox(label, options, index=index, key=key, help=help_, format_func=words)
    if f.kind == "places":
        options = geo["region"] + geo["ics"] + geo["place"] + geo["provider"]
        kind = {n: ("ICS" if k == "ics" else k) for k in ("region", "ics", "place", "provider") for n in geo[k]}
        default = [w for w in ([f.default] if isinstance(f.default, str) else f.default or []) if w in options]
        return st.multiselect(label, options, default=default, key=key, help=help_, placeholder="everywhere",
                              format_func=lambda n: f"{n} ({kind[n]})")
    if f.kind == "level":
        options = [None] + list(f.options)
        return st.selectbox(label, options, key=key, help=help_,
                            format_func=lambda v: "the whole scenario" if v is None else v)
    if f.kind == "month":
        options = ([None] if f.optional else []) + months
        index = options.index(str(f.default)) if str(f.default) in options else (0 if f.optional else len(months) - 1)
        empty = "the start" if f.key == "from" else "the end of the run"
        return st.selectbox(label, options, index=index, key=key, help=help_,
                            format_func=lambda v: empty if v is None else v)
    if f.kind == "choice":
        options = list(f.options)
        index = options.index(f.default) if f.default in options else 0
        return st.selectbox(label, options, index=index, key=key, help=help_)
    if f.kind in ("number", "integer"):
        cast = float if f.kind == "number" else int
        lo, hi = (None if v is None else cast(v) for v in (f.minimum, f.maximum))
        value = None if f.default is None else cast(f.default)
        step = 1 if f.kind == "integer" else (0.05 if hi is not None and hi <= 20 else 100.0)
        return st.number_input(label, min_value=lo, max_value=hi, value=value, step=cast(step), key=key, help=help_,
                               placeholder="(empty: the default)" if f.optional else "required",
                               format=None if f.kind == "integer" else "%g")
    if f.kind == "lever_ids":
        default = [i for i in (f.default or []) if i in ids]
        return st.multiselect(label, ids, default=default, key=key, help=help_)
    text = "" if f.default is None else yaml.safe_dump(f.default, default_flow_style=True).strip()
    return st.text_input(label, value=text, key=key, help=(help_ or "") + " (written as in a scenario file, YAML)")


def lever_forms(scenario) -> list[tuple[str, list, dict]]:
    """An expander per registered lever, by People Function outcome area; returns the switched-on ones."""
    geo, months, examples = logic.geography(scenario), logic.months(scenario), lever_examples()
    catalogue = forms.levers_by_area()
    ids = [lv.id or lv.lever for lv in scenario.levers] + \
          [name for name, _ in catalogue if st.session_state.get(f"lever.{name}.on")]
    chosen = []
    for area, group in groupby(catalogue, key=lambda kv: kv[1].area):
        st.markdown(f"**People Function outcome area {area}: {forms.AREAS.get(area, 'other')}**")
        for name, cls in group:
            on_key = f"lever.{name}.on"
            with st.expander(f"{name}: {forms.summary(cls)}", expanded=bool(st.session_state.get(on_key))):
                on = st.toggle("switch on", key=on_key)
                fields = forms.lever_fields(cls, examples.get(name))
                values = {f.key: widget(f, name, scenario, geo, months, [i for i in ids if i != name])
                          for f in fields}
            if on:
                chosen.append((name, fields, values))
    return chosen


def describe(scenario) -> str:
    geo = logic.geography(scenario)
    regions = f" of {len(geo['region'])} regions" if len(geo["region"]) > 1 else ""
    text = " ".join((scenario.description or "").split())
    return (f"**{scenario.name}**: {text[:300]}{'…' if len(text) > 300 else ''}  \nStarts {scenario.start}, "
            f"{scenario.years} years; {len(geo['place'])} places in {len(geo['ics'])} ICS{regions}; "
            f"{len(scenario.professions)} staff groups, {len(scenario.programmes)} training programmes; "
            f"{len(scenario.levers)} levers in its own action plan (in both runs).")


# --- the run tab -----------------------------------------------------------------------------------
def run_tab() -> None:
    st.subheader("1. Scenario")
    shipped = logic.shipped_scenarios()
    choice = st.selectbox("scenario", list(shipped) + [UPLOAD], key="scenario",
                          help="the scenarios that come with wfsim, or your own file")
    if choice == UPLOAD:
        upload = st.file_uploader("scenario file", type=["yaml", "yml"], key="upload")
        if upload is None:
            st.info("Choose a scenario file (the format of configs/baseline_ics.yaml; see docs/app.md).")
            return
        path = logic.save_upload(upload.name, upload.getvalue())
    else:
        path = shipped[choice]
    try:
        scenario = scenario_at(str(path), path.stat().st_mtime)
    except ScenarioError as e:
        show_problems(e)
        return
    st.markdown(describe(scenario))

    st.subheader("2. Levers")
    plans = st.multiselect("shipped action plans to add", list(logic.shipped_plans()), key="plans",
                           help="portfolios of levers written for the default ICS (configs/levers/)")
    st.caption("Switch levers on below; each form comes from the lever's parameters (what, how much, where, "
               "when). The run compares the scenario with them against the scenario as it is.")
    chosen = lever_forms(scenario)

    st.subheader("3. Run")
    c = st.columns(4)
    replicates = c[0].number_input("replicates", min_value=1, max_value=100_000, value=200, step=50,
                                   key="replicates", help="Monte Carlo replicates of each run (a few hundred "
                                                          "give steady percentiles)")
    years = c[1].number_input("years", min_value=1, max_value=int(scenario.years), value=int(scenario.years),
                              key="years", help="horizon from the scenario's start (at most the scenario's)")
    every = c[2].selectbox("output step", logic.EVERY, index=1, key="every")
    seed = c[3].number_input("seed", min_value=0, value=int(scenario.seed), key=f"seed.{path}",   # per scenario
                             help="replicate r of both runs uses the random streams of (seed, r): the runs are paired")
    if st.button("Run", type="primary", key="run"):
        run_now(path, scenario, chosen, [logic.shipped_plans()[p] for p in plans], int(replicates), int(seed),
                int(years), every)
    if "folder" in st.session_state:
        st.divider()
        results_view(Path(st.session_state["folder"]), "run")


def run_now(path, scenario, chosen, plans, replicates, seed, years, every) -> None:
    try:
        levers = [forms.lever_config(name, fields, values, i) for i, (name, fields, values) in enumerate(chosen)]
        spec = logic.experiment_spec(path, scenario, levers=logic.unique_ids(levers, scenario), plans=plans,
                                     replicates=replicates, seed=seed, years=years, every=every)
        exp, folder = logic.prepare(spec)
    except ScenarioError as e:
        show_problems(e)
        return
    runs = len(exp.runs)
    bar = st.progress(0.0, text="preparing (the first run after installing wfsim compiles the simulation "
                                "kernel: about a minute)")
    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text=f"{done} of {total} blocks of replicates done ({runs} runs × "
                                        f"{replicates} replicates)")

    try:
        logic.run(exp, folder, progress)
    except ScenarioError as e:
        show_problems(e)
        return
    bar.progress(1.0, text=f"done in {time.perf_counter() - t0:.1f} s: {runs} runs × {replicates} replicates, "
                           f"saved in {folder}")
    st.session_state["folder"] = str(folder)


# --- results (both tabs) ---------------------------------------------------------------------------
def fmt(v: float, kind: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return {"fte": f"{v:,.0f}", "p": f"{100 * v:.0f}%", "gbp_m": f"£{v:,.1f}m", "gbp": f"£{v:,.0f}"}[kind]


def results_view(folder: Path, key: str) -> None:
    stamp = stamp_of(folder)
    ds, stored = results_at(str(folder), stamp)
    labels = tables.profession_labels(ds)
    base_of = tables.baselines(ds)
    others = [r for r in tables.run_labels(ds) if base_of[r] != r]
    st.subheader(f"Results: {ds.attrs.get('experiment_name', folder.name)}")
    st.caption(f"{ds.attrs.get('question', '')}  \n{ds.sizes['scenario']} runs × {ds.sizes['replicate']} "
               f"replicates, seed {ds.attrs.get('seed')}, output every {ds.attrs.get('time_step')}; folder {folder}")
    c = st.columns([2, 3, 2, 1])
    run = c[0].selectbox("run", others, key=f"{key}.run") if others else tables.run_labels(ds)[0]
    base = base_of[run]
    default = tables.touched_professions(ds, run) or list(labels)[:1]
    professions = c[1].multiselect("staff groups", list(labels), default=default, key=f"{key}.professions",
                                   format_func=labels.get) or default
    areas = tables.areas(ds)
    area = c[2].selectbox("area", list(areas), key=f"{key}.area")
    months = tables.compare_months(ds)
    month = c[3].selectbox("at the end of", months, index=len(months) - 1, key=f"{key}.month")
    places = tuple(areas[area])
    table = paired_at(str(folder), stamp, tuple(professions), places, month)

    if others:
        st.markdown(f"**{run}** against **{base}**, paired replicate by replicate: medians over "
                    f"{ds.sizes['replicate']} replicates at the end of {month}, {area}.")
        for prof in list(professions) + [tables.ALL]:
            h = tables.headline(table, run, prof)
            name = labels.get(prof, prof)
            m = st.columns(5)
            m[0].metric(f"{name}: gap FTE", fmt(h["gap"], "fte"))
            m[1].metric(f"{name}: gap reduction FTE", fmt(h["reduction"], "fte"))
            m[2].metric(f"{name}: P(smaller gap)", fmt(h["p_smaller"], "p"))
            m[3].metric(f"{name}: extra spend", fmt(h["extra_spend"], "gbp_m"),
                        help="all spend from the start to this month, against the baseline (whole scenario)")
            m[4].metric(f"{name}: £ per FTE closed", fmt(h["per_fte"], "gbp"),
                        help="median extra spend ÷ median gap reduction; shown for the whole area where the "
                             "reduction is positive in at least 95% of replicates")
    else:
        st.info("Only the baseline was run: switch a lever on (or add an action plan) to compare.")

    st.markdown("**Supply against demand** (median line, bands: middle 50% and 90% of replicates; hover for values)")
    zero = st.checkbox("y axis from zero", value=True, key=f"{key}.zero",
                       help="from zero the gap's size reads true; without, the lines' detail shows")
    runs = [base, run] if run != base else [base]
    fan = fan_at(str(folder), stamp, tuple(runs), tuple(professions), places)
    st.altair_chart(charts.fan_chart(fan, runs, zero=zero), key=f"{key}.fan")

    readable = tables.readable(table, labels)
    if others:
        st.markdown("**Paired comparison with the baseline** (every run; reduction: median and 5th to 95th "
                    "percentile of the replicate-by-replicate differences)")
        st.altair_chart(charts.reduction_chart(readable[readable.run != base]), key=f"{key}.reduction")
    st.dataframe(readable, hide_index=True, key=f"{key}.table", column_config=number_formats())

    goals = tables.goals(stored)
    if len(goals.columns):
        st.markdown("**Goals**: probability of meeting each of the scenario's goals (share of replicates)")
        st.dataframe(goals.map(lambda v: fmt(v, "p")), key=f"{key}.goals")

    spend = spend_at(str(folder), stamp)
    if len(spend):
        st.markdown("**Spend** by plan year and kind, £ million (median; hover for the 5th to 95th percentile)")
        st.altair_chart(charts.spend_chart(spend), key=f"{key}.spend")
        lever_rows = spend[spend["item"].str.startswith("lever: ") | (spend["item"] == "total")]
        st.dataframe(lever_rows.pivot_table(index=["run", "item"], columns="plan year", values="p50").round(1),
                     key=f"{key}.spend_table")
    downloads(folder, stamp, ds, key)


def number_formats() -> dict:
    num = st.column_config.NumberColumn
    return {c: num(format="%.0f") for c in ("gap FTE", "gap FTE 5th", "gap FTE 95th", "gap reduction FTE",
                                             "reduction 5th", "reduction 95th", "£ per FTE closed")} | {
        "gap share": num(format="percent"), "P(smaller gap)": num(format="percent"),
        "extra spend £m": num(format="%.1f")}


def downloads(folder: Path, stamp: float, ds, key: str) -> None:
    """The dataset, tidy tables and the report; each file is made when its button is pressed."""
    name = ds.attrs.get("experiment_name", folder.name)
    st.markdown("**Download**")
    c = st.columns(5)
    c[0].download_button("dataset (netCDF)", data=lambda: tables.netcdf_bytes(folder), file_name=f"{name}.nc",
                         mime="application/x-netcdf", key=f"{key}.nc", on_click="ignore")
    c[1].download_button("percentiles (CSV)", data=lambda: tidy_at(str(folder), stamp).to_csv(index=False),
                         file_name=f"{name}-percentiles.csv", mime="text/csv", key=f"{key}.csv", on_click="ignore")
    c[2].download_button("comparison (CSV)", data=lambda: results_at(str(folder), stamp)[1].to_csv(index=False),
                         file_name=f"{name}-comparison.csv", mime="text/csv", key=f"{key}.comparison",
                         on_click="ignore")
    c[3].download_button("tables (Excel)", data=lambda: tables.excel_bytes(excel_sheets(folder, stamp)),
                         file_name=f"{name}.xlsx", key=f"{key}.xlsx", on_click="ignore",
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    c[4].download_button("report (HTML)", data=lambda: tables.report_bytes(folder), file_name=f"{name}-report.html",
                         mime="text/html", key=f"{key}.report", on_click="ignore")


def excel_sheets(folder: Path, stamp: float) -> dict:
    ds, stored = results_at(str(folder), stamp)
    return {"comparison": stored, "goals": tables.goals(stored), "spend": spend_at(str(folder), stamp),
            "percentiles": tidy_at(str(folder), stamp)}


# --- the browse tab --------------------------------------------------------------------------------
def browse_tab() -> None:
    root = st.text_input("results folder", value=str(logic.RESULTS), key="browse.root",
                         help="a folder of experiment results (wfsim experiment writes results/<name>/)")
    found = logic.list_experiments(Path(root))
    if not found:
        st.info(f"No experiment results under {root}: run one in the first tab, or `wfsim experiment FILE`.")
        return
    folder = st.selectbox("experiment", found, key="browse.folder", format_func=lambda p: str(p))
    results_view(Path(folder), "browse")


st.set_page_config(page_title="wfsim", layout="wide")
st.title("wfsim: workforce supply and demand")
st.caption("Stochastic simulation of health and care workforce pipelines for England's integrated care systems. "
           "Pick a scenario, switch levers on, run, and compare with the scenario as it is.")
run_panel, browse_panel = st.tabs(["Run a scenario", "Browse experiments"])
with run_panel:
    run_tab()
with browse_panel:
    browse_tab()
