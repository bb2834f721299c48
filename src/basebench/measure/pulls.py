"""Pull: how long each base image takes to come from its registry into an engine without it.

The figure that decides how fast an autoscaled node or a CI job starts. A round removes the
base's name and pulls it again, timed from the request to the last layer extracted: download
plus extraction (on a loopback registry, extraction and the registry's disk dominate; the
report says which registry it was). Only names this run pulled itself are removed, never an
image that was on the engine before the run (a user's): such a base is not measured, and the
run says why.

The group runs before the builds: an app image built FROM a base holds the base's layers, and
a pull then finds them already there. Each value records how many layers were downloaded and
how many the engine already had, so a pull that was not cold says so.
"""

from __future__ import annotations

from dataclasses import asdict

from basebench.bases import BaseImage
from basebench.engine import PullResult
from basebench.measure._context import RunContext
from basebench.registry import ImageReference
from basebench.results import Measurement


def pullable(ctx: RunContext) -> tuple[list[BaseImage], list[BaseImage]]:
    """(bases this run pulled and may pull again, official bases a user had before the run)."""
    official = [b for b in ctx.bases if b.source == "official" and not b.alias_of]
    return [b for b in official if b.pulled], [b for b in official if not b.pulled]


def measure(ctx: RunContext) -> None:
    bases, users = pullable(ctx)
    for base in users:
        ctx.say(
            f"pull: {base.reference} was on this engine before the run: not removed, so its "
            "pull is not measured"
        )
    if not bases:
        ctx.say("pull: no base image this run pulled from a registry; nothing to measure")
        return
    checkpoints = ctx.checkpoints("pull")
    resumed = checkpoints.resume_from()
    saved = resumed.state.get("results", {})
    results = {b.reference: [PullResult(**r) for r in saved.get(b.reference, [])] for b in bases}
    rounds = ctx.config.rounds
    for round_ in range(resumed.done, rounds):
        for index, base in enumerate(bases, 1):  # interleaved: a noisy minute hits all alike
            what = f"{ctx.label(base)} round {round_ + 1}/{rounds}"
            with ctx.step("pull", what, index, len(bases)):
                try:
                    results[base.reference].append(_pull_again(ctx, base))
                except Exception as exc:  # one registry hiccup must not cost the others
                    ctx.fail("pull", what, exc)
        state = {ref: [asdict(r) for r in pulls] for ref, pulls in results.items()}
        checkpoints.save(round_ + 1, rounds, {"results": state})
    for base in bases:
        if results[base.reference]:
            rows = _rows(ctx, base, results[base.reference])
            ctx.run.write_measurements(f"pull-base-{ctx.label(base)}", rows)


def _pull_again(ctx: RunContext, base: BaseImage) -> PullResult:
    ctx.engine.untag(base.reference)  # this run pulled it: its name only, nobody else's
    result = ctx.engine.pull_timed(base.reference)
    if result.image_id != base.image_id:
        raise RuntimeError(
            f"{base.reference} changed on the registry during the run ({base.image_id} before, "
            f"{result.image_id} now): its pull times would mix two images"
        )
    return result


def _rows(ctx: RunContext, base: BaseImage, results: list[PullResult]) -> list[Measurement]:
    ref = ImageReference.parse(base.reference)
    network = "loopback" if ref.loopback else "network"
    where = f"{ref.registry or 'the default registry'} ({network})"
    downloaded = sorted({r.layers_downloaded for r in results})
    present = sorted({r.layers_present for r in results})
    detail = (
        f"download plus extraction from {where}; layers downloaded "
        f"{'/'.join(map(str, downloaded))}, already on the engine {'/'.join(map(str, present))}"
    )
    tags = ctx.tags(base)
    return [
        Measurement("pull", "base", "pull", "s", [r.seconds for r in results], tags, detail),
        Measurement(
            "pull", "base", "layers_present", "count", [r.layers_present for r in results], tags
        ),
    ]
