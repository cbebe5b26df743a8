"""Simulated light curves: eclipsing binaries and other signals, whole simulated
sectors in the SPOC format, and injections into real light curves."""
