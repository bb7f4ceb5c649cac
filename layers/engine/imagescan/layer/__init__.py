"""Per-layer analysis: decompression, the streaming tar walk, and the layer result cache key."""
