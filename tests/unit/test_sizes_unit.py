"""Image size arithmetic on synthetic layers: wasted bytes, per-layer sizes, layer kinds."""

from __future__ import annotations

import pytest

from basebench.measure.sizes import LayerSize, _classify, _layer_sizes, wasted_bytes

Layer = tuple[dict[str, int], set[str], set[str]]  # files, whiteouts, opaque dirs


def layer(
    files: dict[str, int] | None = None,
    whiteouts: tuple[str, ...] = (),
    opaque: tuple[str, ...] = (),
) -> Layer:
    return dict(files or {}), set(whiteouts), set(opaque)


# --- wasted bytes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layers", "wasted"),
    [
        pytest.param([], 0, id="no layers"),
        pytest.param([layer({"/a": 10, "/b": 5})], 0, id="one layer"),
        pytest.param([layer({"/a": 10}), layer({"/b": 5})], 0, id="new files only"),
        pytest.param([layer({"/a": 10}), layer({"/a": 3})], 10, id="overwritten"),
        pytest.param(
            [layer({"/a": 10}), layer({"/a": 3}), layer({"/a": 1})], 13, id="overwritten twice"
        ),
        pytest.param([layer({"/a": 10}), layer({"/a": 10})], 10, id="same size rewritten"),
        pytest.param([layer({"/a": 10, "/b": 5}), layer(whiteouts=("/a",))], 10, id="deleted"),
        pytest.param([layer({"/a": 10}), layer(whiteouts=("/gone",))], 0, id="deleted nothing"),
        pytest.param(
            [layer({"/d/x": 4, "/d/sub/y": 6, "/dx": 7}), layer(whiteouts=("/d",))],
            10,
            id="deleted directory, not its prefix-sharing neighbour",
        ),
        pytest.param(
            [layer({"/a": 10}), layer(whiteouts=("/a",)), layer({"/a": 2})],
            10,
            id="deleted then added again",
        ),
        pytest.param(
            [layer({"/d/x": 4, "/d/sub/y": 6, "/e/z": 1}), layer({"/d/new": 2}, opaque=("/d",))],
            10,
            id="opaque directory keeps its own layer's files",
        ),
        pytest.param(
            [layer({"/d.txt": 3, "/dd/x": 5}), layer(opaque=("/d",))],
            0,
            id="opaque hides only what is below it",
        ),
        pytest.param(
            [layer({"/a": 10}), layer(), layer(), layer({"/a": 1})], 10, id="empty layers"
        ),
        pytest.param(
            [layer({"/a": 10, "/b": 5}), layer({"/a": 1}, whiteouts=("/b",)), layer({"/a": 1})],
            16,
            id="overwrites and deletes add up",
        ),
    ],
)
def test_wasted_bytes(layers: list[Layer], wasted: int) -> None:
    assert wasted_bytes(layers) == wasted


# --- per-layer sizes from the engine's history ------------------------------------------------


@pytest.mark.parametrize(
    ("engine_sizes", "layer_files", "sizes"),
    [
        pytest.param([100, 50], [{"/a": 90}, {"/b": 40}], [100, 50], id="one entry per layer"),
        pytest.param(
            [0, 100, 0, 0, 50, 0], [{"/a": 90}, {"/b": 40}], [100, 50], id="metadata entries"
        ),
        pytest.param(
            [100, 0, 0, 50], [{"/a": 90}, {}, {"/b": 40}], [100, 0, 50], id="whiteout-only layer"
        ),
        pytest.param([0, 7], [{"/empty": 0}], [0], id="layer of empty files takes a zero"),
        pytest.param([7], [{"/empty": 0}], [7], id="or a non-zero entry"),
        pytest.param([100], [{"/a": 90}, {"/b": 40}], [], id="too few entries"),
        pytest.param([100, 50], [{"/a": 90}, {}], [], id="no zero entry for a whiteout layer"),
        pytest.param([], [], [], id="no layers"),
    ],
)
def test_layer_sizes(engine_sizes: list[int], layer_files: list[dict[str, int]], sizes: list[int]):
    assert _layer_sizes(engine_sizes, layer_files) == sizes


# --- layer kinds ------------------------------------------------------------------------------


def _kinds(created_by: list[str], in_base: int) -> list[str]:
    layers = [LayerSize(f"sha256:{i}", 1, 1, text) for i, text in enumerate(created_by)]
    _classify(layers, [layer.diff_id for layer in layers[:in_base]])
    return [layer.kind for layer in layers]


def test_os_then_python_then_app() -> None:
    history = [
        "/bin/sh -c #(nop) ADD file:1234 in / ",
        "RUN /bin/sh -c apt-get update && apt-get install -y ca-certificates # buildkit",
        "RUN /bin/sh -c set -eux; wget -O python.tar.xz ...; ./configure # buildkit",
        "RUN /bin/sh -c set -eux; for src in idle3 pydoc3; do ln -svT $src; done # buildkit",
        "COPY requirements.lock /app/ # buildkit",
        "RUN /bin/sh -c pip install -r /app/requirements.lock # buildkit",
    ]
    assert _kinds(history, in_base=4) == ["os", "os", "python", "python", "app", "app"]


@pytest.mark.parametrize(
    "created_by",
    ["RUN pip install x", "ENV PYTHON_VERSION=3.13.5", "COPY . /usr/local/lib", "RUN gpg GPG_KEY"],
)
def test_what_marks_the_python_layers(created_by: str) -> None:
    assert _kinds(["ADD rootfs /", created_by, "RUN true"], in_base=3) == [
        "os",
        "python",
        "python",
    ]


def test_a_base_image_has_no_app_layers_and_may_have_no_python_layer() -> None:
    assert _kinds(["ADD rootfs /", "RUN apt-get install gcc"], in_base=2) == ["os", "os"]
    assert _kinds(["ADD rootfs /", "RUN pip install x"], in_base=0) == ["app", "app"]


def test_a_layer_above_the_base_is_app_even_if_the_base_has_the_same_layer() -> None:
    empty = "sha256:empty-layer"  # every layer without changes has this same diff_id
    layers = [
        LayerSize("sha256:rootfs", 1, 1, "ADD rootfs /"),
        LayerSize(empty, 0, 1, "RUN mkdir -p /usr/local/lib/python"),
        LayerSize(empty, 0, 1, "RUN true"),
    ]
    _classify(layers, ["sha256:rootfs", empty])
    assert [layer.kind for layer in layers] == ["os", "python", "app"]
