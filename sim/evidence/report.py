"""The sensitivity section of ``wfsim report``: present when the experiment's folder holds a sensitivity
analysis (``wfsim sensitivity FILE --out <experiment folder>/sensitivity``)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .sensitivity import RESULT

INDEX_WORDS = {"S1": "first-order Sobol index", "ST": "total Sobol index", "mu_star": "Morris μ*"}


def sensitivity_result(folder: Path) -> Path | None:
    """The sensitivity dataset in an experiment's folder (``sensitivity/`` or the folder itself), if any."""
    for p in (folder / "sensitivity" / RESULT, folder / RESULT):
        if p.is_file():
            return p
    return None


def sensitivity_section(folder: Path, image: Callable[[Path], str], md_table: Callable) -> list[str]:
    """Markdown blocks of the section (none without a sensitivity result)."""
    import xarray as xr

    path = sensitivity_result(Path(folder))
    if path is None:
        return []
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        ds = ds.load()
    sobol = "ST" in ds
    runs = "the mean field" if ds.attrs.get("engine") == "expected" else \
        f"{ds.attrs.get('replicates')} Monte Carlo replicates per run, the same seed for every run (common " \
        f"random numbers)"
    screen = " Inputs were first screened by Morris elementary effects on the mean field; those dropped were " \
             "held at their medians." if ds.attrs.get("screen", "null") != "null" else ""
    method = f"Sobol indices (Saltelli sampling, {ds.attrs.get('samples')} base samples)" if sobol else \
        "Morris screening"
    out = ["## Sensitivity: which assumptions drive the results",
           f"Global sensitivity analysis `{ds.attrs.get('sensitivity_name', '')}` of scenario "
           f"`{ds.attrs.get('scenario_name', '')}` (sha256 `{str(ds.attrs.get('scenario_sha256', ''))[:16]}…`): "
           f"{method} over {ds.sizes['input']} uncertain inputs, using {runs}.{screen} "
           + ("S1 is the share of the output's variance an input explains alone, ST the share it takes part "
              f"in (interactions included); ± is the half-width of the {float(ds.attrs.get('conf_level', 0.95)):.0%} "
              "bootstrap interval." if sobol else "μ* is the mean absolute change in the output when the input "
              "moves across its range.")]
    keys = ("S1", "ST") if sobol else ("mu_star",)
    for o in ds.output.values:
        s = ds.sel(output=o)
        order = s[keys[-1]].fillna(-1).argsort().values[::-1]
        rows = []
        for i in order:
            if s[keys[-1]].values[i] != s[keys[-1]].values[i]:
                continue
            rows.append([str(ds.input.values[i]), str(ds.input_distribution.values[i]), str(ds.input_units.values[i])]
                        + [f"{s[k].values[i]:.3g} ± {s[k + '_conf'].values[i]:.2g}" for k in keys])
        out.append(f"**{o}** ({ds.output_units.sel(output=o).item()})")
        out.append(md_table(["input", "range", "units"] + [INDEX_WORDS[k] for k in keys], rows))
    figure = path.parent / "sensitivity.png"
    if figure.is_file():
        what = "Sensitivity indices of each uncertain input for each output, largest first"
        out += [f"![{what}]({image(figure)})", f"*{what}.*"]
    return out
