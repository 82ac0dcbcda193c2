"""The England scenario (configs/england.yaml) and its national plan (configs/levers/ltwp.yaml): the places add up
to the published ICB, region and England populations written in the file's comments, each staff group's national
total is the figure its comment cites, the start is calibrated (required FTE = FTE × (1 − sickness) / (1 −
vacancy)), and the scenario, the plan and the experiment validate."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

import sim
from sim.model.compile import compile_plan

ROOT = Path(__file__).resolve().parents[1]
ENGLAND = ROOT / "configs" / "england.yaml"
LTWP = ROOT / "configs" / "levers" / "ltwp.yaml"
EXPERIMENT = ROOT / "experiments" / "england_ltwp.yaml"
TEXT = ENGLAND.read_text(encoding="utf-8")
DATA = yaml.safe_load(TEXT)

# National totals the file cites (docs/reference-figures.md), per staff group: (measure, figure, source).
# "fte" is compared with headcount × fte_per_head, "fte+trainees" adds the in-service trainees of the
# programmes' steady pipelines at the start, "headcount" with the headcount.
CITED = {
    "registered_nurse": ("fte", 366_438, "Nuffield Trust staffing tracker, Mar 2024"),
    "nursing_associate": ("fte", 6_161, "DHSC written answer, NHS trusts and ICBs, Sep 2024"),
    "healthcare_support_worker": ("fte+trainees", 299_000, "NHS Digital via Statista, HCHS support staff, Nov 2023"),
    "consultant": ("fte", 55_900, "45,800 FTE Sep 2017 + 6 × 1,689 a year (NHS Digital; DHSC answer 2023)"),
    "sas_doctor": ("headcount", 17_000, "assumption from GMC 2022 SAS and LE doctors"),
    "resident_doctor": ("headcount", 25_000, "assumption: locally employed doctors"),
    "gp": ("headcount", 38_124, "BMA analysis of NHS Digital, fully qualified GPs, Sep 2024"),
    "allied_health_professional": ("fte", 90_000, "82,000 FTE Nov 2021 grown to late 2024"),
    "adult_social_care_worker": ("headcount", 1_590_000, "Skills for Care 2024/25"),
}
ENGLAND_MID_2024 = 58_620_101
KINDS = ["acute", "community_mental_health", "general_practice", "adult_social_care", "adult_social_care"]


def ons_total(name: str) -> int:
    """The ONS mid-2024 population written in the comment on the geography line naming ``name``."""
    line = re.search(rf"- name: \"?{re.escape(name)}\"?\s+# ONS mid-2024: ([\d,]+)", TEXT)
    assert line, f"no ONS mid-2024 comment on {name!r}"
    return int(line.group(1).replace(",", ""))


def regions():
    return DATA["geography"]["regions"]


def test_places_add_up_to_the_published_ics_region_and_england_populations():
    assert DATA["geography"]["nation"] == "England"
    assert len(regions()) == 7
    icss = [i for r in regions() for i in r["icss"]]
    places = [p for i in icss for p in i["places"]]
    assert (len(icss), len(places)) == (42, 106)
    for region in regions():
        for ics in region["icss"]:
            assert sum(p["population"] for p in ics["places"]) == ons_total(ics["name"]), ics["name"]
        assert sum(ons_total(i["name"]) for i in region["icss"]) == ons_total(region["name"]), region["name"]
        comment = re.search(rf"- name: {re.escape(region['name'])}\s+# .*; (\d+) ICBs, (\d+) places\)", TEXT)
        assert (int(comment.group(1)), int(comment.group(2))) == (len(region["icss"]),
                                                                  sum(len(i["places"]) for i in region["icss"]))
    total = sum(p["population"] for p in places)
    assert total == sum(ons_total(r["name"]) for r in regions()) == ENGLAND_MID_2024
    assert f"England mid-2024 = {ENGLAND_MID_2024:,}" in TEXT
    # the header's sum of the regions is the one the file states
    stated = re.search(r"North East and Yorkshire ([\d,]+) \+ North West ([\d,]+) \+ Midlands ([\d,]+) \+ East of "
                       r"England\s*#?\s*([\d,]+) \+ London ([\d,]+) \+ South East ([\d,]+) \+ South West ([\d,]+) = "
                       r"([\d,]+)", TEXT.replace("\n#  ", " "))
    numbers = [int(x.replace(",", "")) for x in stated.groups()]
    assert numbers[:7] == [ons_total(r["name"]) for r in regions()] and sum(numbers[:7]) == numbers[7] == total


def test_every_place_has_the_five_aggregate_providers_and_names_are_unique():
    names = {"region": [], "ics": [], "place": [], "provider": []}
    for region in regions():
        names["region"].append(region["name"])
        for ics in region["icss"]:
            names["ics"].append(ics["name"])
            for place in ics["places"]:
                names["place"].append(place["name"])
                providers = place["providers"]
                assert [p["kind"] for p in providers] == KINDS, place["name"]
                names["provider"] += [p["name"] for p in providers]
                care = [p for p in providers if p["kind"] == "adult_social_care"]
                assert sum(p["weight"] for p in care) == pytest.approx(1.0)
                assert [p.get("sector") for p in care] == [None, "independent_sector"]
    everything = [n for level in names.values() for n in level]
    assert len(set(everything)) == len(everything) == 7 + 42 + 106 + 530


@pytest.mark.parametrize("profession", sorted(CITED))
def test_each_staff_group_totals_the_cited_national_figure(profession):
    measure, figure, _ = CITED[profession]
    p = DATA["professions"][profession]
    assert f"{figure:,}" in TEXT, f"{figure:,} is not cited in the file"
    heads = p["headcount"]
    if measure == "headcount":
        assert heads == figure
        return
    if measure == "fte+trainees":
        plan = compile_plan(sim.load_scenario(ENGLAND))
        k = plan.professions.index(profession)
        heads += sum(int(n) for j, _, _, n in plan.init_cohorts if plan.prog_trainee_prof[j] == k)
    # within rounding: one person's FTE
    assert abs(heads * p["fte_per_head"] - figure) <= p["fte_per_head"]


def test_the_start_is_calibrated_nationally():
    """Demand at the start (from the default ICS's staffing ratios and England's activity) is each group's FTE,
    trainees included, × (1 − sickness) / (1 − vacancy rate), so the base-year gap is the vacancy rate."""
    scenario = sim.load_scenario(ENGLAND)
    plan = compile_plan(scenario)
    heads = plan.init_headcount.reshape(len(plan.professions), -1).sum(axis=1).astype(float)
    for j, _, _, n in plan.init_cohorts:
        if plan.prog_trainee_prof[j] >= 0:
            heads[plan.prog_trainee_prof[j]] += n
    for k, name in enumerate(plan.professions):
        p = scenario.professions[name]
        required = heads[k] * p.fte_per_head * (1 - p.sickness_absence) / (1 - p.vacancy_rate)
        assert plan.demand_fte[0, k].sum() == pytest.approx(required, rel=2e-3), name


def test_scenario_plan_and_experiment_validate():
    scenario = sim.load_scenario(ENGLAND, plans=[LTWP])
    assert len(scenario.levers) == len(yaml.safe_load(LTWP.read_text(encoding="utf-8"))["levers"])
    assert {lever.owner for lever in scenario.levers} == {"national"}
    assert scenario.budgets.owners == {"national": 480_000_000}
    from sim.experiments.spec import load_experiment

    experiment = load_experiment(EXPERIMENT)
    assert [r.label for r in experiment.runs] == ["baseline", "ltwp"]
    assert experiment.spec.level == "ics" and experiment.spec.every == "year"


def test_the_plan_reaches_the_ltwp_intakes_on_england():
    """training_places shares on England's own intakes give the LTWP's places in the target years."""
    scenario = sim.load_scenario(ENGLAND, plans=[LTWP])
    plan = compile_plan(scenario)
    intake = plan.intake.sum(axis=-1)                              # [M, G] places a month, all places

    def places(programme, year, month):
        m = (year - 2026) * 12 + month - 4
        return intake[m, plan.programmes.index(programme)]

    assert places("nursing_degree", 2028, 9) + places("nursing_degree_apprenticeship", 2028, 9) == \
        pytest.approx(40_000, rel=1e-3)
    assert places("nursing_degree", 2031, 9) + places("nursing_degree_apprenticeship", 2031, 9) == \
        pytest.approx(53_858, rel=1e-3)
    assert places("nursing_degree_apprenticeship", 2031, 9) / 53_858 == pytest.approx(0.28, abs=1e-3)
    assert places("nursing_associate_apprenticeship", 2028, 9) == pytest.approx(7_000, rel=1e-3)
    assert places("nursing_associate_apprenticeship", 2031, 9) == pytest.approx(10_500, rel=1e-3)
    assert places("gp_specialty_training", 2031, 8) == pytest.approx(6_000, rel=1e-3)
    assert places("foundation_training", 2036, 8) == pytest.approx(15_000, rel=1e-3)
    assert np.all(intake >= 0)


@pytest.fixture(scope="module")
def england_by_level():
    """Two replicates of England's first two years, yearly, by ICS and for the nation (same seed)."""
    return {level: sim.run(ENGLAND, replicates=2, years=2, every="year", level=level) for level in ("ics", "nation")}


