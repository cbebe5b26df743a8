"""ebscan: find eclipsing binaries in TESS light curves with CALNet.

In a notebook: ``ebscan.score(x)`` scores light curves (files, lightkurve objects)
or stars by TIC, ``ebscan.preprocess(x)`` gives CALNet's input vectors
(:mod:`ebscan.notebook`, ``docs/notebook.md``).
"""

import sys
import types
from importlib.metadata import PackageNotFoundError, version

from ebscan.notebook import preprocess, score

try:
    __version__ = version("ebscan")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "preprocess", "score"]


class _Package(types.ModuleType):
    """The ``ebscan`` package, whose ``preprocess`` stays the function.

    Importing a submodule binds it to its name in the package, so the first
    ``import ebscan.preprocess`` (anywhere) would replace the function
    ``ebscan.preprocess`` with the module. The module is still
    ``sys.modules["ebscan.preprocess"]``, and ``from ebscan.preprocess import ...``
    works as always.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name in __all__ and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
