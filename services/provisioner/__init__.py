"""Provisioner: consumes store commands, renders the engine's chart, applies it."""
