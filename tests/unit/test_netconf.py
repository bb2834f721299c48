from pathlib import Path

import pytest

from basebench.errors import ConfigError
from basebench.netconf import CA_CONTAINER_PATH, CABundle, detect_ca_bundle, network_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch):
    for name in (
        "PIP_CERT",
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


def found(explicit: Path | None = None) -> CABundle:
    bundle = detect_ca_bundle(explicit)
    assert bundle is not None, "no CA bundle detected"
    return bundle


def test_explicit_bundle_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    a, b = tmp_path / "a.pem", tmp_path / "b.pem"
    a.write_text("A")
    b.write_text("B")
    monkeypatch.setenv("PIP_CERT", str(a))
    assert found(b).path == b.resolve()
    assert found().origin == "PIP_CERT"


def test_detection_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    a = tmp_path / "a.pem"
    a.write_text("A")
    assert detect_ca_bundle() is None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(a))
    assert found().origin == "REQUESTS_CA_BUNDLE"
    monkeypatch.setenv("SSL_CERT_FILE", str(a))
    assert found().origin == "SSL_CERT_FILE"


def test_missing_bundle_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(ConfigError, match="no such file"):
        detect_ca_bundle(tmp_path / "nope.pem")
    monkeypatch.setenv("PIP_CERT", str(tmp_path / "gone.pem"))
    with pytest.raises(ConfigError, match="PIP_CERT=.*names no file"):
        detect_ca_bundle()


def test_container_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    settings = network_settings("host", bundle)
    env = settings.container_environment()
    assert env["PIP_CERT"] == env["SSL_CERT_FILE"] == CA_CONTAINER_PATH
    assert env["HTTPS_PROXY"] == "http://127.0.0.1:3128"
    assert settings.container_mounts() == {
        str(bundle.resolve()): {"bind": CA_CONTAINER_PATH, "mode": "ro"}
    }
    with pytest.raises(ConfigError, match="network mode"):
        network_settings("wifi")
