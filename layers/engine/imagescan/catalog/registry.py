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


def package_catalogers() -> list[Cataloger]:
    """What an SBOM needs: the OS release and every package cataloger."""
    return [OsReleaseCataloger(), DpkgCataloger(), ApkCataloger(), RpmCataloger(),
            PythonCataloger(), NpmCataloger(), GemCataloger(), ComposerCataloger(), DotnetCataloger(),
            GoBinaryCataloger(), RustAuditableCataloger(), RuntimeCataloger(),
            JavaArchiveCataloger()]


def default_catalogers() -> list[Cataloger]:
    """What a scan runs: the package catalogers and the secrets scanner, which reads every text file and so is
    left out of `imagescan sbom` (its rules are compiled on first use)."""
    from imagescan.secrets.cataloger import SecretsCataloger

    return [*package_catalogers(), SecretsCataloger()]
