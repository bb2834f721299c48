"""The recommendation (report/recommend.py): candidates, the Pareto front, the rules."""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd
import pytest
import report_sample as sample

from basebench.errors import UserError
from basebench.report.analysis import allocator_headlines, summarise
from basebench.report.frame import label_configs, normalise
from basebench.report.recommend import (
    Candidate,
    Choice,
    choose,
    dominated,
    pareto_front,
    preference_of,
    recommendation_blocks,
)
from basebench.report.stats import Interval, Spread


def _choices(frame: pd.DataFrame, preference: str = "balanced") -> list[Choice]:
    data = normalise(frame)
    labelled, configs = label_configs(data, [sample.synthetic_meta()])
    rows = summarise(labelled, configs)
    headlines = allocator_headlines(labelled, configs)
    return choose(labelled, configs, rows, preference, headlines)


def _without(frame: pd.DataFrame, groups: Iterable[str]) -> pd.DataFrame:
    return frame[~frame["group"].isin(list(groups))]


def test_balanced_ships_the_small_image_without_a_runtime_penalty() -> None:
    [choice] = _choices(sample.synthetic_frame())
    assert choice.chosen is not None and choice.chosen.name == "multistage on slim-trixie"
    # The synthetic musl stand-in is smaller but significantly slower (pymalloc): not chosen,
    # yet on the front, and its remedy is said with its cost.
    assert any(c.config == "alpine3.23" for c in choice.front)
    remedies = [n for n in choice.notes if n.startswith("alpine3.23's runtime penalty")]
    assert remedies and "closes with mimalloc" in remedies[0], choice.notes
    assert choice.runner_up is not None and choice.runner_up.config != "slim-trixie"


@pytest.mark.parametrize(
    ("preference", "expected"),
    [("size", "multistage on alpine3.23"), ("build", "pip-cache-copy on slim-trixie")],
)
def test_the_rule_is_the_users_choice(preference: str, expected: str) -> None:
    [choice] = _choices(sample.synthetic_frame(), preference)
    assert choice.chosen is not None and choice.chosen.name == expected


def test_groups_not_measured_give_no_data_never_a_verdict() -> None:
    [choice] = _choices(_without(sample.synthetic_frame(), ["build", "size"]))
    assert choice.chosen is None and "built no app image" in choice.no_choice
    [block] = recommendation_blocks([choice])
    assert "No recommendation" in getattr(block, "text", "")


def test_a_failed_build_is_not_a_candidate_and_says_why() -> None:
    frame = sample.synthetic_frame()
    failed = pd.DataFrame(
        [
            {
                **frame[(frame["group"] == "build") & (frame["variant"] == "slim-trixie")]
                .iloc[0]
                .to_dict(),
                "benchmark": "multistage",
                "strategy": "multistage",
                "metric": "failed",
                "value": 1.0,
                "unit": "",
                "detail": "error: linking uWSGI",
            }
        ]
    )
    frame = frame[
        ~(
            (frame["group"] == "build")
            & (frame["variant"] == "slim-trixie")
            & (frame["benchmark"] == "multistage")
        )
    ]
    [choice] = _choices(pd.concat([frame, failed], ignore_index=True))
    out = {e.name: e.reason for e in choice.excluded}
    assert out["multistage on slim-trixie"] == "build failed: error: linking uWSGI"
    assert choice.chosen is not None and choice.chosen.name != "multistage on slim-trixie"


def _candidate(name: str, size: float, build: float, runtime: Interval) -> Candidate:
    return Candidate(
        config=name,
        python="3.13",
        variant=name,
        strategy="multistage",
        size=size,
        build=Spread(build, 0.0, 0.0, 3, 3),
        runtime=runtime,
        runtime_rounds=4,
    )


def test_an_untested_large_runtime_ratio_is_a_suspected_penalty() -> None:
    untested = _candidate("musl", 30e6, 40.0, Interval(2.1, math.nan, math.nan))
    shown = _candidate("glibc", 57e6, 53.0, Interval(1.0, 0.97, 1.03))
    assert untested.runtime_penalty and not shown.runtime_penalty
    # A suspected 2.1x does not dominate the glibc image just because it is untested.
    assert not dominated(shown, untested)
    assert pareto_front([untested, shown]) == [untested, shown]
    dearer = _candidate("glibc-big", 420e6, 60.0, Interval(1.0, 0.97, 1.03))
    assert dominated(dearer, shown)


def test_an_unknown_preference_is_a_clear_error() -> None:
    assert preference_of([{"config": {"prefer": "size"}}]) == "size"
    assert preference_of([{"config": {"prefer": "size"}}], "build") == "build"
    assert preference_of([{}]) == "balanced"
    with pytest.raises(UserError, match="unknown preference 'cheap'"):
        preference_of([{"config": {"prefer": "cheap"}}])


def test_an_untested_allocator_closes_a_gap_only_within_the_tolerance() -> None:
    from basebench.report.recommend import _notes

    musl = _candidate("musl", 30e6, 40.0, Interval(1.46, math.nan, math.nan))
    glibc = _candidate("glibc", 57e6, 53.0, Interval(1.0, 0.97, 1.03))
    headlines = {
        ("musl", "pymalloc"): Interval(1.46, math.nan, math.nan),
        ("musl", "malloc"): Interval(1.81, math.nan, math.nan),
        ("musl", "mimalloc"): Interval(0.91, math.nan, math.nan),
    }
    notes = _notes(glibc, [musl, glibc], headlines, pd.DataFrame({"config": []}))
    assert any("suspected runtime penalty (1.46×) does not close with malloc" in n for n in notes)
    assert any("closes with mimalloc: 0.91× (untested" in n for n in notes)


def _caveats(choice: Choice) -> dict[str, str]:
    return {c.name: c.caveat for c in choice.candidates if c.caveat}


def test_only_a_stand_in_built_here_ships_a_debian_builder() -> None:
    """Built here, the musl stand-in compiles on a Debian-based builder, which single-full ships.
    Published with `basebench images push` and pulled back on the official path, its labels
    still say base_source=local but its rows say official, and it compiles on itself
    (measure._app_image.builder_image): no Debian builder to warn about."""
    [built_here] = _choices(sample.synthetic_frame(), "size")
    assert _caveats(built_here) == {
        "single-full on alpine3.23": "ships the local musl stand-in's Debian-based builder: "
        "its size is not Alpine's"
    }
    [pulled_back] = _choices(sample.synthetic_frame(base_source="official"), "size")
    assert _caveats(pulled_back) == {}
    page = str(recommendation_blocks([pulled_back]))
    assert "Debian-based builder" not in page and "¹" not in page
