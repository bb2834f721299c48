"""Human formatting of values with units, shared by tables, charts and the console."""

from __future__ import annotations

import math

from basebench.report.stats import MIN_ROUNDS, Interval, Spread

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
    """``median ± half-IQR`` over rounds (just the value with a single round)."""
    if sp.n == 0:
        return "–"
    shown, divisor = display_unit(unit, sp.median)
    places = decimals(sp.median / divisor)
    text = number(sp.median / divisor)
    # The spread gets the median's decimals: "35.5 ± 0.3 s", not "35.5 ± 0.299 s"; one that
    # rounds to nothing there is left out, like a single round's (the n column tells them apart).
    half = number(sp.half_iqr / divisor, places) if sp.n > 1 else ""
    if half and float(half.replace(",", "")) > 0:
        text += f" ± {half}"
    return text if shown in ("", "count") else f"{text} {shown}"


def n_text(sp: Spread) -> str:
    """n as rounds, with the values where a round holds several: "5", "2 (20 values)"."""
    if sp.n == 0:
        return "–"
    if sp.values > sp.n:
        return f"{sp.n} ({sp.values} values)"
    return str(sp.n)


def ratio(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}×"


def interval_text(iv: Interval) -> str:
    if math.isnan(iv.estimate):
        return "–"
    if not iv.has_ci:
        return ratio(iv.estimate)
    return f"{ratio(iv.estimate)} [{iv.low:.2f}–{iv.high:.2f}]"


def p_text(p: float) -> str:
    return "–" if math.isnan(p) else f"{p:.2g}"


def untested_text(rounds: int) -> str:
    return f"untested (n = {rounds})"


def rounds_note(rounds: int) -> str:
    """``n = 3``, or ``n = 1, untested`` below the rounds a test needs."""
    return f"n = {rounds}" + (", untested" if rounds < MIN_ROUNDS else "")


def verdict(estimate: float, significant: bool, *, rounds: int | None = None) -> str:
    """Plain words for a ratio new/reference (smaller is better).

    ``significant`` comes from the caller's rule (the corrected test for a single comparison,
    the summary interval for the headline); below MIN_ROUNDS rounds nothing is claimed.
    """
    if math.isnan(estimate):
        return "no data"
    if rounds is not None and rounds < MIN_ROUNDS:
        return untested_text(rounds)
    if not significant:
        return "n.s. (same within noise)"
    pct = abs(estimate - 1.0) * 100.0
    return f"{pct:.0f} % {'slower' if estimate > 1.0 else 'faster'}"
