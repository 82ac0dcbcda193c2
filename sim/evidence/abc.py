"""ABC-SMC: an approximate Bayesian posterior from Monte Carlo runs, with tolerances that shrink to the
observation error.

Why not pyabc: it draws from numpy's global random state (pyABC issue #400, open), so a seed does not fix
its results, and it keeps every generation in an SQL database; wfsim promises that one seed gives one
answer and keeps no global random state. This is the population Monte Carlo ABC of Beaumont et al. (2009,
Biometrika 96:983) with the adaptive tolerances of Del Moral, Doucet & Jasra (2012, Stat Comput 22:1009):

- Each generation proposes ``particles`` parameter vectors (the first from a Gaussian around the mean-field
  fit mixed with the prior, later ones by perturbing the previous weighted particles with their weighted
  covariance), and runs each a few times (replicates of one seed per particle).
- Particles are weighted by prior × mean over runs of K_ε ÷ proposal density, where K_ε is the Gaussian
  observation-error density of (simulated − observed) raised to 1/ε² (for a fixed error, the Gaussian
  kernel of width ε × standard error; tempered as a whole so that a fitted error scale stays balanced).
- ε is the smallest value ≥ 1 that keeps ``ess_fraction`` of the effective sample size that the previous
  tolerance would give the same particles.
  At ε = 1 the kernel *is* the observation-error model, so the weighted particles target the exact
  posterior of "observed = one model run + Gaussian error" (Wilkinson 2013, Stat Appl Genet Mol Biol
  12:129); the run stops after a generation at ε = 1 whose proposal was already fitted at ε = 1.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import stats


@dataclass
class Generation:
    epsilon: float
    ess: float
    simulations: int


@dataclass
class Posterior:
    theta: np.ndarray            # (particles, parameters)
    weights: np.ndarray          # (particles,), normalised
    sims: np.ndarray             # (particles, runs, rows): each particle's model runs, every row
    run_weights: np.ndarray      # (particles, runs): each run's share of its particle's weight (its kernel)
    generations: list[Generation] = field(default_factory=list)

    @property
    def epsilon(self) -> float:
        return self.generations[-1].epsilon

    @property
    def ess(self) -> float:
        return ess(self.weights)

    def quantile(self, q) -> np.ndarray:
        """Weighted quantiles of each parameter: (len(q), parameters)."""
        return np.stack([weighted_quantile(self.theta[:, j], self.weights, q)
                         for j in range(self.theta.shape[1])], axis=1)

    def resample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(particle, run) indices of ``n`` runs drawn by weight (systematic resampling): draws from the
        joint posterior of the parameters and the random path, given the observed rows."""
        w = (self.weights[:, None] * self.run_weights).ravel()
        u = (rng.random() + np.arange(n)) / n
        flat = np.minimum(np.searchsorted(np.cumsum(w) / w.sum(), u), len(w) - 1)
        return np.unravel_index(flat, self.run_weights.shape)


def ess(w: np.ndarray) -> float:
    return float(1.0 / np.sum(w ** 2)) if np.all(np.isfinite(w)) and w.sum() > 0 else 0.0


def weighted_quantile(x: np.ndarray, w: np.ndarray, q) -> np.ndarray:
    """Quantiles of the weighted sample (interpolated, as numpy's for equal weights)."""
    order = np.argsort(x)
    x, w = x[order], w[order]
    cw = np.cumsum(w) - 0.5 * w
    cw /= w.sum()
    return np.interp(np.atleast_1d(q), cw, x)


def _normalise(logw: np.ndarray) -> np.ndarray:
    finite = np.isfinite(logw)
    if not finite.any():
        return np.zeros_like(logw)
    w = np.where(finite, np.exp(logw - logw[finite].max()), 0.0)
    return w / w.sum()


