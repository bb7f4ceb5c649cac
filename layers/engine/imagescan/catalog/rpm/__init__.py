"""rpm package databases: BerkeleyDB ``Packages``, ndb ``Packages.db`` and ``rpmdb.sqlite``, read in pure Python."""

from imagescan.catalog.rpm.cataloger import RpmCataloger

__all__ = ["RpmCataloger"]
