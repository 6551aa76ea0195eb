"""The products' real frontends against `make dev` (`make frontends`; docs/compat.md).

Collected only where `ATELIER_FRONTENDS_MIRROR` names a directory holding the frontends' git
mirrors (`<owner>+<name>/repo`) and npm is installed: the default run never sees these tests, so
none of them is skipped there for want of what it needs.
"""

from __future__ import annotations

import os

collect_ignore_glob = [] if os.environ.get("ATELIER_FRONTENDS_MIRROR") else ["test_*.py"]
