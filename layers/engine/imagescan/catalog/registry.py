"""The one explicit list of catalogers an image scan runs. Order does not matter; names must be unique."""

from __future__ import annotations

from imagescan.catalog.apk import ApkCataloger
from imagescan.catalog.base import Cataloger
from imagescan.catalog.dotnet import DotnetCataloger
from imagescan.catalog.dpkg import DpkgCataloger
from imagescan.catalog.golang import GoBinaryCataloger
from imagescan.catalog.java import JavaArchiveCataloger
from imagescan.catalog.npm import NpmCataloger
from imagescan.catalog.osrelease import OsReleaseCataloger
from imagescan.catalog.php import ComposerCataloger
from imagescan.catalog.python import PythonCataloger
from imagescan.catalog.rpm import RpmCataloger
from imagescan.catalog.ruby import GemCataloger
from imagescan.catalog.runtimes import RuntimeCataloger
from imagescan.catalog.rust import RustAuditableCataloger
from imagescan.secrets.cataloger import SecretsCataloger


def default_catalogers() -> list[Cataloger]:
    return [OsReleaseCataloger(), DpkgCataloger(), ApkCataloger(), RpmCataloger(),
            PythonCataloger(), NpmCataloger(), GemCataloger(), ComposerCataloger(), DotnetCataloger(),
            GoBinaryCataloger(), RustAuditableCataloger(), RuntimeCataloger(),
            JavaArchiveCataloger(),
            SecretsCataloger()]
