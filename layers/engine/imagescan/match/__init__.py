"""Vulnerability matching: an image's inventory against the vulnerability database, OSV range semantics, and fix
guidance. Entry point: :func:`match_inventory`; the image check that runs it is :class:`.check.VulnerabilityCheck`."""

from imagescan.match.inventory import Inventory, inventory_from_analysis
from imagescan.match.matcher import MatchCache, MatchNote, MatchResult, match_inventory

__all__ = ["Inventory", "MatchCache", "MatchNote", "MatchResult", "inventory_from_analysis", "match_inventory"]
