"""The savings program screen, one module per part of it."""
