"""Evidence for the numbers: global sensitivity analysis, calibration to observed series, and backtests.

``wfsim sensitivity``, ``wfsim calibrate`` and ``wfsim backtest`` (``command.py``); the Python functions
below, imported on first use (so the command line starts fast). Everything here uses wfsim's public API
(``sim.load_scenario``, ``sim.run``, ``sim.expected``).
"""
from importlib import import_module

_WHERE = {
    "load_sensitivity": "sensitivity", "run_sensitivity": "sensitivity", "write_sensitivity": "sensitivity",
    "Sensitivity": "sensitivity", "SensitivityResult": "sensitivity",
    "load_calibration": "calibrate", "fit_calibration": "calibrate", "check_fit": "calibrate",
    "write_calibration": "calibrated", "Calibration": "calibrate", "CalibrationResult": "calibrate",
    "run_backtest": "backtest", "BacktestResult": "backtest",
}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
