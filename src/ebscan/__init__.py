"""ebscan: find eclipsing binaries in TESS light curves with CALNet."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ebscan")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
