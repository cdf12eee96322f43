"""Developer tooling: the dev stack, the devcluster, the real node, the embedded NATS.

Only in source checkouts: the wheel, and so the image, leaves this package out
(pyproject.toml). The services never import it; the `urumi` command offers
`urumi dev` only where it is present (services/cli/main.py).
"""
