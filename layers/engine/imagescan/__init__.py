"""imagescan: the scan engine shared by the CLI and the Lambda functions."""

__version__ = "0.1.0"
