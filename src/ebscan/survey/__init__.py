"""From scores to a catalog: inference on shards, the threshold and the per-star
catalog, candidate details (periods, eclipse geometry, centroids), the vetting page,
the report and the audit of a run."""
