"""A time budget for one run (``--time-budget 15m``): how many rounds each group gets.

Without a budget every group runs the rounds its configuration gives (``rounds``,
``startup_rounds``, the pyperf mode's), as before. With one, each group's rounds are decided
while it runs, round by round (:meth:`Budget.rounds`), by three rules in this order:

1. **Reserve.** When a group starts, the later groups' minimum cost (their one-off work and
   their least rounds, as they took on this machine last time: ``group-costs.json`` in the
   cache, or a first guess) and the report's are set aside; the rest, up to the deadline, is
   the group's allowance. The groups that decide the verdict always run their least rounds:
   sizes, start-up and runtime, and one round of builds (the recommendation is chosen among
   the app images the builds make, and size and start-up measure them too). A group whose
   least does not fit beside them (installs, pulls, HTTP) is not measured, and the run and
   the report say so.
2. **Enough for a test.** Up to ``wanted`` rounds (builds and installs: the
   :data:`~basebench.report.stats.MIN_ROUNDS` a round test needs; runtime: its pyperf mode's),
   a group adds a round while the next one fits its allowance (a round is assumed to take as
   long as its last one).
3. **Precision.** Beyond ``wanted``, up to ``most``, a group adds a round only while one of
   its series' 95 % interval is still wider than ±``precision`` / √2 of its value (so that a
   ratio of two series is known to ±``precision``) and only within its share of the
   allowance (its part of what the groups still to run could use).

Why rule 3 keeps the statistics valid: it reads only the spread of each series (the width of
its interval), never the difference between variants or a p-value. Stopping when a difference
looks significant ("optional stopping") inflates false positives; stopping on width does not,
because for normal (log) round values the mean is independent of the spread, so when the run
stopped says nothing about where the means are. ``tests/unit/test_budget.py`` checks it by
simulation: A/A pairs measured under the rule come out significant at 5.8 % at the 5 % level
(a fixed 3-12 rounds: 3.0-4.8 %; stopping at the first significant look: 16.9 %), slightly
liberal because stopping when the spread happens to be small makes t a little larger.
Rules 1 and 2 read no value at all.

Pure bookkeeping (no Docker): the run loop and each group's round loop call it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from basebench.cache import JsonCache
from basebench.errors import UserError

#: Each series' relative 95 % half-width under which rule 3 stops adding rounds, divided by
#: √2 for a series (so a ratio of two series is within it).
DEFAULT_PRECISION = 0.05
#: What rendering the report is expected to cost until this machine has rendered one.
REPORT_GUESS_S = 90.0
#: Groups that always run their least rounds, whatever the budget: those the verdict is made
#: of (the recommendation picks among the app images the builds make).
ALWAYS_MEASURED = frozenset({"build", "size", "startup", "runtime"})

_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?")


def parse_duration(text: str) -> float:
    """Seconds of ``15m``, ``1h30m``, ``90s``, ``900``; a UserError naming the forms otherwise."""
    cleaned = text.strip().lower().replace(" ", "")
    match = _DURATION.fullmatch(cleaned)
    if not cleaned or match is None or not any(match.groups()):
        raise UserError(
            f"time budget {text!r}: not a duration; write e.g. 15m, 1h30m, 90s or 900 (seconds)"
        )
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise UserError(f"time budget {text!r}: must be more than 0")
    return total


def describe_duration(seconds: float) -> str:
    """``15m``, ``1h30m``, ``90s``: a budget as a person writes it."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts) or "0s"


@dataclass(frozen=True)
class RoundRange:
    """How many rounds a group may run: ``fixed`` without a budget (the configuration's); with
    one, at least ``least``, ``wanted`` when the budget allows, at most ``most``."""

    fixed: int
    least: int
    wanted: int
    most: int

    @classmethod
    def constant(cls, rounds: int) -> RoundRange:
        """A group whose rounds the budget does not change (a pyperf mode's design, sizes)."""
        return cls(rounds, rounds, rounds, rounds)


def repeated_rounds(rounds: int) -> RoundRange:
    """A group whose round is one timed value per series (builds, installs): the configured
    ``rounds``; under a budget at least one, the rounds a test needs when they fit, and more
    while a series' interval is wide."""
    # Imported here: the report package imports the configuration, which imports this module.
    from basebench.report.stats import MIN_ROUNDS

    return RoundRange(rounds, 1, MIN_ROUNDS, max(rounds, 2 * MIN_ROUNDS))


#: What one round's values are, for rule 3: each series' values so far (one per round).
Spread = Callable[[], Iterable[Sequence[float]]]


@functools.lru_cache(maxsize=256)
def _t975(degrees: int) -> float:
    from scipy import stats as scipy_stats

    return float(scipy_stats.t.ppf(0.975, degrees))