def test_results_by_ics_add_up_to_the_nation(england_by_level):
    by_ics, nation = england_by_level["ics"], england_by_level["nation"]
    assert by_ics.sizes["ics"] == 42 and len(set(by_ics.region.values)) == 7 and nation.sizes["nation"] == 1
    for name in ("headcount", "joiners", "leavers", "trainees", "completions", "unplaced"):     # counts: exactly
        summed = by_ics[name].sum("ics").values
        assert np.array_equal(summed, nation[name].isel(nation=0).values), name
    for name in ("fte", "demand_fte", "gap_fte", "vacancies", "unmet_fte"):           # float32 of exact sums
        summed = by_ics[name].astype("float64").sum("ics").values
        np.testing.assert_allclose(nation[name].isel(nation=0).values, summed, rtol=1e-6, err_msg=name)
    assert int(nation.headcount.isel(time=0, replicate=0).sum()) > 2_500_000     # England's ~2.6m staff


def test_the_nation_is_the_sum_of_its_ics_populations(england_by_level):
    by_ics = england_by_level["ics"]
    assert int(round(float(by_ics.population.isel(time=0).sum()))) == pytest.approx(ENGLAND_MID_2024, rel=0.02)
    for region in regions():
        listed = {i["name"] for i in region["icss"]}
        assert set(by_ics.ics.values[by_ics.region.values == region["name"]]) == listed


