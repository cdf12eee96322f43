"""What crosses the wire between Urumi services. No I/O here."""
