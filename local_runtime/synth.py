"""Synthesize the CDK app and find the stack template in the cloud assembly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from local_runtime.dynamodb_local import REPO_ROOT
from local_runtime.stack import REST_API

STACK_ARTIFACT = "aws:cloudformation:stack"


class SynthError(RuntimeError):
    pass


def synthesize(output_dir: Path, repo_root: Path = REPO_ROOT, context: dict[str, str] | None = None) -> None:
    """`cdk synth` into `output_dir` (the CLI reads cdk.json, so the app and its context are the ones
    `cdk deploy` would use). A separate output directory per caller keeps parallel synths (tests,
    `make synth`) from tripping over each other's cdk.out lock."""
    if not (repo_root / "cdk.json").exists():
        raise SynthError(f"{repo_root / 'cdk.json'} is missing: there is no CDK app to synthesize")
    npx = shutil.which("npx")
    if npx is None:
        raise SynthError("npx is required to synthesize the CDK app (install Node.js, then `make install`)")
    env = {
        **os.environ,
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }
    command = [npx, "--no-install", "cdk", "synth", "--quiet", "--output", str(output_dir)]
    for key, value in (context or {}).items():
        command += ["-c", f"{key}={value}"]
    result = subprocess.run(command, cwd=repo_root, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SynthError(f"`{' '.join(command[1:])}` failed:\n{result.stdout}{result.stderr}")


def find_template(assembly_dir: Path, stack_name: str | None = None) -> tuple[str, Path]:
    """The name and template of the stack that holds the REST API (or of `stack_name`), found
    through the assembly's manifest.json."""
    manifest_path = assembly_dir / "manifest.json"
    if not manifest_path.exists():
        raise SynthError(f"{manifest_path} is missing: synthesize first")
    manifest = json.loads(manifest_path.read_text())
    stacks = {
        artifact["properties"].get("stackName", artifact_id): assembly_dir / artifact["properties"]["templateFile"]
        for artifact_id, artifact in manifest.get("artifacts", {}).items()
        if artifact.get("type") == STACK_ARTIFACT
    }
    if stack_name is not None:
        if stack_name not in stacks:
            raise SynthError(f"stack {stack_name!r} is not in the assembly; stacks: {sorted(stacks)}")
        return stack_name, stacks[stack_name]
    with_api = [(name, path) for name, path in stacks.items() if _has_rest_api(path)]
    if len(with_api) != 1:
        raise SynthError(f"expected one stack with a REST API in {assembly_dir}, found {len(with_api)}; pass --stack")
    return with_api[0]


def _has_rest_api(template_path: Path) -> bool:
    resources = json.loads(template_path.read_text()).get("Resources", {})
    return any(r.get("Type") == REST_API for r in resources.values())
