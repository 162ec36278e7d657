"""Repeated benchmark runs: the median run stands for each scenario, peak memory is the
highest of any run, and a failed run is never hidden behind a successful median."""

from __future__ import annotations

from typing import Any

from benchmarks.bench import check_targets, median_runs, reported_runs, spread


def _run(wall: float, peak: float, returncode: int = 0) -> dict[str, Any]:
    return {
        "wall_s": wall,
        "cpu_s": wall * 1.5,
        "peak_rss_mb": peak,
        "returncode": returncode,
        "log": "full.log",
    }


def _chains() -> list[dict[str, dict[str, Any]]]:
    return [
        {"full": _run(95.0, 3500), "rerun": _run(4.0, 400), "increment": _run(13.0, 2300)},
        {"full": _run(88.0, 3900), "rerun": _run(3.5, 410), "increment": _run(14.0, 2200)},
        {"full": _run(91.0, 3600), "rerun": _run(3.8, 420), "increment": _run(8.5, 2100)},
    ]


def test_the_median_run_of_each_scenario_is_reported() -> None:
    medians = median_runs(_chains())
    assert [medians[n]["wall_s"] for n in ("full", "rerun", "increment")] == [91.0, 3.8, 13.0]
    even = median_runs(_chains()[:2])  # the lower of the middle two
    assert even["full"]["wall_s"] == 88.0


def test_targets_judge_the_median_time_and_the_highest_peak() -> None:
    chains = _chains()
    lines = check_targets(median_runs(chains), 1_000_000, 200_000, spread(chains))
    assert lines[0].startswith("MISS full run 91.0 s")
    assert lines[1].startswith("PASS peak memory 3,900 MB")  # run 2's, not the median run's
    assert lines[3].startswith("MISS increment 13.0 s = 14%")
    assert "3 runs" in lines[0]


def test_an_increment_of_another_size_is_reported_not_judged() -> None:
    medians = median_runs(_chains())
    small = check_targets(medians, 1_000_000, 200_000, increment=(100, 20))
    assert small[-1].startswith("INFO increment of 100 rows and 20 messages 13.0 s = 14%")
    assert not any(line.startswith(("PASS increment", "MISS increment")) for line in small)
    target = check_targets(medians, 1_000_000, 200_000, increment=(10_000, 2_000))
    assert target[-1].startswith("MISS increment 13.0 s = 14%")


def test_spread_keeps_every_run_in_order() -> None:
    runs = spread(_chains())
    assert runs["full"]["wall_s"] == [95.0, 88.0, 91.0]
    assert runs["increment"]["peak_rss_mb"] == [2300, 2200, 2100]


def test_a_failed_run_is_reported_not_a_median_of_the_runs_before_it() -> None:
    chains = [*_chains()[:2], {"full": _run(60.0, 3000, returncode=1)}]
    reported = reported_runs(chains)
    assert reported["full"]["returncode"] == 1
    assert check_targets(reported, 1_000_000, 200_000)[0].startswith("FAIL full run failed")
    assert reported_runs(_chains())["full"]["wall_s"] == 91.0
