"""The Lambda layers: third-party wheels built for manylinux aarch64 / CPython 3.13 without Docker,
cached by the hash of the locked requirements, and a clear failure when they were never built."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdk import app as cdk_app
from cdk import layers

pytestmark = [pytest.mark.xdist_group("infra"), pytest.mark.infra]

PYDANTIC_CORE_BINARY = "_pydantic_core.cpython-313-aarch64-linux-gnu.so"


def layer_asset(stack, description_start: str) -> Path:
    """The folder the synthesized assembly deploys as a layer (its aws:asset:path metadata)."""
    (layer,) = [
        layer
        for layer in stack.of_type("AWS::Lambda::LayerVersion").values()
        if layer["Properties"]["Description"].startswith(description_start)
    ]
    return stack.outdir / layer["Metadata"]["aws:asset:path"]


def test_dependencies_layer_holds_aarch64_cp313_wheels(default_stack):
    site_packages = layer_asset(default_stack, "Third-party") / "python"
    assert list(site_packages.rglob(PYDANTIC_CORE_BINARY)), "pydantic_core for aarch64/cp313 is missing"
    for package in ("aws_lambda_powertools", "pydantic", "boto3"):
        assert (site_packages / package).is_dir(), package
    extensions = list(site_packages.rglob("*.so"))
    assert extensions and not [so for so in extensions if "x86_64" in so.name or "cpython-313" not in so.name]


def test_dependencies_layer_ships_hash_based_bytecode_for_the_runtime(default_stack):
    """/opt is read-only: without bytecode every cold start compiles every module it imports."""
    import sys

    if sys.version_info[:2] != (3, 13):
        pytest.skip("bytecode for the 3.13 runtime is only built by a 3.13 interpreter")
    site_packages = layer_asset(default_stack, "Third-party") / "python"
    compiled = list(site_packages.rglob("*.pyc"))
    assert (site_packages / "botocore" / "__pycache__" / "client.cpython-313.pyc") in compiled
    assert all(path.name.endswith(".cpython-313.pyc") for path in compiled)
    # PEP 552 flags: hash-based (bit 0) without source check (bit 1 clear) survives zip timestamps.
    assert {int.from_bytes(path.read_bytes()[4:8], "little") for path in compiled[:50]} == {0b01}


def test_domain_layer_holds_the_session_store_package(default_stack):
    package = layer_asset(default_stack, "The session_store") / "python" / "session_store"
    assert (package / "names.py").is_file() and (package / "routes.py").is_file()


def test_build_is_skipped_when_the_requirements_are_unchanged(capsys):
    layers.build()
    capsys.readouterr()
    stamp = layers.STAMP_FILE.read_text()
    layers.build()
    assert "up to date" in capsys.readouterr().out
    assert layers.STAMP_FILE.read_text() == stamp


def test_requirements_hash_covers_pins_and_platform_not_comments():
    requirements = "# exported by uv\npydantic==2.14.3\n    # via agno\n"
    assert layers.requirements_hash(requirements) == layers.requirements_hash("pydantic==2.14.3\n")
    assert layers.requirements_hash(requirements) != layers.requirements_hash("pydantic==2.14.4\n")


def test_synth_fails_clearly_without_the_dependencies_layer(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(layers, "DEPENDENCIES_LAYER_DIR", tmp_path / "dependencies")
    with pytest.raises(layers.LayerNotBuiltError, match="make layers"):
        cdk_app.build_app(outdir=str(tmp_path / "out"))
    assert cdk_app.main() == 1
    assert "make layers" in capsys.readouterr().err
