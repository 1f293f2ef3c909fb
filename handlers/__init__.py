"""Command handlers: one module per command family; each handler acts inside the message's unit of work."""
