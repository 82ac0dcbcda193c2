"""The national geography and providers (sim/scenario/geography.py, sim/model/locations.py): the three forms,
closed-form provider shares on configs/analytic/national.yaml, and bad input naming the field."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.model.locations import place_sum
from sim.model.compile import compile_base, compile_plan
from sim.scenario import ScenarioError
from sim.scenario.geography import PROVIDER_KINDS

ROOT = Path(__file__).resolve().parents[1]
NATIONAL = ROOT / "configs" / "analytic" / "national.yaml"
BASE = yaml.safe_load(NATIONAL.read_text(encoding="utf-8"))
PROVIDERS = ["North One Acute", "North One Acute Two", "North One GP", "North Two Acute", "North Two Care",
             "Mid A Acute", "Mid A GP", "Mid B One", "South One Acute", "South One GP", "South One Care",
             "South Two Trust"]


def data() -> dict:
    return copy.deepcopy(BASE)


def problems(d: dict) -> dict[str, str]:
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(d)
    return dict(info.value.problems)


@pytest.fixture(scope="module")
def plan():
    return compile_plan(sim.load_scenario(NATIONAL))


# --- the forms and the tree ---------------------------------------------------------------------------------
def test_national_form_names_every_level():
    geo = sim.load_scenario(NATIONAL).geography
    names = geo.names()
    assert names["nation"] == ["Testland"]
    assert names["region"] == ["North", "Midlands", "South"]
    assert names["ics"] == ["North ICS", "Mid A ICS", "Mid B ICS", "South ICS"]
    assert names["place"] == ["North One", "North Two", "Mid A One", "Mid B One", "South One", "South Two"]
    assert names["provider"] == PROVIDERS          # Mid B One lists none: one implicit provider of its name
    assert geo.level_of("Mid B One") == "place" and geo.level_of("South One GP") == "provider"
    sectors = {x.name: x.sector for x in geo.locations()}
    assert sectors["North Two Care"] == "independent_sector"      # given
    assert sectors["South One Care"] == "adult_social_care"       # from the kind
    assert sectors["Mid B One"] is None                          # the implicit provider: kind other


def test_one_ics_and_one_region_forms_still_mean_what_they_did():
    for path in ("configs/baseline_ics.yaml", "configs/region.yaml"):
        scn = sim.load_scenario(ROOT / path)
        plan = compile_base(scn)
        assert plan.places == [p for p, _, _ in scn.geography.place_table()]
        assert plan.nation == "England" and set(plan.place_region) == {scn.geography.region}
        if path.endswith("region.yaml"):          # places without providers: each is one implicit provider
            assert plan.locations == plan.places
            assert np.array_equal(plan.location_place, np.arange(len(plan.places)))
            assert (plan.provider_share == 1.0).all()
        else:                                     # the default ICS lists three providers a place (sectors)
            assert len(plan.locations) == 3 * len(plan.places)
            assert np.array_equal(plan.location_place, np.repeat(np.arange(len(plan.places)), 3))
            np.testing.assert_allclose(place_sum(plan.provider_share, plan.location_place, len(plan.places)), 1.0)


# --- closed-form shares (the config's header states them) --------------------------------------------------------
def test_headcount_is_shared_by_place_population_then_kind_share_then_weight(plan):
    assert plan.locations == PROVIDERS
    nurse = dict(zip(PROVIDERS, plan.init_headcount[plan.professions.index("nurse")]))
    assert nurse == {"North One Acute": 324, "North One Acute Two": 108, "North One GP": 144, "North Two Acute": 384,
                     "North Two Care": 0, "Mid A Acute": 360, "Mid A GP": 120, "Mid B One": 0,
                     "South One Acute": 720, "South One GP": 240, "South One Care": 0, "South Two Trust": 0}
    care = plan.init_headcount[plan.professions.index("care_worker")]
    assert care.tolist() == [108, 36, 36, 60, 60, 75, 75, 150, 100, 100, 100, 300]


def test_intake_and_hires_follow_the_same_shares(plan):
    starters = plan.intake[plan.intake.sum(axis=(1, 2)) > 0][0, 0]
    assert starters.tolist() == [54, 18, 24, 64, 0, 60, 20, 0, 120, 40, 0, 0]
    nurse = plan.professions.index("nurse")
    share = np.array([324, 108, 144, 384, 0, 360, 120, 0, 720, 240, 0, 0]) / 2400
    np.testing.assert_allclose(plan.recruit_rate[0, nurse].sum(axis=-1) * 12, 1200 * share)
    np.testing.assert_allclose(plan.provider_share[nurse], [0.5625, 0.1875, 0.25, 1, 0, 0.75, 0.25, 0, 0.75, 0.25,
                                                            0, 0])


def test_a_staff_move_goes_to_another_place_of_the_ics_then_to_its_providers_by_share(plan):
    dest = plan.move_matrix()[plan.professions.index("nurse")]
    at = {n: i for i, n in enumerate(PROVIDERS)}
    for origin in ("North One Acute", "North One Acute Two", "North One GP"):
        assert dest[at[origin]].tolist() == [1.0 if n == "North Two Acute" else 0.0 for n in PROVIDERS]
    np.testing.assert_allclose(dest[at["North Two Acute"], :3], [0.5625, 0.1875, 0.25])
    assert dest[at["North Two Acute"], 3:].sum() == 0
    for alone in ("Mid A Acute", "South One Acute", "South One GP"):     # no other place of the ICS employs nurses
        assert dest[at[alone]].sum() == 0
        assert (plan.rotation_hazard[:, plan.professions.index("nurse"), at[alone]] == 0).all()


def test_population_is_shown_at_providers_by_weight_and_sums_to_the_place(plan):
    pop = plan.population[0, 0]
    np.testing.assert_allclose(pop[:3], [300000 * 3 / 5, 300000 / 5, 300000 / 5])
    place_pop = np.zeros(len(plan.places))
    np.add.at(place_pop, plan.location_place, pop)
    np.testing.assert_allclose(place_pop, [300000, 200000, 250000, 250000, 500000, 500000])


def test_a_lever_may_name_a_provider(plan):
    nurse = plan.professions.index("nurse")
    base = compile_plan(sim.load_scenario(NATIONAL), apply_levers=False)
    changed = ~np.isclose(plan.leave_hazard[0, nurse], base.leave_hazard[0, nurse])
    assert [n for n, c in zip(PROVIDERS, changed) if c] == ["South One Acute"]
    np.testing.assert_allclose(plan.leave_hazard[0, nurse, 8], 0.5 * base.leave_hazard[0, nurse, 8])


def test_a_lever_where_names_a_place_region_or_the_nation():
    for where, inside in (("North Two", {"North Two Acute", "North Two Care"}),
                          ("Midlands", {"Mid A Acute", "Mid A GP", "Mid B One"}), ("Testland", set(PROVIDERS))):
        d = data()
        d["levers"] = [{"lever": "retention", "profession": "care_worker", "where": where,
                        "leave_rate_multiplier": 0.5}]
        scn = sim.load_scenario(d)
        mask = scn.levers[0].place_mask(compile_base(scn))
        assert {n for n, m in zip(PROVIDERS, mask) if m} == inside


# --- bad input: exit 2 naming the field ------------------------------------------------------------------------
def _national_with(**geo) -> dict:
    d = data()
    d["geography"] = {**d["geography"], **geo}
    return d


BAD = {   # case: (change to the data, field named, text in the message)
    "unknown provider kind": (lambda d: d["geography"]["regions"][0]["icss"][0]["places"][0]["providers"][0]
                              .update(kind="hospital"), "geography.regions.0.icss.0.places.0.providers.0.kind",
                              "acute"),
    "unknown sector": (lambda d: d["geography"]["regions"][0]["icss"][0]["places"][0]["providers"][0]
                       .update(sector="nhs"), "geography.regions.0.icss.0.places.0.providers.0.sector", "nhs_trust"),
    "weight zero": (lambda d: d["geography"]["regions"][0]["icss"][0]["places"][0]["providers"][0].update(weight=0),
                    "geography.regions.0.icss.0.places.0.providers.0.weight", "> 0"),
    "empty provider list": (lambda d: d["geography"]["regions"][1]["icss"][1]["places"][0].update(providers=[]),
                            "geography.regions.1.icss.1.places.0.providers", "at least 1"),
    "employers not adding up to 1": (lambda d: d["professions"]["nurse"].update(employers={"acute": 0.6,
                                                                                          "general_practice": 0.6}),
                                     "professions.nurse.employers", "add up to 1"),
    "employer of an unknown kind": (lambda d: d["professions"]["nurse"].update(employers={"hospital": 1}),
                                    "professions.nurse.employers.hospital", "acute"),
    "employer kind present nowhere": (lambda d: d["professions"]["nurse"].update(employers={"ambulance": 1}),
                                      "professions.nurse.employers.ambulance", "no provider of kind 'ambulance'"),
    "headcount at a place nobody employs it": (
        lambda d: d["professions"]["nurse"].update(headcount={"North One": 1, "North Two": 1, "Mid A One": 1,
                                                              "Mid B One": 5, "South One": 1, "South Two": 0}),
        "professions.nurse.headcount.Mid B One", "no provider at 'Mid B One'"),
    "intake at a place nobody employs it": (
        lambda d: d["programmes"]["nursing_degree"].update(places={"North One": 1, "South Two": 1}),
        "programmes.nursing_degree.places.South Two", "no provider at 'South Two'"),
    "duplicate provider": (lambda d: d["geography"]["regions"][2]["icss"][0]["places"][1]["providers"][0]
                           .update(name="North One GP"), "geography", "provider names must be unique"),
    "duplicate place": (lambda d: d["geography"]["regions"][1]["icss"][1]["places"][0].update(name="North One"),
                        "geography", "place names must be unique"),
    "duplicate ICS": (lambda d: d["geography"]["regions"][1]["icss"][1].update(name="North ICS"), "geography",
                      "ICS names must be unique"),
    "duplicate region": (lambda d: d["geography"]["regions"][2].update(name="North"), "geography",
                         "region names must be unique"),
    "provider named like a place": (lambda d: d["geography"]["regions"][0]["icss"][0]["places"][0]["providers"][0]
                                    .update(name="South Two"), "geography", "may not share its name"),
    "national and regional forms mixed": (lambda d: d["geography"].update(region="North"), "geography",
                                          "national geography"),
    "region without ICSs": (lambda d: d["geography"].update(regions=[{"name": "Nowhere", "icss": []}]),
                            "geography.regions.0.icss", "at least 1"),
    "lever at an unknown provider": (lambda d: d["levers"][0].update(where="South One Hospital"), "levers.0.where",
                                     "is not a provider"),
    "goal at an unknown area": (lambda d: d["goals"][0].update(where="Atlantis"), "goals.0.where",
                                "not a provider, place, ICS or region"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_geography_names_the_field(case):
    change, field, text = BAD[case]
    d = data()
    change(d)
    found = problems(d)
    assert field in found, found
    assert text in found[field], found[field]


def test_every_problem_is_reported_at_once():
    d = data()
    d["professions"]["nurse"]["employers"] = {"ambulance": 1}
    d["levers"][0]["where"] = "South One Hospital"
    assert {"professions.nurse.employers.ambulance", "levers.0.where"} <= set(problems(d))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shares=st.dictionaries(st.sampled_from(["acute", "general_practice", "adult_social_care"]),
                              st.floats(0, 1, allow_nan=False), min_size=1))
def test_property_employer_shares_must_add_up_to_one(shares):
    d = data()
    d["professions"]["nurse"]["employers"] = shares
    if abs(sum(shares.values()) - 1) <= 1e-6:
        if sum(v for k, v in shares.items()) > 0:
            plan = compile_base(sim.load_scenario(d))
            p = plan.professions.index("nurse")
            assert plan.init_headcount[p].sum() == 2400         # every nurse has a provider
        return
    assert "add up to 1" in problems(d)["professions.nurse.employers"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.text(min_size=1, max_size=20).filter(lambda k: k not in PROVIDER_KINDS))
def test_property_an_unknown_kind_is_refused_naming_the_allowed_ones(kind):
    d = data()
    d["geography"]["regions"][0]["icss"][0]["places"][1]["providers"][1]["kind"] = kind
    msg = problems(d)["geography.regions.0.icss.0.places.1.providers.1.kind"]
    assert "adult_social_care" in msg


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(level=st.sampled_from(["region", "ics", "place", "provider"]), pick=st.integers(0, 50))
def test_property_a_name_repeated_at_one_level_is_refused(level, pick):
    d = data()
    regions = d["geography"]["regions"]
    icss = [i for r in regions for i in r["icss"]]
    places = [p for i in icss for p in i["places"]]
    providers = [x for p in places for x in p.get("providers", [])]
    items = {"region": regions, "ics": icss, "place": places, "provider": providers}[level]
    a, b = pick % len(items), (pick // len(items) + 1 + pick) % len(items)
    if a == b:
        b = (a + 1) % len(items)
    items[b]["name"] = items[a]["name"]
    msg = problems(d)["geography"]
    assert "must be unique" in msg and items[a]["name"] in msg


def test_weights_and_kind_shares_split_a_place_exactly():
    d = data()
    d["professions"]["nurse"]["employers"] = {"acute": 0.5, "general_practice": 0.3, "adult_social_care": 0.2}
    plan = compile_base(sim.load_scenario(d))
    p = plan.professions.index("nurse")
    share = dict(zip(PROVIDERS, plan.provider_share[p]))
    # North One: acute 0.5 and GP 0.3 present (care absent): renormalised to 0.625 / 0.375, acute 3:1
    assert share["North One Acute"] == pytest.approx(0.625 * 0.75)
    assert share["North One GP"] == pytest.approx(0.375)
    # North Two: acute 0.5 and care 0.2 → 5/7 and 2/7
    assert share["North Two Acute"] == pytest.approx(5 / 7) and share["North Two Care"] == pytest.approx(2 / 7)
    for k in range(len(plan.places)):
        here = plan.provider_share[p][plan.location_place == k]
        assert here.sum() == pytest.approx(1.0) or here.sum() == 0


def test_wfsim_validate_exits_2_naming_the_geography_fields(tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    good = CliRunner().invoke(app, ["validate", str(NATIONAL)])
    assert good.exit_code == 0 and good.stdout.strip() == "valid", good.output
    d = data()
    d["geography"]["regions"][2]["icss"][0]["places"][0]["providers"][2]["kind"] = "care_home"
    d["professions"]["care_worker"]["employers"] = {"adult_social_care": 0.5, "acute": 0.4}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    r = CliRunner().invoke(app, ["validate", str(path)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    for field in ("geography.regions.2.icss.0.places.0.providers.2.kind", "professions.care_worker.employers"):
        assert f": {field}: " in r.stderr, r.stderr
    d = data()
    d["geography"]["regions"][1]["icss"][0]["name"] = "North ICS"
    path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    r = CliRunner().invoke(app, ["validate", str(path)])
    assert r.exit_code == 2 and ": geography: " in r.stderr and "ICS names must be unique" in r.stderr, r.output
