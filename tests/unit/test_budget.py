"""The time budget (basebench.budget): durations, the three rules, and the stopping rule's
statistics checked by simulation."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from pathlib import Path

import pytest
from scipy import special
from scipy import stats as scipy_stats

from basebench.budget import (
    Budget,
    CostEstimates,
    GroupCost,
    RoundRange,
    cost_signature,
    describe_duration,
    parse_duration,
    repeated_rounds,
    widest,
)
from basebench.cache import JsonCache
from basebench.config import load_config
from basebench.errors import ConfigError, UserError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _budget(
    seconds: float,
    order: Sequence[str],
    guesses: dict[str, GroupCost],
    tmp_path: Path,
    least: dict[str, int] | None = None,
    clock: Clock | None = None,
) -> tuple[Budget, Clock]:
    clock = clock or Clock()
    budget = Budget(
        seconds,
        order,
        "sig",
        least or dict.fromkeys(order, 1),
        guesses,
        estimates=CostEstimates(JsonCache("costs.json", tmp_path)),
        clock=clock,
    )
    budget.report_s = 0.0
    return budget, clock


def _run(budget: Budget, clock: Clock, group: str, limits: RoundRange, cost: float) -> int:
    """Run ``group`` under ``budget``, each round costing ``cost`` seconds; its rounds."""
    done = 0
    for _ in budget.rounds(group, 0, limits):
        clock.now += cost
        done += 1
    return done


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("1h30m", 5400), ("90s", 90), ("900", 900), ("1.5h", 5400), (" 2m 30s", 150)],
)
def test_durations_as_people_write_them(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "m", "15 minutes", "-5m", "0m"])
def test_a_bad_duration_is_refused_naming_the_forms(text: str) -> None:
    with pytest.raises(UserError, match="time budget"):
        parse_duration(text)


def test_durations_print_back() -> None:
    assert [describe_duration(s) for s in (900, 5400, 90, 30)] == ["15m", "1h30m", "1m30s", "30s"]


def test_the_configuration_checks_the_budget(tmp_path: Path) -> None:
    assert load_config("quick", {"time_budget": "30m"}).time_budget == "30m"
    assert load_config("quick", {"time_budget": "none"}).time_budget == ""
    with pytest.raises(ConfigError, match="--time-budget.*not a duration"):
        load_config("quick", {"time_budget": "soon"})
    with pytest.raises(ConfigError, match="precision"):
        load_config("quick", {"precision": 1.5})


def test_least_rounds_run_even_past_the_deadline(tmp_path: Path) -> None:
    budget, clock = _budget(10, ["runtime"], {}, tmp_path)
    assert _run(budget, clock, "runtime", RoundRange(4, 4, 4, 8), cost=100) == 4
    assert "budget" in budget.groups["runtime"].stopped


def test_rounds_a_test_needs_are_added_while_they_fit(tmp_path: Path) -> None:
    budget, clock = _budget(250, ["build"], {}, tmp_path)
    # 100 s a round: the second fits in 250 s, the third does not.
    assert _run(budget, clock, "build", repeated_rounds(1), cost=100) == 2
    assert budget.groups["build"].stopped.startswith("the budget: a round takes about 100 s")


def test_later_groups_keep_their_least(tmp_path: Path) -> None:
    guesses = {"build": GroupCost(0, 100), "runtime": GroupCost(50, 100)}
    least = {"build": 1, "runtime": 4}
    budget, clock = _budget(800, ["build", "runtime"], guesses, tmp_path, least)
    # 800 s - runtime's least (50 + 4 x 100) = 350 s for builds: 3 rounds of 100 s.
    assert _run(budget, clock, "build", repeated_rounds(1), cost=100) == 3
    budget.group_done("build", 300)
    assert _run(budget, clock, "runtime", RoundRange(4, 4, 4, 8), cost=100) == 4


def test_an_install_group_that_cannot_fit_its_least_is_not_measured(tmp_path: Path) -> None:
    guesses = {
        "build": GroupCost(0, 250),
        "install": GroupCost(150, 240),
        "startup": GroupCost(0, 20),
    }
    least = {"build": 1, "install": 1, "startup": 5}
    budget, clock = _budget(500, ["build", "install", "startup"], guesses, tmp_path, least)
    # Builds decide the verdict: their least runs even when it leaves installs no room.
    assert budget.admits("build")
    clock.now += 250
    budget.group_done("build", 250)
    assert not budget.admits("install")
    assert budget.groups["install"].stopped.startswith("not measured: its least (6.5 min)")
    assert budget.admits("startup")


def test_precision_stops_adding_rounds(tmp_path: Path) -> None:
    budget, clock = _budget(10_000, ["startup"], {}, tmp_path)
    series = [[1.0, 1.001]]
    rounds = 0
    for _ in budget.rounds("startup", 0, RoundRange(15, 2, 2, 15), lambda: series):
        clock.now += 1
        series[0].append(1.0005)
        rounds += 1
    assert rounds == 2
    assert budget.groups["startup"].stopped.startswith("precise enough")


def test_a_wide_series_gets_rounds_up_to_the_most(tmp_path: Path) -> None:
    budget, clock = _budget(10_000, ["startup"], {}, tmp_path)
    series: list[list[float]] = [[]]
    noisy = random.Random(1)
    rounds = 0
    for _ in budget.rounds("startup", 0, RoundRange(15, 2, 2, 6), lambda: series):
        clock.now += 1
        series[0].append(math.exp(noisy.gauss(0, 0.5)))
        rounds += 1
    assert rounds == 6
    assert budget.groups["startup"].stopped == "its most rounds (6)"


def test_without_a_record_the_first_guess_plans_and_a_run_records(tmp_path: Path) -> None:
    budget, clock = _budget(1000, ["size", "startup"], {"startup": GroupCost(0, 7)}, tmp_path)
    assert budget.cost("startup") == GroupCost(0, 7)
    assert budget.admits("size")
    clock.now += 40
    budget.group_done("size", 40)
    assert _run(budget, clock, "startup", RoundRange(5, 5, 5, 5), cost=3) == 5
    budget.group_done("startup", 20)
    again, _ = _budget(1000, ["size", "startup"], {}, tmp_path)
    assert again.cost("size") == GroupCost(40, 0)
    assert again.cost("startup") == GroupCost(5, 3)


def test_widest_is_the_widest_relative_half_width() -> None:
    assert widest([[1.0]]) == math.inf
    assert widest([]) == 0.0
    tight, loose = [1.0, 1.01, 0.99], [1.0, 1.5, 0.7]
    assert widest([tight, loose]) == widest([loose]) > widest([tight]) > 0


def test_the_cost_signature_ignores_how_many_rounds() -> None:
    quick = load_config("quick").as_dict()
    assert cost_signature(quick) == cost_signature({**quick, "time_budget": "30m", "rounds": 4})
    assert cost_signature(quick) != cost_signature({**quick, "variants": ["alpine"]})


def _welch_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Welch's two-sided p-value (scipy's ttest_ind, without its per-call overhead)."""
    va, vb = (statistics.variance(x) / len(x) for x in (a, b))
    t = (statistics.fmean(a) - statistics.fmean(b)) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(2 * special.stdtr(df, -abs(t)))


