"""``python -m ebscan.cli``: the ``ebscan`` command."""

import sys

from ebscan.cli import main

sys.exit(main())
