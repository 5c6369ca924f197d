"""`make bench`: this project against Agno's own DynamoDB adapter, on one DynamoDB Local, in one run.

See docs/bench.md for what is measured and how to read the results.
"""

import sys
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent
# The benchmarks run the functions' own code, as pytest does (pyproject's pythonpath): the domain
# layer's package, the handlers and the repository root (tests.support, local_runtime).
for _path in (_REPO_ROOT / "layers" / "session_store" / "python", _REPO_ROOT / "functions", _REPO_ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