def widest(series: Iterable[Sequence[float]]) -> float:
    """The largest relative 95 % half-width (Student's t on log values) among ``series``;
    infinite when a series has fewer than 2 positive values (its width is unknown)."""
    worst = 0.0
    for values in series:
        logs = [math.log(v) for v in values if v > 0 and math.isfinite(v)]
        if len(logs) < 2:
            return math.inf
        n = len(logs)
        mean = sum(logs) / n
        sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (n - 1))
        half = _t975(n - 1) * sd / math.sqrt(n)
        worst = max(worst, math.expm1(half))
    return worst


#: Configuration fields that do not change what a group's round costs (they change how many
#: rounds there are, or how results are read).
_NOT_COST = frozenset(
    {
        "profile",
        "description",
        "time_budget",
        "precision",
        "rounds",
        "startup_rounds",
        "baseline_variant",
        "prefer",
    }
)


def cost_signature(config: Mapping[str, Any]) -> str:
    """What a run's group costs are kept under: its configuration without the fields that
    change only the number of rounds (so a quick run with another budget reuses them)."""
    kept = {k: v for k, v in sorted(config.items()) if k not in _NOT_COST}
    text = json.dumps(kept, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def group_key(group: str, signature: str) -> str:
    return f"{group} {signature}"


@dataclass(frozen=True)
class GroupCost:
    """What a group costs: its one-off work and one round, in seconds."""

    fixed_s: float
    round_s: float

    def least(self, least_rounds: int) -> float:
        return self.fixed_s + least_rounds * self.round_s


class CostEstimates:
    """Each group's cost on this machine last time, by group and the run's shape (the
    variants, Pythons, workloads... a different matrix costs differently)."""

    FILE = "group-costs.json"

    def __init__(self, store: JsonCache | None = None) -> None:
        self.store = store or JsonCache(self.FILE)

    def get(self, group: str, signature: str) -> GroupCost | None:
        entry = self.store.get(group_key(group, signature))
        if isinstance(entry, dict):
            try:
                return GroupCost(float(entry["fixed_s"]), float(entry["round_s"]))
            except (KeyError, TypeError, ValueError):
                return None
        return None

    def record(self, group: str, signature: str, cost: GroupCost) -> None:
        self.store.put(
            group_key(group, signature),
            {
                "fixed_s": round(cost.fixed_s, 2),
                "round_s": round(cost.round_s, 2),
                "at": time.strftime("%Y-%m-%d"),
            },
        )


@dataclass
class GroupBudget:
    """What happened to one group under the budget (run.json's ``budget.groups``)."""

    rounds: int = 0
    round_s: list[float] = field(default_factory=list)
    allowance_s: float = 0.0
    #: Why its rounds stopped where they did, as a person reads it.
    stopped: str = ""
    #: Rule 3's last reading: the widest series' relative half-width (NaN: not read).
    widest: float = math.nan
    #: The group loops over rounds (sizes do not: one pass).
    in_rounds: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "round_s": [round(s, 2) for s in self.round_s],
            "allowance_s": round(self.allowance_s, 1),
            "stopped": self.stopped,
            "widest": None if math.isnan(self.widest) else round(self.widest, 4),
        }


