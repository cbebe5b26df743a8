"""Getting light curves: the products surveyed, their manifests and verified
downloads from MAST, searches by TIC, and a local stand-in for MAST."""
