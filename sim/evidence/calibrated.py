"""What a calibration writes: the calibrated scenario (YAML, provenance in its header and description),
the parameter and fit tables, the particles, the generations and the fit figure."""
from __future__ import annotations

from ..vocabulary import package_version

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import yaml

from .. import runs
from ..scenario import scenario_sha256

from .calibrate import CalibrationResult


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def calibrated_yaml(result: CalibrationResult) -> str:
    """The calibrated scenario as YAML, its provenance in the header and the description."""
    cal = result.calibration
    post = result.posterior
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    fitted = [f"#   {r.parameter} = {r.posterior_median:.6g} (90% credible interval {r.ci90_low:.6g} to "
              f"{r.ci90_high:.6g}) {r.units}" for r in result.parameters.itertuples()]
    head = [f"# Calibrated scenario written by wfsim calibrate ({package_version()}) on {when}",
            f"# from {cal.path or 'a calibration dict'}: base scenario {cal.scenario.name} "
            f"(sha256 {scenario_sha256(cal.scenario)[:16]}…),",
            f"# observed {cal.observed_path.name} (sha256 {_sha(cal.observed_path)[:16]}…; {int(result.used.sum())} "
            f"of {len(cal.rows)} rows used).",
            f"# Method: least squares on the mean field ({result.mean_field.evaluations} runs), then ABC-SMC on "
            f"Monte Carlo runs ({cal.spec.abc.particles} particles × {len(post.generations)} generations, final "
            f"tolerance {post.epsilon:.3g} × the observation error, effective sample size {post.ess:.0f}), "
            f"seed {cal.spec.seed}.",
            "# Values set here are the posterior medians:", *fitted]
    data = dict(result.scenario_data)
    data["name"] = f"{cal.scenario.name}-calibrated"[:80]
    note = (f"Calibrated to {cal.observed_path.name} by wfsim calibrate on {when[:10]}: " +
            "; ".join(f"{r.parameter} = {r.posterior_median:.4g} ({r.ci90_low:.4g} to {r.ci90_high:.4g})"
                      for r in result.parameters.itertuples()))
    data["description"] = (str(data.get("description") or "").strip() + "\n" + note).strip()
    runs.load_scenario(data)            # it must validate as written
    return "\n".join(head) + "\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


def write_calibration(result: CalibrationResult, folder: Path, check: pd.DataFrame | None = None) -> list[Path]:
    """Write parameters.csv, fit.csv, particles.csv, generations.csv, calibrated.yaml and fit.png."""
    import matplotlib.pyplot as plt

    from .plots import fit_figure

    folder.mkdir(parents=True, exist_ok=True)
    post = result.posterior
    paths = {n: folder / n for n in ("parameters.csv", "fit.csv", "particles.csv", "generations.csv",
                                     "calibrated.yaml", "fit.png")}
    result.parameters.to_csv(paths["parameters.csv"], index=False, float_format="%.6g")
    fit = result.fit if check is None else result.fit.assign(check_run_mean=check.run_mean.values, check_z=check.z)
    fit.to_csv(paths["fit.csv"], index=False, float_format="%.6g")
    pd.DataFrame(post.theta, columns=result.calibration.names).assign(weight=post.weights).to_csv(
        paths["particles.csv"], index=False, float_format="%.8g")
    pd.DataFrame([g.__dict__ for g in post.generations]).rename_axis("generation").to_csv(
        paths["generations.csv"], float_format="%.6g")
    paths["calibrated.yaml"].write_text(calibrated_yaml(result), encoding="utf-8")
    fig = fit_figure(result.fit, f"{result.calibration.spec.name}: observed against the calibrated model")
    fig.savefig(paths["fit.png"], dpi=110, bbox_inches="tight")
    plt.close(fig)
    return list(paths.values())
