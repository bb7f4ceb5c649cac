"""SBOM output: package URLs and CycloneDX documents."""
