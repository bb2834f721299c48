"""Human formatting of values with units, shared by tables, charts and the console."""

from __future__ import annotations

import math

from basebench.report.stats import Interval, Spread

#: Docker reports image sizes in decimal megabytes; using the same unit lets readers check the
#: report against ``docker images`` without converting.
MB = 1_000_000.0

#: Display unit and divisor for the units the results carry.
DISPLAY_UNITS: dict[str, tuple[str, float]] = {
    "bytes": ("MB", MB),
    "byte": ("MB", MB),
    "B": ("MB", MB),
}


def display_unit(unit: str, typical: float | None = None) -> tuple[str, float]:
    """Unit to show and the divisor to get there (seconds below 1 s become milliseconds)."""
    if unit in DISPLAY_UNITS:
        return DISPLAY_UNITS[unit]
    if unit == "s" and typical is not None and not math.isnan(typical) and abs(typical) < 1.0:
        return ("ms", 1e-3)
    return (unit, 1.0)


def decimals(value: float) -> int:
    """Decimals that give about three significant figures (no scientific notation)."""
    magnitude = abs(value)
    if magnitude >= 100 or magnitude == 0 or value == int(value):
        return 0
    if magnitude >= 10:
        return 1
    if magnitude >= 1:
        return 2
    return min(6, 2 - math.floor(math.log10(magnitude)))


def number(value: float, places: int | None = None) -> str:
    """``value`` with ``places`` decimals, or about three significant figures."""
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞"
    return f"{value:,.{decimals(value) if places is None else places}f}"


def quantity(value: float, unit: str) -> str:
    shown, divisor = display_unit(unit, value)
    if math.isnan(value):
        return "–"
    text = number(value / divisor)
    if shown in ("", "count"):
        return text
    return f"{text} {shown}"


def spread_text(sp: Spread, unit: str) -> str:
    """``median ± half-IQR`` (just the median with a single sample)."""
    if sp.n == 0:
        return "–"
    shown, divisor = display_unit(unit, sp.median)
    places = decimals(sp.median / divisor)
    text = number(sp.median / divisor)
    # The spread gets the median's decimals: "35.5 ± 0.3 s", not "35.5 ± 0.299 s".
    if sp.n > 1 and sp.half_iqr > 0:
        text += f" ± {number(sp.half_iqr / divisor, places)}"
    return text if shown in ("", "count") else f"{text} {shown}"


def ratio(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}×"


def interval_text(iv: Interval) -> str:
    if math.isnan(iv.estimate):
        return "–"
    if not iv.has_ci:
        return f"{ratio(iv.estimate)} (too few samples for an interval)"
    return f"{ratio(iv.estimate)} [{iv.low:.2f}–{iv.high:.2f}]"


def verdict(iv: Interval, *, bigger_is_better: bool = False) -> str:
    """Plain words for a ratio new/reference; n.s. when the interval includes 1.0."""
    if math.isnan(iv.estimate):
        return "no data"
    if not iv.has_ci:
        return "no interval"
    if not iv.significant:
        return "n.s. (same within noise)"
    worse = iv.estimate > 1.0
    if bigger_is_better:
        worse = not worse
    pct = abs(iv.estimate - 1.0) * 100.0
    return f"{pct:.0f} % {'slower' if worse else 'faster'}"
