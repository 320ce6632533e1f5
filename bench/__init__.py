"""Performance benchmark of pendo-elt against the raw limit (``make bench``; see docs/performance.md)."""