@pytest.mark.slow
def test_budget_control_holds_the_national_body_to_its_budget_on_england(tmp_path):
    """One plan year of England with the LTWP plan and a national budget far below its retention spend: the
    national body's levers are scaled so that their expected cost is within the budget (two mean-field
    projections of 530 providers by month of age: ~5 minutes on 2 shared cores)."""
    from sim.runs.budgets import budget_control
    from sim.runs.simulation import with_horizon

    data = yaml.safe_load(LTWP.read_text(encoding="utf-8"))
    data["budgets"] = {"national": 1_000_000}
    plan = tmp_path / "ltwp_small_budget.yaml"
    plan.write_text(yaml.safe_dump(data), encoding="utf-8")
    scenario = with_horizon(sim.load_scenario(ENGLAND, plans=[plan]), 1)
    ctl = budget_control(scenario)
    k = ctl.owners.index("national")
    assert ctl.cost[0, k] > 1_000_000 * 0.5                     # (the year's months from April: a whole year)
    # scaled pro rata (budget ÷ expected cost): smaller levers keep fewer staff to pay for, so a little under
    assert 0.99 * ctl.budget[0, k] <= ctl.spend[0, k] <= ctl.budget[0, k] * (1 + 1e-9)
    assert ctl.scale[:, k].min() < 1.0 and ctl.over() == ["national"]
