"""Scan reports: findings, the JSON report of SPEC, and the terminal table."""
