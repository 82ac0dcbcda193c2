"""The sane ranges of the numbers wfsim reads, and the limits on the files it reads (docs/input-limits.md).

A number that validates must also run: every number of the scenario format, of experiment files and of
the command line has a lower and an upper bound, stated in its description. The bounds are generous
plausibility limits for an English region (far above any real figure), chosen so that no value inside
them can overflow an integer, a date or a float downstream. Like ``sim.vocabulary`` this module sits
below every other and uses nothing of ``sim``.
"""
from __future__ import annotations

# --- numbers in scenario and experiment files --------------------------------------------------------------
PEOPLE = 10_000_000          # a headcount, or people per year or per month (intake, hires, capacities):
                             # more than the whole health and care workforce of England (about 3 million)
POPULATION = 100_000_000     # residents of one place: more than England's population (about 57 million)
POUNDS = 1_000_000_000_000   # £ in any one cost or budget figure: a trillion
WEIGHT = 1_000_000_000       # a relative share of places (renormalised; populations may serve as weights)
ACTIVITY = 1_000_000         # activity units per 1,000 residents per year (1,000 per resident)
ACTIVITY_TOTAL = 1_000_000_000_000   # activity units per year, all places
FTE_PER_RESIDENT = 1_000     # FTE per 1,000 residents: one per resident
FTE_PER_UNIT = 100_000       # FTE per 1,000 activity units a year: a hundred per unit (a unit may be a person
                             # in round-the-clock care, which takes several FTE)
FIRST_YEAR, LAST_YEAR = 1900, 2200   # months and year tables: the run, 50 years at most, ends before 2262,
                                     # the last month xarray's nanosecond time axis can hold
YEARS = 50                   # horizon
REPLICATES = 1_000_000
SEED = 2 ** 63 - 1           # stored as a 64-bit signed integer in every results file
BLOCK = 100_000              # replicates per block of an experiment
GOAL_PEOPLE = 1_000_000_000  # a headcount or FTE goal (all professions and places together)
GAP_SHARE = (-10, 1)         # a goal on gap / demand: 1 (no staff) down to a surplus of ten times demand

# --- the command line ---------------------------------------------------------------------------------------
WORKERS = 256                # worker processes of an experiment

# --- input files (scenarios, action plans, experiments) ------------------------------------------------------
FILE_BYTES = 1 << 20         # 1 MiB: twenty times the largest shipped scenario
NESTING = 32                 # levels of nested mappings and lists (the scenario format needs 8)
NODES = 200_000              # values in a file once YAML aliases are expanded (a billion laughs stops here)
MESSAGE_VALUE = 60           # characters of an input value shown in a message
MESSAGE_LINE = 1_000         # characters of one message line
