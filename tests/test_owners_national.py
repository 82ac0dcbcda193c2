"""Owners and budgets on a national geography with providers (configs/analytic/national.yaml): owners at every
level from the national body to a provider, footprints made of providers, budgets passed down to regions and
providers by population (closed forms), spend by owner the same at every output level, and a lever outside its
owner's footprint refused naming ``levers.i.where``."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

import sim
from sim.model.compile import compile_base
from sim.runs.budgets import owner_budgets, plan_years
from sim.scenario import ScenarioError
from sim.scenario.owners import footprints, owner_level, owner_table, top_owner
from sim.vocabulary import LEVELS

ROOT = Path(__file__).resolve().parents[1]
NATIONAL = ROOT / "configs" / "analytic" / "national.yaml"
BASE = yaml.safe_load(NATIONAL.read_text(encoding="utf-8"))
NORTH_ONE = ("North One Acute", "North One Acute Two", "North One GP")
COST = {"north": 120_000.0, "mid_a": 240_000.0, "south_one": 360_000.0, "south_one_acute": 480_000.0}


def productivity(id_: str, owner: str, cost: float, **more) -> dict:
    """A lever with a running cost (£ a year, monthly, times its delivered size): its spend is a closed form."""
    return {"lever": "productivity", "id": id_, "owner": owner, "profession": "care_worker", "gain": 0.1,
            "cost_per_year": cost, **more}


def data(levers=None, budgets=None) -> dict:
    d = copy.deepcopy(BASE)
    d["levers"] = levers if levers is not None else [
        productivity("north", "North", COST["north"]), productivity("mid_a", "Mid A ICS", COST["mid_a"]),
        productivity("south_one", "South One", COST["south_one"]),
        productivity("south_one_acute", "South One Acute", COST["south_one_acute"])]
    d["goals"] = []
    if budgets is not None:
        d["budgets"] = budgets
    return d


def yearly(a: np.ndarray) -> np.ndarray:
    """[..., plan year, owner] from monthly [..., month, owner] (the toy starts in April)."""
    return a.reshape(a.shape[:-2] + (a.shape[-2] // 12, 12, a.shape[-1])).sum(axis=-2)


def first_year_budgets(d: dict) -> dict[str, float]:
    s = sim.load_scenario(d)
    base = compile_base(s)
    b = owner_budgets(base, s, plan_years(s.start, base.months))[0]
    return {o: float(x) for o, x in zip(base.owners, b) if np.isfinite(x)}


def test_footprints_are_made_of_providers():
    geo = sim.load_scenario(NATIONAL).geography
    fp = footprints(geo)
    assert len(fp["national"]["national"]) == 12 and top_owner(geo) == "national"
    assert fp["region"]["Midlands"] == ("Mid A Acute", "Mid A GP", "Mid B One")
    assert fp["ics"]["North ICS"] == NORTH_ONE + ("North Two Acute", "North Two Care")
    assert fp["place"]["North One"] == NORTH_ONE and fp["provider"]["South One GP"] == ("South One GP",)
    assert "Mid B One" not in fp["provider"] and owner_level("Mid B One", geo) == "place"   # implicit provider
    assert [owner_level(n, geo) for n in ("national", "South", "South ICS", "South One", "South One Acute")] \
        == ["national", "region", "ics", "place", "provider"]


def test_owners_at_every_level_spend_their_levers_cost_at_every_output_level():
    """Each owner spends its lever's £ a year; the spend is not by area, so every output level reports it the
    same; each lever changes required FTE only at the providers of its owner's footprint."""
    s = sim.load_scenario(data())
    assert owner_table(s) == [("North", "region"), ("Mid A ICS", "ics"), ("South One", "place"),
                              ("South One Acute", "provider")]
    by_level = {level: sim.expected(s, years=2, level=level) for level in LEVELS}
    want = np.tile([COST[k] for k in ("north", "mid_a", "south_one", "south_one_acute")], (2, 1))
    for level, ds in by_level.items():
        assert list(ds.owner_level.values) == ["region", "ics", "place", "provider"], level
        np.testing.assert_allclose(yearly(ds.spend_by_owner.values), want, rtol=1e-12, err_msg=level)
        np.testing.assert_array_equal(ds.spend_by_owner.values, by_level["provider"].spend_by_owner.values)
    runs = {level: sim.run(s, replicates=2, seed=7, years=2, level=level) for level in ("provider", "nation")}
    np.testing.assert_array_equal(runs["provider"].spend_by_owner.values, runs["nation"].spend_by_owner.values)
    np.testing.assert_allclose(yearly(runs["nation"].spend_by_owner.values), np.stack([want] * 2), rtol=1e-12)

    plain = sim.expected(sim.load_scenario(data(levers=[])), years=2, level="provider")
    ratio = (by_level["provider"].demand_fte / plain.demand_fte).sel(profession="care_worker").isel(time=0)
    touched = {"North One Acute", "North One Acute Two", "North One GP", "North Two Acute", "North Two Care",
               "Mid A Acute", "Mid A GP", "South One Acute", "South One GP", "South One Care"}
    gains = {"South One Acute": 1.1 ** 2}              # its place's lever and its own
    for name, r in zip(ratio.provider.values, ratio.values):
        want_ratio = 1 / gains.get(name, 1.1) if name in touched else 1.0
        assert r == pytest.approx(want_ratio, rel=1e-6), name