def _aa_false_positive_rate(stop_on: str, trials: int = 4000) -> float:
    """A/A pairs (the same distribution on both sides), each measured round by round under a
    stopping rule, then tested as the report does (Welch's t on log round values)."""
    rng = random.Random(20261130)
    significant = 0
    for _ in range(trials):
        a = [rng.gauss(0, 0.05) for _ in range(3)]
        b = [rng.gauss(0, 0.05) for _ in range(3)]
        while len(a) < 12:
            if stop_on == "width":
                half = widest([[math.exp(x) for x in a], [math.exp(x) for x in b]])
                if half <= 0.05 / math.sqrt(2):
                    break
            else:  # "peeking": stop as soon as the difference looks significant
                if _welch_p(a, b) < 0.05:
                    break
            a.append(rng.gauss(0, 0.05))
            b.append(rng.gauss(0, 0.05))
        if _welch_p(a, b) < 0.05:
            significant += 1
    return significant / trials


def test_welch_p_is_scipys() -> None:
    a, b = [0.1, 0.3, 0.2, 0.25], [0.0, 0.1, 0.05]
    assert _welch_p(a, b) == pytest.approx(
        scipy_stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-9
    )


def test_stopping_on_width_keeps_the_false_positive_rate() -> None:
    # The rule the budget uses: about 5 % of A/A pairs significant, as with a fixed n.
    assert 0.03 <= _aa_false_positive_rate("width") <= 0.07
    # The check can fail: stopping when a difference looks significant inflates it.
    assert _aa_false_positive_rate("peeking") > 0.10


