"""The prior-authorization case screen, one module per part of it."""
