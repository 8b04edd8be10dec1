"""Ensemble throughput of the within-host model: reawaken's ``solve`` against libRoadRunner and
scipy's ``solve_ivp``.

Workload: ``--n`` virtual mice, the ``mouse-influenza`` parameter vector times lognormal factors
(``lognormal_factors``, coefficient of variation ``--cv`` on ``VARIABLE_PARAMETERS``, seed
``--seed``), infection at day 0 and no interventions, solved over days 0..60 and saved daily
(61 points). Every solver runs at the same tolerances (``--rtol``, ``--atol``).

Measured, side by side in one run:

- reawaken ``solve`` (``--method``: ``rodas4``, the default ensemble engine, one run per
  ``--threads`` value; or diffrax ``tsit5``/``kvaerno5``, chunked and vmapped, one run per
  ``--chunk`` value): compile time (first call on one block; for ``rodas4`` this is loading
  the compiled code from the cache after the first ever run) reported apart from the run over
  all ``--n``;
- libRoadRunner (CVODE, BDF) on the SBML export (``reawaken.model.sbml``), one model loaded
  once, then per trajectory: set the parameter values, ``reset`` (re-evaluates the initial
  assignments), ``simulate``; timed on ``--rr-sample`` trajectories and extrapolated per
  trajectory;
- scipy ``solve_ivp`` (LSODA) with the numpy vector field, on ``--ivp-sample`` trajectories,
  extrapolated per trajectory.

Also printed: the ratios reawaken/roadrunner and reawaken/solve_ivp, the largest relative
difference between reawaken and roadrunner on the first ``--check`` trajectories (values under
1e-6 of a state's maximum compared at that floor), and step counts on a sample (``rodas4``:
the engine's attempted steps; diffrax: Tsit5's steps, which explain where its time goes, as a
vmapped chunk runs until its slowest member has finished).

Run: ``python benchmarks/bench_ensemble.py`` (defaults --n 100000, rodas4 on every CPU).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import jax
import numpy as np

from reawaken.model.equations import array_field, initial_array
from reawaken.model.forcing import Forcing, no_forcing
from reawaken.model.parameters import PARAMETER_NAMES, parameter_set
from reawaken.model.sbml import to_sbml
from reawaken.model.states import N_STATES
from reawaken.simulate.ensemble import lognormal_factors
from reawaken.simulate.ode import METHODS, SolverSettings, solve
from reawaken.simulate.rodas import TABLEAUS

DAYS = np.arange(61.0)
STEP_CAP = 500_000
"""Step budget of the step-count diagnostic (above ``solve``'s, to see the whole tail)."""


def ensemble(n: int, cv: float, seed: int) -> np.ndarray:
    """``(n, P)`` parameter vectors around ``mouse-influenza``."""
    return parameter_set("mouse-influenza").vector()[None, :] * lognormal_factors(n, cv, seed)


def time_reawaken(batch: np.ndarray, settings: SolverSettings) -> tuple[float, float, np.ndarray]:
    """(compile seconds, run seconds over the whole batch, solutions)."""
    forcing = no_forcing()
    t0 = time.perf_counter()
    first = settings.block if settings.method in TABLEAUS else settings.chunk_size
    solve(batch[:first], forcing, DAYS, settings)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    sol = solve(batch, forcing, DAYS, settings)
    run_s = time.perf_counter() - t0
    failed = int((~sol.ok).sum())
    if failed:
        print(f"    {failed} trajectories failed (ok = False)")
    return compile_s, run_s, sol.ys


def time_roadrunner(batch: np.ndarray, rtol: float, atol: float) -> tuple[float, float, np.ndarray]:
    """(model load seconds, seconds per trajectory, trajectories)."""
    import roadrunner

    t0 = time.perf_counter()
    rr = roadrunner.RoadRunner(to_sbml(parameter_set("mouse-influenza")))
    load_s = time.perf_counter() - t0
    rr.integrator.relative_tolerance = rtol
    rr.integrator.absolute_tolerance = atol
    rr.integrator.maximum_num_steps = 1_000_000
    names = list(PARAMETER_NAMES)
    days = list(DAYS)
    out = np.empty((batch.shape[0], DAYS.size, N_STATES))
    t0 = time.perf_counter()
    for k, p in enumerate(batch):
        rr.setValues(names, list(p))
        rr.reset()
        out[k] = np.asarray(rr.simulate(times=days))[:, 1:]
    return load_s, (time.perf_counter() - t0) / batch.shape[0], out


def time_solve_ivp(batch: np.ndarray, rtol: float, atol: float) -> float:
    """Seconds per trajectory with LSODA and the numpy vector field."""
    from scipy.integrate import solve_ivp

    forcing = no_forcing()
    t0 = time.perf_counter()
    for p in batch:
        res = solve_ivp(
            lambda t, y, p=p: array_field(t, y, p, forcing, np),
            (0.0, 60.0),
            initial_array(p, forcing, np),
            method="LSODA",
            t_eval=DAYS,
            rtol=rtol,
            atol=atol,
        )
        if not res.success:
            print(f"    solve_ivp failed: {res.message}")
    return (time.perf_counter() - t0) / batch.shape[0]


def step_counts(batch: np.ndarray, settings: SolverSettings) -> np.ndarray:
    """Steps per trajectory: the ensemble engine's own count (``rodas4``), or diffrax's stats for
    its solve (the unforced model has no switch days) with a budget of ``STEP_CAP`` steps."""
    if settings.method in TABLEAUS:
        steps = solve(batch, no_forcing(), DAYS, replace(settings, max_steps=STEP_CAP)).steps
        assert steps is not None
        return steps
    import diffrax
    import jax.numpy as jnp

    forcing = Forcing(*(jnp.asarray(np.asarray(x, dtype=np.float64)) for x in no_forcing()))
    term = diffrax.ODETerm(lambda t, y, p: array_field(t, y, p, forcing, jnp))
    solver = diffrax.Tsit5() if settings.method == "tsit5" else diffrax.Kvaerno5()

    @jax.jit
    @jax.vmap
    def steps(p: jnp.ndarray) -> jnp.ndarray:
        sol = diffrax.diffeqsolve(
            term,
            solver,
            t0=0.0,
            t1=float(DAYS[-1]),
            dt0=1e-3,
            y0=initial_array(p, forcing, jnp),
            args=p,
            saveat=diffrax.SaveAt(t1=True),
            stepsize_controller=diffrax.PIDController(rtol=settings.rtol, atol=settings.atol),
            max_steps=STEP_CAP,
            throw=False,
        )
        return sol.stats["num_steps"]

    return np.asarray(steps(jnp.asarray(batch)))


def max_relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|b|, floor), floor = 1e-6 of each state's maximum in ``b``."""
    floor = np.maximum(1e-6 * np.abs(b).max(axis=1, keepdims=True), 1e-300)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), floor)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="ensemble size for reawaken")
    parser.add_argument("--chunk", default="2048", help="diffrax: chunk sizes, comma-separated")
    parser.add_argument(
        "--threads", default="0", help="rodas4: thread counts, comma-separated (0: every CPU)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cv", type=float, default=0.3)
    parser.add_argument("--method", default="rodas4", choices=list(METHODS))
    parser.add_argument("--rtol", type=float, default=1e-6)
    parser.add_argument("--atol", type=float, default=1e-6)
    parser.add_argument("--rr-sample", type=int, default=500)
    parser.add_argument("--ivp-sample", type=int, default=100)
    parser.add_argument("--steps-sample", type=int, default=256)
    parser.add_argument("--check", type=int, default=5)
    args = parser.parse_args()

    batch = ensemble(args.n, args.cv, args.seed)
    print(
        f"ensemble: {args.n} x mouse-influenza, lognormal cv {args.cv}, seed {args.seed}; "
        f"days 0..60 saved daily; rtol {args.rtol}, atol {args.atol}"
    )
    print(f"jax devices: {jax.devices()}; other processes may share the CPU")

    best = None
    sizes = args.threads if args.method in TABLEAUS else args.chunk
    for size in (int(c) for c in sizes.split(",")):
        engine = args.method in TABLEAUS  # sizes are thread counts (0: every CPU), else chunks
        settings = SolverSettings(
            method=args.method,
            rtol=args.rtol,
            atol=args.atol,
            **({"threads": size or None} if engine else {"chunk_size": size}),
        )
        compile_s, run_s, ys = time_reawaken(batch, settings)
        rate = args.n / run_s
        label = "threads" if args.method in TABLEAUS else "chunk"
        print(
            f"reawaken solve ({args.method}, {label} {size}): compile {compile_s:.1f} s, "
            f"run {run_s:.1f} s for {args.n} -> {rate:.1f} trajectories/s"
        )
        if best is None or rate > best[0]:
            best = (rate, f"{label} {size}", ys)
    assert best is not None
    rate, chunk, ys = best

    sample = batch[: args.rr_sample]
    load_s, rr_per, rr_ys = time_roadrunner(sample, args.rtol, args.atol)
    rr_rate = 1.0 / rr_per
    print(
        f"libroadrunner (CVODE): load {load_s:.2f} s; {sample.shape[0]} trajectories timed, "
        f"{rr_per * 1e3:.2f} ms each -> {rr_rate:.1f} trajectories/s (extrapolated)"
    )
    ivp_per = time_solve_ivp(batch[: args.ivp_sample], args.rtol, args.atol)
    ivp_rate = 1.0 / ivp_per
    print(
        f"scipy solve_ivp (LSODA): {args.ivp_sample} trajectories timed, {ivp_per * 1e3:.1f} ms "
        f"each -> {ivp_rate:.1f} trajectories/s (extrapolated)"
    )
    print(f"ratio reawaken/roadrunner: {rate / rr_rate:.2f} (best {chunk})")
    print(f"ratio reawaken/solve_ivp:  {rate / ivp_rate:.2f}")

    k = min(args.check, sample.shape[0])
    print(
        f"accuracy: max relative difference reawaken vs roadrunner on {k} trajectories: "
        f"{max_relative_difference(ys[:k], rr_ys[:k]):.2e}"
    )

    settings = SolverSettings(method=args.method, rtol=args.rtol, atol=args.atol)
    s = step_counts(batch[: args.steps_sample], settings)
    q = np.percentile(s, [50, 90, 99, 100])
    print(
        f"steps per trajectory ({args.method}, {s.size} trajectories): median {q[0]:.0f}, "
        f"90% {q[1]:.0f}, 99% {q[2]:.0f}, max {q[3]:.0f}, mean {s.mean():.0f}"
    )
    over = int((s > settings.max_steps).sum())
    print(f"  {over} of {s.size} need more than solve's max_steps {settings.max_steps}")
    logs = np.log(batch[: s.size])
    rank = np.argsort(np.argsort(s))
    corr = {
        name: abs(np.corrcoef(np.argsort(np.argsort(logs[:, j])), rank)[0, 1])
        for j, name in enumerate(PARAMETER_NAMES)
        if np.ptp(logs[:, j]) > 0
    }
    top = sorted(corr, key=corr.get, reverse=True)[:3]
    print("  steps follow (|Spearman|): " + ", ".join(f"{k} {corr[k]:.2f}" for k in top))
    for size in (64, 256, 1024, 2048):
        if args.method not in TABLEAUS and size <= s.size:
            chunks = s[: s.size - s.size % size].reshape(-1, size)
            waste = chunks.max(axis=1).mean() / chunks.mean()
            print(f"  chunk {size}: a vmapped chunk does {waste:.1f}x its mean steps")


if __name__ == "__main__":
    main()