@dataclass
class Budget:
    """The run's time budget: a deadline and the decisions made under it.

    ``order``: the run's groups in the order they run; ``least``: each group's least rounds;
    ``first_guess``: each group's cost where this machine has no record of it yet.
    """

    seconds: float
    order: Sequence[str]
    signature: str
    least: dict[str, int]
    first_guess: dict[str, GroupCost]
    precision: float = DEFAULT_PRECISION
    estimates: CostEstimates = field(default_factory=CostEstimates)
    clock: Callable[[], float] = time.monotonic
    started: float = field(init=False)
    groups: dict[str, GroupBudget] = field(default_factory=dict)
    #: The report's expected cost (set aside from every group's allowance).
    report_s: float = REPORT_GUESS_S

    def __post_init__(self) -> None:
        self.started = self.clock()
        known = self.estimates.get("report", self.signature)
        if known is not None:
            self.report_s = known.fixed_s

    # ---- the clock ----------------------------------------------------------------------

    def left(self) -> float:
        return self.seconds - (self.clock() - self.started)

    def cost(self, group: str) -> GroupCost:
        return self.estimates.get(group, self.signature) or self.first_guess.get(
            group, GroupCost(0.0, 0.0)
        )

    def reserve_after(self, group: str) -> float:
        """What the groups after ``group`` need at least, and the report."""
        later = list(self.order)[list(self.order).index(group) + 1 :] if group in self.order else []
        return self.report_s + sum(self.cost(g).least(self.least.get(g, 1)) for g in later)

    # ---- decisions ----------------------------------------------------------------------

    def admits(self, group: str) -> bool:
        """Rule 1: whether ``group`` runs at all (its least cost fits beside the reserve).
        The groups of :data:`ALWAYS_MEASURED` always run."""
        entry = self.groups.setdefault(group, GroupBudget())
        entry.allowance_s = self.left() - self.reserve_after(group)
        if group in ALWAYS_MEASURED:
            return True
        needs = self.cost(group).least(self.least.get(group, 1))
        if needs <= entry.allowance_s:
            return True
        left = _s(max(0.0, entry.allowance_s))
        entry.stopped = (
            f"not measured: its least ({_s(needs)}) did not fit the {left} left after setting "
            f"aside {_s(self.reserve_after(group))} for the groups after it and the report"
        )
        return False

    def rounds(
        self, group: str, start: int, limits: RoundRange, spread: Spread | None = None
    ) -> Iterator[int]:
        """The round indices ``group`` runs from ``start``: its least, then rules 2 and 3."""
        entry = self.groups.setdefault(group, GroupBudget())
        entry.in_rounds = True
        # The allowance is fixed when the group starts: later groups keep their reserve.
        deadline = self.clock() + self.left() - self.reserve_after(group)
        entry.allowance_s = max(0.0, deadline - self.clock())
        begun = self.clock()
        share = self._share(group, entry.allowance_s)
        r = start
        try:
            while True:
                reason = self._stop_reason(group, r, limits, deadline, begun, share, spread, entry)
                if reason:
                    entry.stopped = reason
                    return
                t0 = self.clock()
                yield r
                entry.round_s.append(self.clock() - t0)
                r += 1
        finally:
            # Also when the group left its loop itself (nothing left to measure) or a signal
            # stopped it: the rounds it finished.
            entry.rounds = r
            entry.stopped = entry.stopped or "the group ended its rounds itself"

    def _share(self, group: str, allowance: float) -> float:
        """Rule 3's part of the allowance: in proportion to this group's least cost among the
        groups still to run (itself included)."""
        names = list(self.order)
        later = names[names.index(group) :] if group in names else [group]
        costs = {g: max(1.0, self.cost(g).least(self.least.get(g, 1))) for g in later}
        return allowance * costs[group] / sum(costs.values())

    def _stop_reason(
        self,
        group: str,
        r: int,
        limits: RoundRange,
        deadline: float,
        begun: float,
        share: float,
        spread: Spread | None,
        entry: GroupBudget,
    ) -> str:
        """Why ``group`` should not run round ``r`` (0-based), or "" to run it."""
        if r < limits.least:
            return ""
        if r >= limits.most:
            return f"its most rounds ({limits.most})"
        last = entry.round_s[-1] if entry.round_s else self.cost(group).round_s
        left = deadline - self.clock()
        if last > left:
            return f"the budget: a round takes about {_s(last)}, {_s(max(0.0, left))} left for it"
        if r < limits.wanted:
            return ""
        if spread is None:
            return f"enough rounds for a test ({limits.wanted})"
        entry.widest = widest(spread())
        target = self.precision / math.sqrt(2)
        if entry.widest <= target:
            return f"precise enough: every series within ±{entry.widest:.1%} (goal ±{target:.1%})"
        spent = self.clock() - begun
        if spent + last > share:
            return f"its share of the budget ({_s(share)}): widest series still ±{entry.widest:.1%}"
        return ""

    # ---- afterwards ---------------------------------------------------------------------

    def group_done(self, group: str, wall_s: float, *, representative: bool = True) -> None:
        """Keep what ``group`` cost for the next run's plan. Nothing is learnt from a group
        that finished no round, or whose run was not ``representative`` (it failed, or was
        stopped): its cost would tell the next run that it is nearly free."""
        entry = self.groups.setdefault(group, GroupBudget())
        if not representative or (entry.in_rounds and not entry.round_s):
            return
        if not entry.round_s:
            if not entry.stopped.startswith("not measured"):
                # A group without rounds (sizes): all of it is its one-off work.
                entry.stopped = entry.stopped or "one pass: no rounds to decide"
                self.estimates.record(group, self.signature, GroupCost(wall_s, 0.0))
            return
        rounds = sum(entry.round_s)
        self.estimates.record(
            group,
            self.signature,
            GroupCost(max(0.0, wall_s - rounds), rounds / len(entry.round_s)),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "time_budget_s": round(self.seconds, 1),
            "signature": self.signature,
            "precision": self.precision,
            "spent_s": round(self.clock() - self.started, 1),
            "groups": {name: entry.as_dict() for name, entry in self.groups.items()},
        }


def short_duration(seconds: float) -> str:
    """``42 s`` under two minutes, ``4.7 min`` above: how the budget's decisions say a time."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


#: Short, for the many messages above.
_s = short_duration
