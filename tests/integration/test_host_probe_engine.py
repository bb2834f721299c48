"""Host probes against the real engine: the container probe's image, and its timings."""

from basebench.engine import Engine
from basebench.labels import KIND as KIND_LABEL
from basebench.labels import MANAGED as MANAGED_LABEL
from basebench.labels import REF as REF_LABEL
from basebench.limits import Limits
from basebench.measure._host_probe import HostProbe, container_probe, ensure_probe_image


def test_probe_image_is_the_hosts_true_and_labelled(engine: Engine) -> None:
    tag, command = ensure_probe_image(engine)
    labels = engine.inspect_image(tag)["Config"]["Labels"]
    assert labels[MANAGED_LABEL] == "true"
    assert labels[KIND_LABEL] == "probe"
    assert labels[REF_LABEL] == tag  # so `basebench clean` removes it, and only by this tag
    # The same host gives the same image: every run times the same container.
    assert ensure_probe_image(engine) == (tag, command)
    result = engine.run(tag, [command], kind="probe")
    assert result.exit_code == 0, result.output


def test_container_probe_times_container_starts_and_leaves_nothing(engine: Engine) -> None:
    probe = HostProbe(cpuset="", iterations=5_000, container=container_probe(engine, Limits()))
    for _ in range(3):
        probe.sample("startup")
    times = probe.container_times["startup"]
    assert len(times) == 3 and all(0.0 < t < 120.0 for t in times)
    tag, _ = ensure_probe_image(engine)
    assert not engine.client.containers.list(all=True, filters={"ancestor": tag})
    rows = {m.metric: m for m in probe.measurements()}
    assert list(rows["container_probe_time"].values) == times
