"""Image sources: registries, OCI layouts and archives, all read without Docker."""
