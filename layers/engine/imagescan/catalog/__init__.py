"""Catalogers: readers of package databases and other files, each declaring the paths it needs."""
