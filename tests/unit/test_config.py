from pathlib import Path

import pytest

from basebench.config import load_config, profiles
from basebench.errors import ConfigError
from basebench.paths import CONFIG_FILE


def test_shipped_profiles_load_and_validate():
    assert {"quick", "full"} <= set(profiles())
    for name in profiles():
        config = load_config(name)
        assert config.pythons and config.variants
        assert config.baseline_variant in config.variants


def test_quick_profile_values():
    config = load_config("quick")
    assert config.profile == "quick"
    assert config.pyperf_mode == "quick"
    assert config.rounds == 1
    assert config.allocators == ["pymalloc"]
    assert config.time_budget == "15m"


def test_command_line_overrides_profile():
    config = load_config("quick", {"variants": ["bookworm", "slim-bookworm"], "rounds": 2})
    assert config.variants == ["bookworm", "slim-bookworm"]
    assert config.rounds == 2
    # The configured baseline is not among the variants: the first slim one takes its place.
    assert config.baseline_variant == "slim-bookworm"


def test_unknown_variant_lists_known_ones():
    with pytest.raises(ConfigError) as info:
        load_config("quick", {"variants": ["slim-jessie"]})
    message = str(info.value)
    assert "unknown variant 'slim-jessie'" in message
    assert "slim-trixie" in message and "alpine" in message


def test_toml_syntax_error_names_the_line(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[defaults]\nrounds = 1\n[profiles.quick\npythons = ["3.13"]\n')
    with pytest.raises(ConfigError) as info:
        load_config("quick", path=bad)
    assert "line 3" in str(info.value)
    assert str(bad) in str(info.value)


def test_unknown_field_and_wrong_type_say_where(tmp_path: Path):
    config = tmp_path / "c.toml"
    config.write_text('[profiles.p]\npythons = ["3.13"]\nvariants = ["trixie"]\ncolour = 1\n')
    with pytest.raises(ConfigError, match=r"\[profiles.p\]: unknown field 'colour'"):
        load_config("p", path=config)
    config.write_text('[profiles.p]\npythons = ["3.13"]\nvariants = ["trixie"]\nrounds = "x"\n')
    with pytest.raises(ConfigError, match="rounds must be a whole number"):
        load_config("p", path=config)


def test_unknown_profile_lists_profiles():
    with pytest.raises(ConfigError, match="no profile 'nope'; profiles: quick"):
        load_config("nope")


def test_impossible_combinations_are_refused_before_work():
    with pytest.raises(ConfigError, match="the local source cannot build it"):
        load_config("quick", {"variants": ["buster"], "base_source": "local"})
    with pytest.raises(ConfigError, match=r"no official python:3.13-buster image"):
        load_config("quick", {"variants": ["buster"], "base_source": "official"})
    # auto needs at least one of the two paths
    with pytest.raises(ConfigError, match="slim-stretch with Python 3.13"):
        load_config("quick", {"variants": ["slim-stretch"], "base_source": "auto"})
    # Python 3.9 on buster exists officially, so auto accepts it
    config = load_config("quick", {"variants": ["buster"], "pythons": ["3.9"]})
    assert config.variants == ["buster"]


def test_seed_variants_on_the_local_source_are_one_line():
    # The seed's Python 3.8 on buster: official tags exist; the local source says, in one line
    # naming both variants, that it cannot build them (not a line per Python or per variant).
    overrides = {"pythons": ["3.8"], "variants": ["buster", "slim-buster"]}
    with pytest.raises(ConfigError) as refused:
        load_config("quick", {**overrides, "base_source": "local"})
    message = str(refused.value)
    assert "\n" not in message
    assert "buster, slim-buster: the local source cannot build them" in message
    assert "--base-source official" in message
    config = load_config("quick", {**overrides, "base_source": "official"})
    assert config.variants == ["buster", "slim-buster"]


def test_bad_values_are_refused():
    with pytest.raises(ConfigError, match="--opt-level .O3.: use one of"):
        load_config("quick", {"opt_level": "O3"})
    with pytest.raises(ConfigError, match="must look like 3.13"):
        load_config("quick", {"pythons": ["3"]})
    with pytest.raises(ConfigError, match="unknown group"):
        load_config("quick", {"groups": ["vibes"]})


def test_config_file_is_the_shipped_one():
    assert CONFIG_FILE.name == "basebench.toml"
    assert CONFIG_FILE.parent.name == "benchmarks"
