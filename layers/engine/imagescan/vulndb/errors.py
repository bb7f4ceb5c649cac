"""Errors of the vulnerability database: building it from feed files and reading it."""


class VulnDBError(Exception):
    """The database could not be built or read. The message is shown to the user as is."""


class FeedError(VulnDBError):
    """One feed file is malformed or of no recognised format. The build records it and goes on with the others."""