def test_a_national_budget_passes_to_regions_by_population_and_controls_the_regions_levers():
    """£960,000 to regions by residents (North 500,000, Midlands 500,000, South 1,000,000 of 2,000,000):
    North receives £240,000 against its lever's £120,000 (no change); with £240,000 nationally it gets
    £60,000, half its cost, and its lever runs at half size."""
    budgets = {"national": 960_000, "allocate": {"national": {"to": "region"}}}
    assert first_year_budgets(data(budgets=budgets)) == pytest.approx(
        {"national": 0.0, "North": 240_000, "Midlands": 240_000, "South": 480_000})
    d = data(levers=[productivity("north", "North", COST["north"])],
             budgets={"national": 240_000, "allocate": {"national": {"to": "region"}}})
    for level in ("provider", "region", "nation"):
        ds = sim.expected(sim.load_scenario(d), years=2, level=level)
        assert list(ds.owner.values) == ["national", "North", "Midlands", "South"]
        np.testing.assert_allclose(ds.budget_scale.sel(owner="North").values, 0.5)
        np.testing.assert_allclose(yearly(ds.spend_by_owner.values)[:, 1], [COST["north"] / 2] * 2, rtol=1e-12)
        assert ds.attrs["owners_over_budget"] == "North"


def test_an_ics_budget_passes_to_its_providers_by_population():
    """North ICS's £500,000 by residents: North One's 300,000 shared by weight 3:1:1 over its providers,
    North Two's 200,000 equally over its two."""
    got = first_year_budgets(data(levers=[], budgets={"North ICS": 500_000, "allocate": {"North ICS": {"to": "provider"}}}))
    assert got == pytest.approx({"North ICS": 0.0, "North One Acute": 180_000, "North One Acute Two": 60_000,
                                 "North One GP": 60_000, "North Two Acute": 100_000, "North Two Care": 100_000})


def problems(d: dict) -> dict[str, str]:
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(d)
    return dict(info.value.problems)


@pytest.mark.parametrize("owner, where, ok", [
    ("North One", "North One GP", True), ("North", "North Two", True), ("national", "Testland", True),
    ("North One", "North Two Acute", False), ("South One Acute", "South One", False),
    ("North", "Testland", False), ("Mid A ICS", "Mid B One", False)])
def test_a_lever_acts_only_inside_its_owners_footprint(owner, where, ok):
    d = data(levers=[productivity("x", "North", 1.0), productivity("y", owner, 1.0, where=where)])
    if ok:
        sim.load_scenario(d)
        return
    msg = problems(d)["levers.1.where"]
    assert "outside the footprint of its owner" in msg and repr(owner) in msg


def test_a_lever_outside_its_owner_exits_2_naming_the_field(tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    d = data(levers=[productivity("x", "South One Acute", 1.0, where="South One GP"),
                     productivity("y", "Atlantis", 1.0)])
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    r = CliRunner().invoke(app, ["validate", str(path)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert ": levers.0.where: 'South One GP' is outside the footprint of its owner 'South One Acute'" in r.stderr
    assert ": levers.1.owner: unknown owner 'Atlantis'" in r.stderr and "South One Acute" in r.stderr
