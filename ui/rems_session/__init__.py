"""The REMS session log screen, one module per part of it."""
