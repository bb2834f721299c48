"""Layer kinds for every family, on layers as the committed runs recorded them."""

from __future__ import annotations

import pytest
from layer_sample import FULL_BASE, MUSL_BASE, MUSL_BUILDER, SINGLE_FULL_OWN, SLIM_BASE

from basebench.layers import (
    APP,
    OS,
    OS_PYTHON,
    PYTHON,
    Layer,
    classify,
    leading_matches,
    recover_runs_on,
)
from basebench.measure.sizes import LayerSize, _classify


def test_the_musl_stand_in_base_is_one_layer_of_os_and_python() -> None:
    # Its COPY brings busybox, musl and CPython at once; the check after it only runs Python.
    assert classify(MUSL_BASE, runs_on=2) == [OS_PYTHON, PYTHON]


def test_single_full_on_the_musl_builder_is_builder_os_python_then_app() -> None:
    image = MUSL_BUILDER + SINGLE_FULL_OWN
    assert classify(image, runs_on=len(MUSL_BUILDER)) == [OS] * 9 + [PYTHON] * 2 + [APP] * 4
    # What the runs before the fix did: measured against the stand-in, no layer in common.
    assert classify(image, runs_on=0) == [APP] * len(image)


@pytest.mark.parametrize(
    ("layers", "kinds"),
    [
        pytest.param(SLIM_BASE, [OS, PYTHON, PYTHON], id="slim: COPY of /usr/local"),
        pytest.param(FULL_BASE, [OS, OS, PYTHON], id="full: CPython built in its own layer"),
        pytest.param(MUSL_BASE, [OS_PYTHON, PYTHON], id="musl stand-in: one tree"),
    ],
)
def test_every_family_has_its_python(layers: list[Layer], kinds: list[str]) -> None:
    assert classify(layers, runs_on=len(layers)) == kinds


def test_official_alpine_installs_python_in_its_own_layer() -> None:
    layers = [
        Layer("ADD alpine-minirootfs-3.23.0-x86_64.tar.gz / # buildkit", 8_000_000),
        Layer("RUN /bin/sh -c set -eux; apk add --no-cache ca-certificates tzdata", 1_200_000),
        Layer(
            "RUN /bin/sh -c set -eux; apk add --no-cache --virtual .build-deps gcc; wget -O "
            "python.tar.xz ...; make install; python3 --version",
            40_000_000,
        ),
    ]
    assert classify(layers, runs_on=3) == [OS, OS, PYTHON]


def test_a_check_that_only_mentions_a_path_is_no_evidence_of_an_earlier_python() -> None:
    layers = [Layer("ADD rootfs /", 5_000_000), Layer("RUN mkdir -p /usr/local/lib/python", 0)]
    assert classify(layers, runs_on=2) == [OS, PYTHON]


def test_measuring_side_classifies_against_the_image_the_final_stage_runs_on() -> None:
    builder = [f"sha256:builder-{i}" for i in range(len(MUSL_BUILDER))]
    own = [f"sha256:app-{i}" for i in range(len(SINGLE_FULL_OWN))]
    layers = [
        LayerSize(diff_id, layer.size, 1, layer.created_by)
        for diff_id, layer in zip(builder + own, MUSL_BUILDER + SINGLE_FULL_OWN, strict=True)
    ]
    _classify(layers, builder)
    assert [layer.kind for layer in layers] == [OS] * 9 + [PYTHON] * 2 + [APP] * 4
    assert leading_matches(builder + own, ["sha256:musl-stand-in"]) == 0


def test_kinds_of_older_runs_are_recovered_from_the_same_strategy_elsewhere() -> None:
    stored = [APP] * 15  # alpine single-full in the committed quick run
    # single-full on trixie stored [os, os, python, app, app, app, app]: 4 layers of its own.
    assert recover_runs_on(stored, own_layers=4) == 11
    assert recover_runs_on([OS, PYTHON, APP], own_layers=4) == 2
    assert recover_runs_on(stored, own_layers=None) is None
    assert recover_runs_on(stored, own_layers=15) is None
