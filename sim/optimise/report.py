"""The optimisation section of ``wfsim report``: present when the experiment's folder is an optimisation's
(``wfsim optimise`` writes its evaluation experiment there, with ``optimisation.json`` beside it)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .outputs import FIGURE, read_summary


def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _m(x) -> str:
    return "—" if x is None else (f"{x:,.2f}" if abs(x) < 10 else f"{x:,.1f}")


def _decisions_md(s: dict, md_table: Callable) -> str:
    rows = [[name, f"{d['lever']}.{d['field']}", f"{d['low']} to {d['high']}",
             str(s["best"]["decisions"][name]) if s.get("best") else "—"] for name, d in s["decisions"].items()]
    return md_table(["decision", "lever field", "bounds", "chosen"], rows)


def _fresh_md(s: dict, md_table: Callable) -> str:
    n_con = len(s["constraints"])
    header = ["plan", "extra spend £m", "gap", "risk"] + [f"P({c + 1}) (95% interval)" for c in range(n_con)] + \
        (["meets the goals"] if n_con else [])
    rows = []
    for r in s["fresh"]:
        cells = [r["variant"], _m(r["spend_m"]), "—" if r["gap"] is None else f"{r['gap']:.4g}", _pct(r["risk"])]
        cells += [f"{_pct(r[f'P({c})'])} ({_pct(r[f'P({c}) low'])} to {_pct(r[f'P({c}) high'])})"
                  for c in range(1, n_con + 1)]
        if n_con:
            cells.append("yes" if r["meets"] else "no")
        rows.append(cells)
    return md_table(header, rows)


def optimise_section(folder: Path, image: Callable[[Path], str], md_table: Callable) -> list[str]:
    """Markdown blocks of the section (none when the folder holds no optimisation)."""
    s = read_summary(Path(folder))
    if s is None:
        return []
    o, search, ev = s["objective"], s["search"], s["evaluate"]
    minimise = o["minimise"] if isinstance(o["minimise"], str) else " and ".join(o["minimise"])
    spend = "all workforce spend" if o.get("spend", "all") == "all" else "the action plan's own spend"
    rate = o.get("discount_rate", 0)
    robust = s["robust"]
    futures = s["futures"]
    across = "" if len(futures) < 2 else {
        "mean": f" Futures ({', '.join(futures)}) are pooled, each equally likely.",
        "worst": f" Robust mode: each number is the worst of the futures ({', '.join(futures)}).",
        "cvar": f" Robust mode: spend and gap are the mean of the worst {robust['alpha']:.0%} of replicates pooled over "
                f"the futures ({', '.join(futures)}); a chance constraint asks that the mean of the worst (1 − p) "
                "share of its metric meet the goal."}[robust["measure"]]
    out = ["## Optimisation: the best plan under the goals",
           f"`wfsim optimise {s['file']}` searched {search['finished']} plans (sampler {search['sampler']}, "
           f"batches of {search['batch']}) on {search['replicates']} replicates each with seed {search['seed']} "
           f"(common random numbers: every plan sees the same replicates), to minimise {minimise}. Spend is "
           f"{spend}, extra against the base scenario, replicate by replicate, to {o.get('to') or 'the horizon'}"
           + (f", discounted at {rate:.1%} a year" if rate else "") + "." + across
           + (" Constraints (judged in the search on the lower end of a one-sided Wilson interval at "
              f"{search['confidence']:.0%} confidence): " + "; ".join(s["constraints"]) + "." if s["constraints"]
              else ""),
           _decisions_md(s, md_table)]
    best = s.get("best")
    if best:
        line = (f"Chosen: trial {best['trial']}; on the search's replicates extra spend £{_m(best['search']['spend_m'])}m"
                + "".join(f", P({c}) {_pct(best['search'][f'P({c})'])}" for c in range(1, len(s['constraints']) + 1)))
        if best.get("fresh"):
            f = best["fresh"]
            line += (f". On {ev['replicates']} fresh replicates (seed {ev['seed']}): extra spend £{_m(f['spend_m'])}m"
                     + "".join(f", P({c}) {_pct(f[f'P({c})'])}" for c in range(1, len(s['constraints']) + 1))
                     + (" — it meets the goals." if f.get("meets") else " — it does NOT meet the goals on fresh "
                        "replicates (the search's estimate was lucky or too close to the line)." if s["constraints"]
                        else "."))
        out.append(line + " The plan is `best_plan.yaml` in this folder (`wfsim run --plan` takes it).")
    else:
        out.append(f"No plan found: {s.get('why_none')}")
    if s["fresh"]:
        out += [f"Every plan on fresh replicates ({ev['replicates']} per run, seed {ev['seed']}), with the same "
                "measures as the search:", _fresh_md(s, md_table)]
    if s.get("frontier"):
        rows = [[str(r["trial"]), _m(r["spend_m"]), "—" if r["gap"] is None else f"{r['gap']:.4g}", _pct(r["risk"])]
                for r in s["frontier"]]
        out += [f"Pareto frontier of the search ({len(rows)} plans, on the search's replicates):",
                md_table(["trial", "extra spend £m", "gap", "risk"], rows)]
    figure = Path(folder) / FIGURE
    if figure.is_file():
        out.append(f"![optimisation]({image(figure)})")
    return out
