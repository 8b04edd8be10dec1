"""The study's report: ``index.html`` (one page that works offline: no scripts, no external
requests; figures in ``figures/``), and ``results.json`` holding every number the page shows,
keyed by step (the numbers are those of the steps' files, already suppressed)."""

from __future__ import annotations

import html
import json
import math
import platform
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from reawaken.io import write_text_atomic
from reawaken.study.cache import StepOutput

QUESTION = (
    "Do common respiratory viruses (influenza, SARS-CoV-2) wake dormant breast cancer cells in "
    "the lungs through the inflammation they cause (IL-6), and how much relapse does that add "
    "for survivors?"
)
CITATIONS = {
    "chia": "Chia SB et al. Respiratory viral infections awaken metastatic breast cancer cells "
    "in lungs. Nature 645 (2025)",
    "pan": "Pan H et al. 20-year risks of breast-cancer recurrence after stopping endocrine "
    "therapy at 5 years. N Engl J Med 2017;377:1836-46",
    "farrington": "Farrington CP, Anaya-Izquierdo K, Whitaker HJ, Hocine MN, Douglas I, Smeeth "
    "L. Self-controlled case series analysis with event-dependent observation periods. JASA "
    "2011;106:417-26",
    "hernan": "Hernán MA, Robins JM. Using big data to emulate a target trial when a randomized "
    "trial is not available. Am J Epidemiol 2016;183:758-64",
    "finegray": "Fine JP, Gray RJ. A proportional hazards model for the subdistribution of a "
    "competing risk. JASA 1999;94:496-509",
    "evalue": "VanderWeele TJ, Ding P. Sensitivity analysis in observational research: "
    "introducing the E-value. Ann Intern Med 2017;167:268-74",
    "austin": "Austin PC. Balance diagnostics for comparing the distribution of baseline "
    "covariates between treatment groups in propensity-score matched samples. Stat Med "
    "2009;28:3083-107",
    "lipsitch": "Lipsitch M, Tchetgen Tchetgen E, Cohen T. Negative controls: a tool for "
    "detecting confounding and bias in observational studies. Epidemiology 2010;21:383-8",
}
DEPENDENCIES = (
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "jax",
    "diffrax",
    "numba",
    "duckdb",
    "matplotlib",
    "typer",
    "dask",
    "distributed",
)


def _e(x: Any) -> str:
    return html.escape(str(x))


