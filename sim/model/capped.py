"""Expected joiners under a cap on posts, for the mean field: a normal moment closure.

Where hiring is only into vacancies, completers and then experienced hires take posts while a place's
staff are below its funded posts. The engines' staff count S is random, so the expected number placed is
E[min(A, (c - S)+)] for A arrivals, not min(E[A], c - E[S]): applying the cap to expected values
overstated staff in post by up to 5% over ten years for groups at their establishment. The mean field
therefore follows the variance of S as well as its mean (thinning by leavers, Poisson-like arrivals,
censoring at the cap) and takes S and the arrivals as normal: S by Gauss-Hermite quadrature, the
arrivals in closed form. Counts are whole people, so the cap c is the engines' floor(posts) plus a half
(the continuity correction: E[min(X, c)] ≈ E[min(Y, c + 1/2)] for an integer X and a normal Y alike).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import betainc, ndtr, pdtrc

NODES, WEIGHTS = np.polynomial.hermite_e.hermegauss(24)       # for a standard normal
WEIGHTS = WEIGHTS / WEIGHTS.sum()


def thinned_variance(var: np.ndarray, before: np.ndarray, after: np.ndarray, turnover: np.ndarray) -> np.ndarray:
    """Variance of a count after binomial thinning by age, each person of age a leaving with probability
    q_a: ``before`` and ``after`` the expected counts, ``turnover`` = Σ_a after_a q_a. With the age mix
    fixed, Var = s² Var(before) + Σ_a before_a (1 - q_a) q_a, s = after / before."""
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(before > 0, after / np.where(before > 0, before, 1.0), 1.0)
    return s * s * var + turnover


SMALL = 30.0            # arrivals below this mean are counted exactly (binomial or Poisson), above as normal
TERMS = 128             # P(A > k) for k < TERMS: enough for a mean below SMALL


def tail(k: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """P(A > k) for a count A of this mean and variance: binomial where it varies less than its mean (a
    cohort's completers), else Poisson (hires)."""
    k, mean, var = np.broadcast_arrays(k, mean, var)
    out = np.empty(k.shape)
    under = var < mean
    pois = ~under
    out[pois] = pdtrc(k[pois], mean[pois])
    if under.any():
        kk, mu = k[under], mean[under]
        p = np.clip(1.0 - var[under] / mu, 1e-9, 1.0)
        n = mu / p
        out[under] = np.where(kk < n - 1e-12, betainc(kk + 1.0, np.maximum(n - kk, 1e-12), p), 0.0)
    return out


def min_moments(mean: np.ndarray, var: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E[min(A, d)] and E[min(A, d)^2] for arrivals A of the given mean and variance [...] and rooms
    d >= 0 [K, ...] (room between whole numbers: interpolated linearly, exact at whole numbers).

    Below ``SMALL`` A is counted exactly: E[min(A, d)] = Σ_{k<d} P(A > k) and E[min(A, d)^2] =
    Σ_{k<d} (2k+1) P(A > k), as running sums looked up at d; above, normal (a normal's mass below zero
    would make a handful of arrivals a negative number placed).
    """
    d = np.maximum(d, 0.0)
    sd = np.sqrt(np.maximum(var, 0.0))
    safe = np.where(sd > 0, sd, 1.0)
    z = (d - mean) / safe
    below, density = ndtr(z), np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    m1 = mean * below - sd * density + d * (1.0 - below)
    m2 = (mean * mean + var) * below - sd * (mean + d) * density + d * d * (1.0 - below)
    sure = np.minimum(mean, d)
    m1, m2 = np.where(sd > 0, m1, sure), np.where(sd > 0, m2, sure * sure)
    small = np.broadcast_to((mean < SMALL) & (mean > 0), d.shape[1:])
    if small.any():                       # the exact sums, on the elements with few arrivals only
        mu, v = np.broadcast_to(mean, small.shape)[small], np.broadcast_to(var, small.shape)[small]
        terms = min(TERMS, int(np.max(mu + 8.0 * np.sqrt(mu))) + 9)        # P(A > terms) is negligible
        k = np.arange(terms, dtype=float)[:, None]
        above = tail(k, mu[None], np.minimum(v, mu)[None])                  # P(A > k) [terms, n]
        c1 = np.concatenate([np.zeros((1, mu.size)), np.cumsum(above, axis=0)])
        c2 = np.concatenate([np.zeros((1, mu.size)), np.cumsum((2 * k + 1) * above, axis=0)])
        dd = d[:, small]                                                    # [K, n]
        j = np.minimum(np.floor(dd), terms).astype(np.int64)
        frac = np.where(j < terms, dd - j, 0.0)
        here = np.take_along_axis(above, np.minimum(j, terms - 1), axis=0)
        m1[:, small] = np.take_along_axis(c1, j, axis=0) + frac * here
        m2[:, small] = np.take_along_axis(c2, j, axis=0) + frac * (2 * j + frac) * here
    return np.where(d > 0, m1, 0.0), np.where(d > 0, m2, 0.0)


def staff_nodes(mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """[K, ...] quadrature points of the staff count S ~ Normal(mean, var)."""
    return mean[None] + np.sqrt(np.maximum(var, 0.0))[None] * NODES.reshape((-1,) + (1,) * mean.ndim)


def expected_placed(staff: np.ndarray, cap: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """E[min(A, (cap - S)+)] with S at the quadrature points ``staff`` [K, ...] and arrivals A of this mean
    and variance [...]."""
    m1, _ = min_moments(mean, var, np.maximum(cap[None] - staff, 0.0))
    return np.tensordot(WEIGHTS, m1, axes=1)


def filled(staff: np.ndarray, cap: np.ndarray, mean: np.ndarray, var: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The expected number placed, E[min(A, (cap - S)+)], and the mean and variance of the staff count
    S + min(A, (cap - S)+) once the arrivals have taken posts."""
    m1, m2 = min_moments(mean, var, np.maximum(cap[None] - staff, 0.0))
    placed = np.tensordot(WEIGHTS, m1, axes=1)
    first = np.tensordot(WEIGHTS, staff, axes=1) + placed
    second = np.tensordot(WEIGHTS, staff * staff + 2.0 * staff * m1 + m2, axes=1)
    return placed, first, np.maximum(second - first * first, 0.0)
