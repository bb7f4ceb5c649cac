"""The one explicit list of catalogers an image scan runs. Order does not matter; names must be unique."""

from __future__ import annotations

from imagescan.catalog.apk import ApkCataloger
from imagescan.catalog.base import Cataloger
from imagescan.catalog.dpkg import DpkgCataloger
from imagescan.catalog.osrelease import OsReleaseCataloger
from imagescan.catalog.rpm import RpmCataloger


def default_catalogers() -> list[Cataloger]:
    return [OsReleaseCataloger(), DpkgCataloger(), ApkCataloger(), RpmCataloger()]
