"""Errors that end a scan with a clear one-line reason (CLI exit code 2)."""


class ScanError(Exception):
    """The image could not be scanned. The message is shown to the user as is."""


class ReferenceError_(ScanError):
    """The IMAGE string could not be understood."""


class ManifestError(ScanError):
    """A manifest or index is malformed, of an unsupported type, or has no matching platform."""


class RegistryError(ScanError):
    """The registry refused or failed a request."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class DigestMismatch(ScanError):
    """A blob's content does not match the digest it was requested by."""


class LayerError(ScanError):
    """A layer could not be read (corrupt, truncated, too large)."""
