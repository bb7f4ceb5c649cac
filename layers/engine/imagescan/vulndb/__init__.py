"""The vulnerability database: an SQLite file built offline from feed files (OSV, Debian tracker, Alpine secdb,
Amazon Linux ALAS, CISA KEV, EPSS, end-of-life), and the read API that matching uses. Schema: docs/database.md.

Import from the submodules (``store.VulnDB``, ``builder.build_database``, ``models``, ``errors``): this package
imports nothing, so that reading the database or catching its errors does not pay for the builder and its feed
parsers."""
