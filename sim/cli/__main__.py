"""``python -m sim.cli``: the same as the ``wfsim`` command."""
from . import main

main()
