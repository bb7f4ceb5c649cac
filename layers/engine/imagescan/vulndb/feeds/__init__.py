"""Feed readers: one module per source format. Each turns parsed feed content into :mod:`imagescan.vulndb.records`
items; :mod:`imagescan.vulndb.feeds.detect` recognises the format of a file by its content."""