def test_the_report_says_what_each_group_got_and_why() -> None:
    from basebench.report.doc import Document, Table, to_markdown
    from basebench.report.overhead import budget_blocks

    meta = {
        "run_id": "r1",
        "started": "2026-11-30T07:00:00+0000",
        "finished": "2026-11-30T07:14:30+0000",
        "budget": {
            "time_budget_s": 900,
            "precision": 0.05,
            "spent_s": 840,
            "groups": {
                "build": {"rounds": 1, "round_s": [250.0], "stopped": "the budget: …"},
                "startup": {"rounds": 7, "round_s": [10.0] * 7, "stopped": "precise enough: …"},
            },
        },
    }
    blocks = budget_blocks([meta, {"run_id": "old"}])
    (table,) = [b for b in blocks if isinstance(b, Table)]
    assert [row[:3] for row in table.rows] == [["build", "1", "4.2 min"], ["startup", "7", "10 s"]]
    assert "budget 15.0 min, measuring took 14.0 min, the whole run 14.5 min" in table.caption
    text = to_markdown(Document("t", blocks))
    assert "cannot chase significance" in text and "a cold build (`--no-cache`)" in text
    assert budget_blocks([{"run_id": "old"}]) == []


def test_a_group_that_leaves_its_loop_keeps_the_rounds_it_finished(tmp_path: Path) -> None:
    budget, clock = _budget(10_000, ["build"], {}, tmp_path)
    for r in budget.rounds("build", 0, repeated_rounds(1)):
        if r == 2:
            break  # every build failed: nothing left to build
        clock.now += 1
    assert budget.groups["build"].rounds == 2
    assert budget.groups["build"].stopped == "the group ended its rounds itself"


def test_a_timed_row_below_the_rounds_a_test_needs_says_untested() -> None:
    from basebench.report.fmt import rounds_note
    from basebench.report.sections import n_column
    from basebench.report.stats import Spread

    one, three = Spread(10.0, 10.0, 10.0, 1, 1), Spread(10.0, 9.9, 10.1, 3, 3)
    assert n_column([one, one], timed=True) == "1, untested"
    assert n_column([three, one], timed=True) == "3 / 1, untested"
    assert n_column([three, three], timed=True) == "3"
    assert n_column([one, one]) == "1"  # a size is exact
    assert rounds_note(1) == "n = 1, untested"
    assert rounds_note(3) == "n = 3"


def test_a_group_without_rounds_is_one_pass(tmp_path: Path) -> None:
    budget, _ = _budget(900, ["size"], {}, tmp_path)
    assert budget.admits("size")
    budget.group_done("size", 120)
    assert budget.groups["size"].stopped == "one pass: no rounds to decide"
    assert budget.cost("size") == GroupCost(120, 0)


def test_a_failed_or_stopped_group_teaches_the_next_run_nothing(tmp_path: Path) -> None:
    budget, clock = _budget(900, ["build", "install"], {}, tmp_path)
    for _ in budget.rounds("build", 0, repeated_rounds(1)):
        break  # stopped during its first round
    budget.group_done("build", 7.5)
    budget.admits("install")
    assert _run(budget, clock, "install", repeated_rounds(1), cost=0.01) == 3
    budget.group_done("install", 5.0, representative=False)  # every download had failed
    again, _ = _budget(900, ["build", "install"], {}, tmp_path)
    assert again.estimates.get("build", "sig") is None
    assert again.estimates.get("install", "sig") is None
