"""The same run gives the same numbers whatever runs its chunks: in-process, on a new
dask.distributed LocalCluster (--workers) or on an existing cluster (--scheduler)."""

from __future__ import annotations

import numpy as np

from reawaken.cli import main
from reawaken.population import PopulationSettings, run_population

ARGS = ["--survivors", "20000", "--years", "2", "--draws", "4", "--seed", "21"]
ARGS += ["--chunk-size", "5000", "--scenario", "vaccine:coverage=0.6,efficacy=0.5"]
ARGS += ["--scenario", "anti-il6:coverage=0.5,delay=2"]


def test_in_process_and_a_two_worker_local_cluster_write_the_same_files(tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    assert main(["population", *ARGS, "--out", str(here)]) == 0
    assert main(["population", *ARGS, "--workers", "2", "--out", str(there)]) == 0
    for name in ("scenarios.csv", "per_year.csv"):
        assert (here / name).read_bytes() == (there / name).read_bytes(), name
    assert '"kind": "dask LocalCluster"' in (there / "population.json").read_text()


def test_an_existing_cluster_gives_the_same_counts(tmp_path):
    from dask.distributed import Client, LocalCluster

    settings = PopulationSettings(20_000, 2, 4, 21, chunk_size=5000)
    scenarios = ["antiviral:coverage=0.5,delay=1"]
    alone = run_population(settings, scenarios)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        on_cluster = run_population(settings, scenarios, scheduler=address)
        with Client(cluster) as client:
            with_client = run_population(settings, scenarios, client=client)
        out = tmp_path / "pop"
        argv = ["population", "--survivors", "2000", "--years", "1", "--draws", "2"]
        assert main([*argv, "--scheduler", address, "--out", str(out)]) == 0
    assert np.array_equal(alone.counts, on_cluster.counts)
    assert np.array_equal(alone.counts, with_client.counts)
    assert alone.table().equals(on_cluster.table())
    assert on_cluster.engine["kind"] == "dask scheduler" and on_cluster.engine["workers"] == 2
    assert (out / "scenarios.csv").exists()


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, capsys):
    argv = ["population", "--survivors", "100", "--years", "1", "--draws", "2"]
    status = main([*argv, "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "pop")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and err[0].startswith("error: ") and "tcp://127.0.0.1:9" in err[0]
    assert not (tmp_path / "pop").exists()
