"""Start-up: ``docker run --rm IMAGE python -c ...`` timed from the host, many rounds.

Two commands per image: an empty interpreter (``pass``) and an import of heavy modules (the
stdlib's on base images; the application's own packages on app images). Images are interleaved
round by round, so a noisy minute on the shared machine hits every variant alike.
"""

from __future__ import annotations

from typing import Any

from basebench.budget import RoundRange
from basebench.config import Config
from basebench.measure._context import ImageUnderTest, RunContext
from basebench.results import Measurement

PASS = "python -c pass"
IMPORT_STDLIB = "import stdlib"
IMPORT_APP = "import app"
STDLIB_MODULES = "asyncio, decimal, email.mime.text, json, sqlite3, ssl, urllib.request, zlib"
# Imported on app images when present (the sample app's and the common heavy ones).
#: What the "import app" command prints on an app image with none of APP_MODULES.
NOTHING_TO_IMPORT = "basebench: none of the heavy packages is installed"
APP_MODULES = ("django", "numpy", "pandas", "lxml.etree", "cryptography", "PIL.Image", "orjson")


def base_commands(delay_s: float = 0.0) -> dict[str, list[str]]:
    """The commands timed on every image; ``delay_s`` > 0 makes each spend that long first (a
    known slowdown for ``basebench validate``)."""
    return {
        PASS: ["python3", "-c", _sleep(delay_s) + "pass"],
        IMPORT_STDLIB: ["python3", "-c", f"{_sleep(delay_s)}import {STDLIB_MODULES}"],
    }


def _sleep(delay_s: float) -> str:
    # A spin until the deadline, not time.sleep: on a VM an idle vCPU wakes up late and the
    # work after the sleep runs on a cold CPU, which added 10-15 % more than the sleep itself
    # (seen here); a spin adds its wall time and nothing else.
    if not delay_s:
        return ""
    return (
        "import time\n"
        f"_end = time.perf_counter() + {delay_s!r}\n"
        "while time.perf_counter() < _end: pass\n"
    )


def commands_for(image: ImageUnderTest, delay_s: float = 0.0) -> dict[str, list[str]]:
    """The timed commands of ``image``: the base commands, and an import of the app's heavy
    packages on app images."""
    commands = base_commands(delay_s)
    if image.role != "base":
        # Import what the image has of the heavy packages; an app with none of them (a user's
        # own, or validate's) says so, and the command is not timed.
        script = (
            "import importlib.util as u, importlib as i\n"
            f"names = [n for n in {APP_MODULES!r} if u.find_spec(n.split('.')[0])]\n"
            f"print({NOTHING_TO_IMPORT!r}) if not names else None\n"
            "[i.import_module(n) for n in names]\n"
        )
        commands[IMPORT_APP] = ["python3", "-c", _sleep(delay_s) + script]
    return commands


def _key(image: ImageUnderTest) -> tuple[str, str, str]:
    # One image may stand under two variant names (basebench validate's A/A pair): each name
    # is measured on its own.
    return (image.reference, image.base.variant, image.role)


Key = tuple[tuple[str, str, str], str]


def measure(ctx: RunContext) -> None:
    limits = round_range(ctx.config)
    images = list({_key(image): image for image in ctx.images}.values())
    checkpoints = ctx.checkpoints("startup")
    # Rounds finished before an interruption (basebench run --resume) are not measured again.
    resumed = checkpoints.resume_from()
    samples, broken = _restore(resumed.state)
    what = f"{len(images)} images × " + (
        f"{limits.fixed} rounds"
        if ctx.budget is None
        else f"{limits.least}-{limits.most} rounds (budget)"
    )

    def spread() -> list[list[float]]:
        return [values for key, values in samples.items() if key not in broken]

    with ctx.step("startup", what):
        for round_index in ctx.rounds("startup", resumed.done, limits, spread):
            # A host probe per round: the load this group ran under, for `compare`.
            ctx.probe_host("startup")
            # Rotate the order each round: no image is always first after an idle period.
            shift = round_index % len(images)
            for image in images[shift:] + images[:shift]:
                _time_image(ctx, image, samples, broken)
            total = ctx.round_total(limits, round_index + 1)
            checkpoints.save(round_index + 1, total, _state(samples, broken))
    for image in images:
        _write(ctx, image, samples)


#: Under a time budget, start-up runs at least this many rounds (a start-up is one value).
LEAST_ROUNDS = 5


def round_range(config: Config) -> RoundRange:
    """The configured rounds; under a budget at least :data:`LEAST_ROUNDS`, and up to the
    configured count while a series' interval is wide."""
    rounds = max(1, config.startup_rounds)
    least = min(rounds, LEAST_ROUNDS)
    return RoundRange(rounds, least, least, rounds)


def _time_image(
    ctx: RunContext, image: ImageUnderTest, samples: dict[Key, list[float]], broken: set[Key]
) -> None:
    """One start-up of each of the image's commands, added to ``samples``."""
    delay = ctx.injection(image.base).startup_delay_s
    for name, command in commands_for(image, delay).items():
        key = (_key(image), name)
        if key in broken:
            continue
        result = ctx.engine.run(image.reference, command, kind="workload", limits=ctx.limits)
        if result.exit_code != 0:
            broken.add(key)
            ctx.fail(
                "startup",
                f"{name} on {image.reference}",
                f"{result.reason}: {result.output[-500:]}",
                log=result.log_path,
            )
            continue
        if NOTHING_TO_IMPORT in result.output:
            broken.add(key)
            ctx.say(f"startup {name} on {image.reference}: {NOTHING_TO_IMPORT}")
            continue
        samples.setdefault(key, []).append(result.seconds)


def _state(samples: dict[Key, list[float]], broken: set[Key]) -> dict[str, Any]:
    return {
        "samples": [[*image, name, values] for (image, name), values in samples.items()],
        "broken": [[*image, name] for image, name in sorted(broken)],
    }


def _restore(state: dict[str, Any]) -> tuple[dict[Key, list[float]], set[Key]]:
    """The samples and broken commands of a checkpoint (see :func:`_state`)."""
    samples: dict[Key, list[float]] = {
        ((ref, variant, role), name): [float(v) for v in values]
        for ref, variant, role, name, values in state.get("samples", [])
    }
    broken = {((ref, variant, role), name) for ref, variant, role, name in state.get("broken", [])}
    return samples, broken


def _write(
    ctx: RunContext,
    image: ImageUnderTest,
    samples: dict[Key, list[float]],
) -> None:
    delay = ctx.injection(image.base).startup_delay_s
    detail = image.role + (f"; injected delay {delay * 1000:g} ms" if delay else "")
    rows = [
        Measurement(
            "startup",
            name,
            "wall_time",
            "s",
            samples[(_key(image), name)],
            ctx.tags(image.base, strategy=image.strategy),
            detail=detail,
        )
        for name in commands_for(image)
        if (_key(image), name) in samples
    ]
    if rows:
        ctx.run.write_measurements(f"startup-{image.role}-{ctx.label(image.base)}", rows)
