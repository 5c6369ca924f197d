"""Build the third-party Lambda layer without Docker: `python -m cdk.layers` (`make layers`).

The lock's `lambda` dependency group is exported to a requirements file and installed as
manylinux aarch64 / CPython 3.13 wheels into build/layers/dependencies/python, which is the layer
the stack deploys. Only binary wheels are accepted, so nothing is compiled for the build machine's
platform by mistake.

The build is cached: a stamp file holds the hash of the requirements (and of the target
platform) that the layer was built from, and a build with the same hash is skipped. The layer is
assembled in a temporary folder and moved into place only when complete, so an interrupted build
never leaves a half-filled layer behind a valid stamp.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cdk import REPO_ROOT

LAYERS_BUILD_DIR = REPO_ROOT / "build" / "layers"
DEPENDENCIES_LAYER_DIR = LAYERS_BUILD_DIR / "dependencies"
REQUIREMENTS_FILE = LAYERS_BUILD_DIR / "requirements-lambda.txt"
STAMP_FILE = LAYERS_BUILD_DIR / "dependencies.stamp"

DEPENDENCY_GROUP = "lambda"
# The Lambda runtime the wheels are chosen for; the stack deploys Python 3.13 on arm64.
PYTHON_PLATFORM = "aarch64-manylinux2014"
PYTHON_VERSION = "3.13"
# Folders that only cost layer size (the layer limit is 250 MB unzipped with the function code).
STRIPPED_DIRECTORIES = ("__pycache__", "tests")


class LayerNotBuiltError(RuntimeError):
    """The stack was synthesized before `make layers` built the dependencies layer."""


def find_uv() -> str:
    """uv as the Makefile installs it (.tools/bin/uv), else the venv's, else the one on PATH."""
    search = [str(REPO_ROOT / ".tools" / "bin"), str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]
    found = shutil.which("uv", path=os.pathsep.join(search))
    if found is None:
        raise FileNotFoundError("uv not found (.tools/bin/uv, the venv or PATH): run `make install` first")
    return found


def export_requirements(uv: str) -> str:
    """The locked `lambda` group as a pip requirements file (exact pins, no hashes)."""
    result = subprocess.run(
        [uv, "export", "--frozen", "--quiet", "--only-group", DEPENDENCY_GROUP, "--no-hashes", "--no-emit-project"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def requirements_hash(requirements: str) -> str:
    # Comments carry the export command, not the dependencies; the platform is part of the build.
    pins = [line.strip() for line in requirements.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    # The building interpreter decides whether bytecode ships (see precompile).
    builder = f"built-by-{sys.version_info.major}.{sys.version_info.minor}"
    material = "\n".join([PYTHON_PLATFORM, PYTHON_VERSION, builder, *pins])
    return hashlib.sha256(material.encode()).hexdigest()


def is_current(digest: str) -> bool:
    return (
        STAMP_FILE.is_file()
        and STAMP_FILE.read_text().strip() == digest
        and (DEPENDENCIES_LAYER_DIR / "python").is_dir()
    )


def strip(site_packages: Path) -> None:
    for name in STRIPPED_DIRECTORIES:
        for path in sorted(site_packages.rglob(name), reverse=True):
            if path.is_dir():
                shutil.rmtree(path)
    # Console scripts point at the build machine's interpreter; nothing in Lambda runs them.
    shutil.rmtree(site_packages / "bin", ignore_errors=True)


def install(uv: str, requirements_file: Path, target: Path) -> None:
    subprocess.run(
        [
            uv, "pip", "install",
            "--quiet",
            "--python-platform", PYTHON_PLATFORM,
            "--python-version", PYTHON_VERSION,
            "--only-binary", ":all:",
            "--target", str(target),
            "-r", str(requirements_file),
        ],
        cwd=REPO_ROOT,
        check=True,
    )  # fmt: skip


def precompile(site_packages: Path) -> bool:
    """Ship bytecode: /opt is read-only in Lambda, so without .pyc every cold start compiles every
    module it imports (measured: ~1.1 s instead of ~0.25 s of CPU for boto3 and a client; see
    docs/design.md). Only an interpreter of the runtime's version makes usable bytecode, and the
    hash-based form stays valid although zip archives do not keep file times."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" != PYTHON_VERSION:
        print(f"layers: not precompiling (Python {sys.version.split()[0]} is not {PYTHON_VERSION})")
        return False
    return compileall.compile_dir(
        str(site_packages), quiet=2, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )


def build(force: bool = False) -> Path:
    """Build the dependencies layer if its requirements changed; return the layer directory."""
    uv = find_uv()
    requirements = export_requirements(uv)
    digest = requirements_hash(requirements)
    if not force and is_current(digest):
        print(f"layers: {DEPENDENCIES_LAYER_DIR.relative_to(REPO_ROOT)} is up to date")
        return DEPENDENCIES_LAYER_DIR

    LAYERS_BUILD_DIR.mkdir(parents=True, exist_ok=True)
    REQUIREMENTS_FILE.write_text(requirements)
    STAMP_FILE.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(dir=LAYERS_BUILD_DIR, prefix=".dependencies-") as staging:
        layer = Path(staging) / "layer"
        site_packages = layer / "python"  # Lambda puts a layer's python/ folder on sys.path
        install(uv, REQUIREMENTS_FILE, site_packages)
        strip(site_packages)
        precompile(site_packages)
        shutil.rmtree(DEPENDENCIES_LAYER_DIR, ignore_errors=True)
        layer.rename(DEPENDENCIES_LAYER_DIR)
    STAMP_FILE.write_text(digest + "\n")
    target = f"{PYTHON_PLATFORM}, cp{PYTHON_VERSION.replace('.', '')}"
    print(f"layers: built {DEPENDENCIES_LAYER_DIR.relative_to(REPO_ROOT)} ({target})")
    return DEPENDENCIES_LAYER_DIR


def built_dependencies_layer() -> Path:
    """The built layer directory, for the stack; fails clearly when `make layers` has not run."""
    if not (DEPENDENCIES_LAYER_DIR / "python").is_dir() or not STAMP_FILE.is_file():
        raise LayerNotBuiltError(
            f"The Lambda dependencies layer is not built ({DEPENDENCIES_LAYER_DIR} is missing). "
            "Run `make layers` (.venv/bin/python -m cdk.layers) before synthesizing."
        )
    return DEPENDENCIES_LAYER_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cdk.layers", description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if the stamp matches")
    args = parser.parse_args(argv)
    try:
        build(force=args.force)
    except (FileNotFoundError, subprocess.CalledProcessError) as error:
        print(f"layers: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
