"""The Session Store CDK app: `python -m cdk.app` (cdk.json runs it) and `python -m cdk.layers`.

The stack is built from the domain package's own definitions (names, table, routes), so that
package must be importable here exactly as it is inside the Lambda layer. Putting the layer's
python/ folder on sys.path once, in this package's __init__, lets every entry point (the CDK CLI,
`make layers`, pytest, the local runtime) import `session_store` without installing it.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DOMAIN_LAYER_DIR = REPO_ROOT / "layers" / "session_store"
FUNCTIONS_DIR = REPO_ROOT / "functions"

_DOMAIN_PACKAGE_PARENT = str(DOMAIN_LAYER_DIR / "python")
if _DOMAIN_PACKAGE_PARENT not in sys.path:
    sys.path.insert(0, _DOMAIN_PACKAGE_PARENT)
