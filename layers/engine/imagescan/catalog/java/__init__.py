"""Java archives (jar, war, ear, ...): Maven components from pom.properties, MANIFEST.MF and file names."""

from imagescan.catalog.java.cataloger import JavaArchiveCataloger, catalog_archive
from imagescan.catalog.java.zipaccess import Limits

__all__ = ["JavaArchiveCataloger", "Limits", "catalog_archive"]
