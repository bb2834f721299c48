import pytest

from basebench.errors import ConfigError
from basebench.variants import check_combination, load_catalogue

REQUIRED = [
    "stretch",
    "slim-stretch",
    "buster",
    "slim-buster",
    "bullseye",
    "slim-bullseye",
    "bookworm",
    "slim-bookworm",
    "trixie",
    "slim-trixie",
    "alpine",
]


def test_catalogue_has_the_required_variants():
    catalogue = load_catalogue()
    assert set(REQUIRED) <= set(catalogue.names())


def test_official_reference_and_mirror_prefix():
    catalogue = load_catalogue()
    assert catalogue.get("slim-trixie").official_reference("3.13") == "python:3.13-slim-trixie"
    assert (
        catalogue.get("alpine3.23").official_reference("3.14", "mirror.internal:5000/hub/")
        == "mirror.internal:5000/hub/python:3.14-alpine3.23"
    )


def test_families_and_libcs():
    catalogue = load_catalogue()
    assert catalogue.get("alpine").libc == "musl"
    assert catalogue.get("trixie").family == "debian-full"
    assert catalogue.get("slim-bookworm").slim
    assert not catalogue.get("bookworm").slim


def test_availability_table():
    catalogue = load_catalogue()
    check_combination(catalogue.get("slim-buster"), "3.8", "official")
    with pytest.raises(ConfigError, match="3.12"):
        check_combination(catalogue.get("slim-buster"), "3.12", "official")
    with pytest.raises(ConfigError, match="archived"):
        check_combination(catalogue.get("stretch"), "3.9", "local")
    with pytest.raises(ConfigError, match="base source"):
        check_combination(catalogue.get("trixie"), "3.13", "cloud")
    assert catalogue.get("slim-trixie").check_local().target == "slim"
    assert catalogue.get("alpine").check_local().recipe == "musl.Dockerfile"


def test_seed_variants_are_official_only_with_their_lifecycle():
    catalogue = load_catalogue()
    for name in ("stretch", "slim-stretch", "buster", "slim-buster"):
        variant = catalogue.get(name)
        assert variant.local is None, name
        assert variant.official_tags_until < variant.debian_eol, name
        assert "frozen since" in variant.lifecycle()
    # Checked against docker-library/python's history: 3.8 never had a stretch tag, 3.12 no
    # buster one (release candidates only).
    assert "3.8" not in catalogue.get("stretch").official_pythons
    assert catalogue.get("slim-buster").official_reference("3.8") == "python:3.8-slim-buster"
    assert "3.12" not in catalogue.get("buster").official_pythons
    assert catalogue.get("bullseye").local is not None  # Debian's mirror still serves it
    assert catalogue.get("slim-trixie").lifecycle() == ""


def test_catalogue_dates_are_checked(tmp_path):
    path = tmp_path / "variants.toml"
    path.write_text(
        '[[variant]]\nname="x"\nfamily="debian-full"\nlibc="glibc"\nsuite="s"\n'
        'official_tag="{python}"\nofficial_pythons=[]\ndebian_eol="June 2024"\n'
    )
    with pytest.raises(ConfigError, match="debian_eol must be a date"):
        load_catalogue(path)


def test_broken_catalogue_is_reported(tmp_path):
    path = tmp_path / "variants.toml"
    path.write_text('[[variant]]\nname = "x"\nfamily = "debian-full"\n')
    with pytest.raises(ConfigError, match="missing field 'libc'"):
        load_catalogue(path)
    path.write_text(
        '[[variant]]\nname="x"\nfamily="bsd"\nlibc="glibc"\nsuite="s"\nofficial_tag="{python}"\n'
        "official_pythons=[]\n"
    )
    with pytest.raises(ConfigError, match="family 'bsd'"):
        load_catalogue(path)


def test_same_flags_musl_twin_is_local_only():
    from basebench.bases import local_name

    catalogue = load_catalogue()
    twin = catalogue.get("musl-debianflags")
    assert twin.libc == "musl" and twin.check_local().flags == "debian"
    assert local_name(twin) == "musl-debianflags"
    assert local_name(catalogue.get("alpine3.24")) == "musl"
    with pytest.raises(ConfigError, match="no official"):
        check_combination(twin, "3.13", "official")
    check_combination(twin, "3.13", "auto")


def test_the_musl_stand_in_refuses_setup_py_era_pythons_in_one_line() -> None:
    import pytest as _pytest

    from basebench.errors import ConfigError
    from basebench.variants import load_catalogue

    alpine = load_catalogue().get("alpine")
    with _pytest.raises(ConfigError, match=r"Python 3\.11 cannot be built as the local musl"):
        alpine.check_local("3.11")
    assert alpine.check_local("3.13") is not None
    assert load_catalogue().get("slim-trixie").check_local("3.11") is not None
