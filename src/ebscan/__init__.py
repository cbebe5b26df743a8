"""ebscan: find eclipsing binaries in TESS light curves with CALNet.

In a notebook: ``ebscan.score(x)`` scores light curves (files, lightkurve objects)
or stars by TIC, ``ebscan.preprocess(x)`` gives CALNet's input vectors
(:mod:`ebscan.notebook`, ``docs/notebook.md``).
"""

from importlib.metadata import PackageNotFoundError, version

from ebscan.notebook import preprocess, score

try:
    __version__ = version("ebscan")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "preprocess", "score"]