def _number(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1e5 else f"{v:.4g}"
    return str(v)


def table_html(
    rows: Sequence[Mapping], columns: Sequence[str] | None = None, caption: str = ""
) -> str:
    """An HTML table of ``rows`` (dicts), with the given columns in order."""
    if not rows:
        return "<p><em>none</em></p>"
    columns = list(columns or rows[0].keys())
    head = "".join(f"<th>{_e(c.replace('_', ' '))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(_number(r.get(c)))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    return f'<table class="data">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def provenance(config: Mapping, outputs: Mapping[str, StepOutput]) -> dict:
    """Version, commit, Python and dependency versions, seeds, settings, input checksums and the
    time of each step."""
    import reawaken

    versions = {}
    for name in DEPENDENCIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    inputs = {}
    for name, out in outputs.items():
        record = out.results.get("record")
        if isinstance(record, dict):
            inputs[name] = record
    return {
        "reawaken_version": reawaken.__version__,
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "dependencies": versions,
        "seed": config["study"]["seed"],
        "min_cell": config["study"]["min_cell"],
        "settings": json.loads(json.dumps(config, default=str)),
        "inputs": inputs,
        "steps": {
            name: {"seconds": round(out.seconds, 3), "cached": out.cached, "key": out.key}
            for name, out in outputs.items()
        },
    }


def _figure(out: Path, step: StepOutput, relative: str, caption: str) -> str:
    source = step.folder / relative
    if not source.is_file():
        return ""
    target = out / "figures" / f"{step.name}__{relative.replace('/', '__')}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return (
        f'<figure><img src="figures/{_e(target.name)}" alt="{_e(caption)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def planted_ratio(planted: Mapping | None, outcome: str, design: str, window: Any) -> Any:
    """The planted hazard ratio of a window (``a-b`` or ``>n`` days) where the design estimates
    it (Cox, competing and the case series estimate hazard ratios by window): 1 for an outcome
    the planted effect cannot reach, None where the truth is not one planted number."""
    if not planted or design not in ("cox", "competing", "sccs"):
        return None
    text = str(window)
    if outcome in planted.get("unaffected", ()) and (text.startswith(">") or "-" in text):
        return 1.0
    if outcome not in planted["outcomes"]:
        return None
    if text.startswith(">"):
        lo, hi = int(text[1:]) + 1, math.inf
    elif "-" in text:
        lo, hi = (int(x) for x in text.split("-", 1))
    else:
        return None
    for w in planted["windows"]:
        end = math.inf if w["end_day"] >= OPEN_END else w["end_day"]
        if w["start_day"] <= lo and (hi < end or end == math.inf):
            return w["ratio"]
    if all(lo >= w["end_day"] for w in planted["windows"]):
        return 1.0
    return None


OPEN_END = 100_000
"""A planted window ending on this day or later has no end."""


def _truth(run: Mapping, planted: Mapping | None, mechanism: Mapping | None = None) -> list[dict]:
    """The run's main estimates with the planted value (synthetic data) and the mechanism's
    predicted hazard ratio of a lung metastasis (the bridge) beside each window."""
    rows = []
    predicts = (
        mechanism is not None
        and run["outcome"] == "lung_metastasis"
        and run["design"] in ("cox", "competing", "sccs")
    )
    for r in run.get("estimates", []):
        if r.get("kind") != "exposure":
            continue
        row = {
            k: r.get(k)
            for k in (
                "window",
                "term",
                "ratio",
                "ci_lower",
                "ci_upper",
                "events",
                "evalue",
                "status",
            )
            if k in r
        }
        truth = planted_ratio(planted, run["outcome"], run["design"], r.get("window"))
        if planted is not None:
            row["planted"] = "" if truth is None else truth
        if predicts:
            row["mechanism"] = mechanism.get(str(r.get("window")), "")
        rows.append(row)
    return rows


def _odds_ratio_html(found: Mapping, planted: Mapping | None) -> str:
    """The cancer-death odds ratio within a year, as the UK Biobank analysis reports it."""
    if found.get("refused"):
        return f'<p class="refused">Odds ratio within a year: {_e(found["refused"])}</p>'
    paper = found["paper"]
    row = {
        "measure": "cancer death within a year, odds ratio",
        "estimate": found.get("value"),
        "ci_lower": found.get("lower"),
        "ci_upper": found.get("upper"),
        "paper (UK Biobank)": f"{paper['value']} ({paper['lower']}-{paper['upper']})",
    }
    if planted and "cancer_death" in planted.get("outcomes", ()):
        row["planted hazard ratio, first year"] = planted["windows"][0]["ratio"]
    return table_html(
        [row],
        caption="As the paper's UK Biobank analysis: " + found["comparison"],
    )


COHORT_NAMES = {
    "cohort_flatiron": "the Flatiron-like cohort",
    "cohort_ukb": "the UK Biobank-like cohort",
    "store": "the cohort store",
}


def answer(outputs: Mapping[str, StepOutput]) -> list[str]:
    """The answer in three sentences, from the numbers."""
    out = []
    mouse = outputs.get("mouse")
    if mouse:
        r = mouse.results
        out.append(
            f"In the in-silico mouse lung, {r['claims_met']} of {r['claims_total']} of the "
            "study's claims hold: infection wakes dormant DCCs through IL-6 and CD4+ T cells "
            "protect the awakened cells from CD8+ T cells."
        )
    clauses = []
    for name in ("estimates_flatiron", "estimates_store"):
        est = outputs.get(name)
        if not est:
            continue
        for run in est.results["runs"]:
            if run["design"] == "cox" and not run.get("refused") and not run["negative_control"]:
                rows = [
                    r
                    for r in run["estimates"]
                    if r.get("kind") == "exposure" and r.get("ratio") is not None
                ]
                where = COHORT_NAMES.get(est.results["cohort"], "the cohort")
                if not rows:
                    clauses.append(
                        f"on {where} no window after a SARS-CoV-2 infection has enough "
                        f"{run['outcome'].replace('_', ' ')} events to be shown"
                    )
                    break
                r0 = rows[0]
                clauses.append(
                    f"on {where} the hazard ratio of {run['outcome'].replace('_', ' ')} "
                    f"{r0.get('window')} days after a SARS-CoV-2 infection is "
                    f"{_number(r0['ratio'])} ({_number(r0['ci_lower'])}-"
                    f"{_number(r0['ci_upper'])})"
                )
                break
    ukb = outputs.get("estimates_ukb")
    for run in ukb.results["runs"] if ukb else []:
        found = run.get("odds_ratio_year") or {}
        if found.get("value") is not None:
            clauses.append(
                "on the UK Biobank-like cohort, analysed as the paper, the odds ratio of cancer "
                f"death within a year is {_number(found['value'])} ({_number(found['lower'])}-"
                f"{_number(found['upper'])}; planted 1.85)"
            )
            break
    if clauses:
        text = "; ".join(clauses)
        out.append(text[0].upper() + text[1:] + ".")
    bridge = outputs.get("bridge")
    if bridge:
        studies = {s["study"]: s for s in bridge.results["studies"]}
        u = studies.get("uk_biobank")
        f = studies.get("flatiron")
        if u and f:
            out.append(
                f"With the lesion response calibrated to the Flatiron HR 1.44 (reproduced on "
                f"another cohort: {_number(f['value'])}, {_number(f['lower'])}-"
                f"{_number(f['upper'])}), the mechanism gives a UK Biobank-like odds ratio of "
                f"cancer death of {_number(u['value'])} ({_number(u['lower'])}-"
                f"{_number(u['upper'])}) against the published 1.85 (1.14-3.02)."
            )
    return out[:3]


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table.data{border-collapse:collapse;margin:.8em 0;font-size:.88em}
table.data td,table.data th{border:1px solid #ddd;padding:.25em .5em;text-align:right}
table.data th{background:#f3f3f3}table.data td:first-child{text-align:left}
caption{text-align:left;font-weight:600;padding:.3em 0}
figure{margin:1em 0}img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}.summary h2{margin-top:0}
.summary{background:#f6f8fa;padding:1em 1.2em;border-radius:6px}
.refused{color:#8a4b00}code,pre{font-size:.85em;background:#f6f8fa}pre{padding:.8em;overflow:auto}
nav a{margin-right:1em}
"""


def write_report(
    out: Path, config: Mapping, outputs: Mapping[str, StepOutput], steps_titles: Mapping[str, str]
) -> list[Path]:
    """Write ``index.html``, ``figures/`` and ``results.json`` into ``out``."""
    figures_dir = out / "figures"
    if figures_dir.exists():
        shutil.rmtree(figures_dir)
    sections: list[tuple[str, str, str]] = []  # id, title, html
    key_figure = ""

    mouse = outputs.get("mouse")
    if mouse:
        body = [
            table_html(
                mouse.results["claims"],
                ["id", "claim", "slack_log10", "holds"],
                "The study's claims: the model's margin (log10) and whether it holds",
            )
        ]
        body.append(
            _figure(
                out,
                mouse,
                mouse.results["figure"],
                "Fold change of DCCs against mock, by arm (deterministic)",
            )
        )
        ens = outputs.get("ensemble")
        if ens:
            body.append(
                _figure(
                    out,
                    ens,
                    ens.results["figure"],
                    f"Ensemble of {ens.results['mice_per_arm']} virtual mice per arm, 5-95% bands",
                )
            )
        les = outputs.get("lesions")
        if les:
            body.append(
                table_html(
                    les.results["table"],
                    caption=(
                        f"Stochastic DCC clones, {les.results['arm']} arm, "
                        f"{les.results['replicates']} replicates: probability of a lesion by day"
                    ),
                )
            )
        sections.append(("mouse", "Mouse experiments in silico", "".join(body)))

    bridge_step = outputs.get("bridge")
    mechanism = None
    if bridge_step:
        exposure = config["estimate"]["exposure"]
        mechanism = {
            r["window"]: r["hr"]
            for r in bridge_step.results["hr_by_window"]
            if r["pathogen"] == exposure
        }
    for name, out_step in outputs.items():
        if not name.startswith("estimates_"):
            continue
        cohort_name = out_step.results["cohort"]
        cohort = outputs.get(cohort_name)
        planted = cohort.results.get("planted") if cohort else None
        body = []
        if cohort:
            summary = cohort.results["summary"]
            rows = [
                {"measure": k, "value": v}
                for k, v in summary.items()
                if isinstance(v, (int, float, str)) and not isinstance(v, bool)
            ]
            body.append(
                table_html(rows, caption="The cohort store (counts under the threshold suppressed)")
            )
            for note in summary.get("suppression_notes", []):
                body.append(f"<p><small>{_e(note)}</small></p>")
            if planted:
                body.append(
                    f"<p>Planted effect: {_e(planted['text'])}. Calendar: "
                    f"{_e(cohort.results.get('calendar', ''))}.</p>"
                )
        for outcome, tables in out_step.results.get("descriptive", {}).items():
            label = outcome.replace("_", " ")
            if tables.get("refused"):
                body.append(f'<p class="refused">{_e(label)}: {_e(tables["refused"])}</p>')
                continue
            body.append(
                table_html(
                    tables["attrition"],
                    ["step", "excluded", "remaining", "reason"],
                    f"Attrition: who was left out, and why ({label})",
                )
            )
            body.append(
                table_html(
                    tables["table_one"],
                    ["variable", "level", "exposed", "unexposed", "smd"],
                    f"Table 1: at risk of {label}, by a recorded infection "
                    "(standardised mean differences)",
                )
            )
        for run in out_step.results["runs"]:
            title = f"{run['design']}: {run['outcome'].replace('_', ' ')}"
            if run.get("calendar_adjusted"):
                title += " (adjusted for calendar year)"
            if run["negative_control"]:
                title += (
                    " (negative control: infection cannot cause it; its estimate should cover 1)"
                )
            body.append(f"<h3>{_e(title)}</h3>")
            if run.get("refused"):
                body.append(f'<p class="refused">Not estimated: {_e(run["refused"])}</p>')
                continue
            body.append(table_html(_truth(run, planted, mechanism)))
            if run.get("odds_ratio_year"):
                body.append(_odds_ratio_html(run["odds_ratio_year"], planted))
            if run.get("balance"):
                body.append(
                    table_html(
                        run["balance"],
                        ["label", "smd_before", "smd_after"],
                        "Covariate balance: standardised mean differences before matching "
                        "(crude: recorded infection or not, Table 1) and after (the matched "
                        "trials at time zero)",
                    )
                )
            for fig in run.get("figures", []):
                body.append(_figure(out, out_step, fig, f"{title}: {Path(fig).stem}"))
            for note in run.get("notes", []):
                body.append(f"<p><small>{_e(note)}</small></p>")
        sections.append(
            (name, f"Epidemiology: {cohort_name.replace('cohort_', '')}", "".join(body))
        )

    bridge = outputs.get("bridge")
    if bridge:
        key_figure = _figure(
            out,
            bridge,
            bridge.results["figure"],
            "The mechanism's hazard ratio of a lung metastasis by time since infection",
        )
        body = [
            key_figure,
            table_html(bridge.results["hr_by_window"], caption="Predicted hazard ratio by window"),
            table_html(
                bridge.results["studies"], caption="The two studies reproduced from the mechanism"
            ),
        ]
        sections.append(("bridge", "From the mechanism to people", "".join(body)))
    population = outputs.get("population")
    if population:
        body = [
            table_html(population.results["scenarios"], caption="Prevention scenarios"),
            _figure(
                out, population, population.results["figure"], "Excess lung metastases by scenario"
            ),
        ]
        sections.append(("population", "Prevention scenarios", "".join(body)))

    methods = (
        "<p>The within-host model (virus, IL-6, dormant and awakened DCCs, CD4+ and CD8+ T cells) "
        "is calibrated to the claims of Chia et al. [chia]. Cohort designs: counting-process Cox "
        "models by time since infection, the self-controlled case series with event-dependent "
        "observation periods [farrington], target-trial emulation [hernan], cumulative incidence "
        "and Fine-Gray [finegray], E-values [evalue], covariate balance by standardised mean "
        "differences [austin], a negative-control outcome [lipsitch]. Baseline recurrence from "
        "Pan et al. [pan]. Counts from 1 to "
        f"{config['study']['min_cell'] - 1} are suppressed in every table and file.</p>"
        "<ol>" + "".join(f"<li>[{k}] {_e(v)}</li>" for k, v in CITATIONS.items()) + "</ol>"
    )
    sections.append(("methods", "Methods", methods))
    prov = provenance(config, outputs)
    timing = [{"step": n, "title": steps_titles.get(n, n), **v} for n, v in prov["steps"].items()]
    prov_html = (
        f"<p>reawaken {_e(prov['reawaken_version'])}, "
        f"commit {_e(prov['git_commit'] or 'unknown')}, "
        f"Python {_e(prov['python'])}, seed {_e(prov['seed'])}, small-cell threshold "
        f"{_e(prov['min_cell'])}.</p>"
        + table_html(
            [{"package": k, "version": v} for k, v in prov["dependencies"].items()],
            caption="Dependency versions",
        )
        + table_html(timing, ["step", "title", "seconds", "cached"], "Time per step")
        + "<h3>Settings</h3><pre>"
        + _e(json.dumps(prov["settings"], indent=2))
        + "</pre>"
        + "<h3>Inputs</h3><pre>"
        + _e(json.dumps(prov["inputs"], indent=2))
        + "</pre>"
    )
    sections.append(("provenance", "Provenance", prov_html))

    sentences = answer(outputs)
    nav = "".join(f'<a href="#{i}">{_e(t)}</a>' for i, t, _ in sections)
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<title>reawaken study</title><style>" + STYLE + "</style></head><body>"
        "<h1>Respiratory infections and the awakening of dormant breast cancer cells</h1>"
        f'<section id="summary" class="summary"><h2>Summary</h2><p><strong>Question.</strong> '
        f"{_e(QUESTION)}</p><p><strong>Answer.</strong> {' '.join(_e(s) for s in sentences)}</p>"
        f"{key_figure}</section><nav>{nav}</nav>"
        + "".join(f'<section id="{i}"><h2>{_e(t)}</h2>{h}</section>' for i, t, h in sections)
        + "</body></html>\n"
    )
    results = {
        "question": QUESTION,
        "answer": sentences,
        "provenance": prov,
        "steps": {name: o.results for name, o in outputs.items()},
    }
    paths = [
        write_text_atomic(page, out / "index.html"),
        write_text_atomic(json.dumps(results, indent=2, default=str) + "\n", out / "results.json"),
    ]
    return paths
