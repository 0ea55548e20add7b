"""``python -m caliper_schema``: the same as the ``caliper-schema`` command."""

import sys

from caliper_schema.cli import main

sys.exit(main())
