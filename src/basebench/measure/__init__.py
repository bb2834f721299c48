"""Measurements, one module per benchmark group, all driven through a RunContext.

Which groups exist, and in which order they run, is :mod:`basebench.groups`. Each group module
exposes ``measure(ctx: RunContext) -> None`` (:mod:`basebench.measure._context`). It writes its
results into ``ctx.run`` in the store's formats and reports problems with ``ctx.fail(...)``: a
failure is collected and the run goes on (like pyperformance), so one broken variant never
costs the others. Images a group builds are registered with ``ctx.add_image(...)`` so later
groups (size, start-up) measure them too.

This package's own module imports nothing, so that reading the group registry or a result
never needs the Docker SDK.
"""
