"""Start-up: ``docker run --rm IMAGE python -c ...`` timed from the host, many rounds.

Two commands per image: an empty interpreter (``pass``) and an import of heavy modules (the
stdlib's on base images; the application's own packages on app images). Images are interleaved
round by round, so a noisy minute on the shared machine hits every variant alike.
"""

from __future__ import annotations

from basebench.measure._context import ImageUnderTest, RunContext
from basebench.results import Measurement

PASS = "python -c pass"
IMPORT_STDLIB = "import stdlib"
IMPORT_APP = "import app"
STDLIB_MODULES = "asyncio, decimal, email.mime.text, json, sqlite3, ssl, urllib.request, zlib"
# Imported on app images when present (the sample app's and the common heavy ones).
APP_MODULES = ("django", "numpy", "pandas", "lxml.etree", "cryptography", "PIL.Image", "orjson")


def commands_for(image: ImageUnderTest) -> dict[str, list[str]]:
    commands = {
        PASS: ["python3", "-c", "pass"],
        IMPORT_STDLIB: ["python3", "-c", f"import {STDLIB_MODULES}"],
    }
    if image.role != "base":
        # Import what the image has of the heavy packages; fail loudly if none is there.
        script = (
            "import importlib.util as u, importlib as i\n"
            f"names = [n for n in {APP_MODULES!r} if u.find_spec(n.split('.')[0])]\n"
            "assert names, 'none of the heavy packages is installed'\n"
            "[i.import_module(n) for n in names]\n"
        )
        commands[IMPORT_APP] = ["python3", "-c", script]
    return commands


def measure(ctx: RunContext) -> None:
    rounds = max(1, ctx.config.startup_rounds)
    images = list({image.reference: image for image in ctx.images}.values())
    samples: dict[tuple[str, str], list[float]] = {}
    broken: set[tuple[str, str]] = set()
    with ctx.step("startup", f"{len(images)} images × {rounds} rounds"):
        for round_index in range(rounds):
            # A host probe per round: the load this group ran under, for `compare`.
            ctx.probe_host("startup")
            # Rotate the order each round: no image is always first after an idle period.
            shift = round_index % len(images)
            for image in images[shift:] + images[:shift]:
                for name, command in commands_for(image).items():
                    key = (image.reference, name)
                    if key in broken:
                        continue
                    result = ctx.engine.run(
                        image.reference,
                        command,
                        kind="workload",
                        limits=ctx.limits,
                    )
                    if result.exit_code != 0:
                        broken.add(key)
                        ctx.fail("startup", f"{name} on {image.reference}", result.output[-500:])
                        continue
                    samples.setdefault(key, []).append(result.seconds)
    for image in images:
        rows = [
            Measurement(
                "startup",
                name,
                "wall_time",
                "s",
                samples[(image.reference, name)],
                ctx.tags(image.base, strategy=image.strategy),
                detail=image.role,
            )
            for name in commands_for(image)
            if (image.reference, name) in samples
        ]
        if rows:
            ctx.run.write_measurements(f"startup-{image.role}-{ctx.label(image.base)}", rows)
