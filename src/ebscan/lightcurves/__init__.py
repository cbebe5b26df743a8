"""From light-curve files to shards: reading, segments, resampling, the periodogram,
and the HDF5 shards of CALNet's input vectors."""