def _mvn_logpdf(x: np.ndarray, centres: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """log N(x_i; centre_j, cov) for all i, j: (len(x), len(centres))."""
    L = np.linalg.cholesky(cov)
    z = np.linalg.solve(L, (x[:, None, :] - centres[None, :, :]).reshape(-1, x.shape[1]).T).T
    z = z.reshape(len(x), len(centres), -1)
    return -0.5 * (z ** 2).sum(-1) - np.log(np.diag(L)).sum() - 0.5 * x.shape[1] * np.log(2 * np.pi)


def _logsumexp(a: np.ndarray, axis: int, b: np.ndarray | None = None) -> np.ndarray:
    from scipy.special import logsumexp
    return logsumexp(a, axis=axis, b=b)


def _spd(cov: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """A covariance that Cholesky accepts: symmetric, with a floor on each variance."""
    cov = 0.5 * (cov + cov.T)
    floor = (1e-6 * scale) ** 2
    cov = cov + np.diag(np.maximum(floor - np.diag(cov), 0) + floor)
    return cov


def abc_smc(prior, simulate: Callable, loglik: Callable, *, particles: int, rng: np.random.Generator,
            start: tuple[np.ndarray, np.ndarray] | None = None, max_generations: int = 10,
            ess_fraction: float = 0.5, min_ess: float = 0.1, defensive: float = 0.2,
            progress: Callable | None = None) -> Posterior:
    """Run ABC-SMC.

    ``prior``: ``logpdf(theta)`` (−inf outside the support), ``sample(n, rng)``, ``inside(theta)`` and
    ``scale`` (a typical width per parameter). ``simulate(theta, seeds, generation)`` → (particles, runs,
    rows) model values; ``loglik(theta, sims, eps)`` → (particles, runs) log kernels at tolerance ``eps``
    (a particle's likelihood estimate is the mean of its runs' kernels: unbiased, so the weights target the
    posterior whatever the number of runs; more runs only steady them). ``start``: (mean, covariance) of the
    mean-field fit, the first proposal's centre.
    """
    gens: list[Generation] = []
    theta, logq = _first_proposal(prior, particles, rng, start, defensive)
    eps_prev = np.inf
    at_one = 0
    for g in range(max_generations):
        seeds = rng.integers(0, 2 ** 31 - 1, size=particles)
        sims = simulate(theta, seeds, g)
        logp = prior.logpdf(theta)

        def weights(eps):
            if not np.isfinite(eps):                # no tolerance yet: the prior over the proposal only
                return _normalise(logp - logq), np.zeros(sims.shape[:2])
            lk = loglik(theta, sims, eps)
            return _normalise(logp + _logsumexp(lk, axis=1) - np.log(lk.shape[1]) - logq), lk

        # shrink ε while keeping ``ess_fraction`` of the effective sample size the last tolerance would give
        # (and never below ``min_ess`` of the particles: then ε waits while the proposal adapts)
        target = max(ess_fraction * ess(weights(eps_prev)[0]), min_ess * particles)
        eps = 1.0 if ess(weights(1.0)[0]) >= target else _bisect(lambda e: weights(e)[0], eps_prev, target)
        w, lk = weights(eps)
        gens.append(Generation(eps, ess(w), particles * sims.shape[1]))
        if progress:
            progress(g + 1, eps, ess(w))
        at_one = at_one + 1 if eps == 1.0 else 0
        if at_one >= 2 or g == max_generations - 1:
            break
        eps_prev = eps
        d = theta.shape[1]
        cov = _spd(np.cov(theta.T, aweights=w + 1e-300).reshape(d, d), prior.scale)
        theta_prev, w_prev = theta, w
        theta = _perturb(theta_prev, w_prev, cov, prior, particles, rng)
        logq = _logsumexp(_mvn_logpdf(theta, theta_prev, cov), axis=1, b=w_prev[None, :])
    return Posterior(theta, w, sims, _normalise_rows(lk), gens)


def _normalise_rows(lk: np.ndarray) -> np.ndarray:
    w = np.exp(lk - lk.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True)


def _bisect(weights, eps_hi: float, target: float) -> float:
    """The smallest ε in [1, eps_hi] whose weights keep the effective sample size ≥ ``target``."""
    hi = eps_hi if np.isfinite(eps_hi) else 1.0
    while not np.isfinite(eps_hi) and ess(weights(hi)) < target and hi < 1e12:
        hi *= 4.0
    if ess(weights(hi)) < target:           # even the last tolerance falls short: keep it
        return float(hi)
    lo = 1.0
    for _ in range(60):
        mid = np.sqrt(lo * hi)
        if ess(weights(mid)) >= target:
            hi = mid
        else:
            lo = mid
        if hi / lo < 1.001:
            break
    return float(hi)


def _first_proposal(prior, n: int, rng, start, defensive: float):
    """Draws from (1 − defensive) × N(fit, 4 × its covariance) + defensive × prior, inside the prior's support,
    and their log density (up to a constant)."""
    if start is None:
        theta = prior.sample(n, rng)
        return theta, prior.logpdf(theta)
    mean, cov = start
    cov = _spd(4.0 * np.asarray(cov, float), prior.scale)
    gauss = stats.multivariate_normal(mean, cov, allow_singular=True)
    out = []
    while sum(len(x) for x in out) < n:
        k = n - sum(len(x) for x in out)
        from_prior = rng.random(k) < defensive
        draw = np.where(from_prior[:, None], prior.sample(k, rng),
                        gauss.rvs(size=k, random_state=rng).reshape(k, -1))
        out.append(draw[prior.inside(draw)])
    theta = np.concatenate(out)[:n]
    logq = np.logaddexp(np.log(defensive) + prior.logpdf(theta), np.log1p(-defensive) + gauss.logpdf(theta))
    return theta, np.atleast_1d(logq)


def _perturb(theta, w, cov, prior, n: int, rng) -> np.ndarray:
    out = []
    L = np.linalg.cholesky(cov)
    while sum(len(x) for x in out) < n:
        k = n - sum(len(x) for x in out)
        parent = rng.choice(len(theta), size=k, p=w)
        draw = theta[parent] + rng.standard_normal((k, theta.shape[1])) @ L.T
        out.append(draw[prior.inside(draw)])
    return np.concatenate(out)[:n]
