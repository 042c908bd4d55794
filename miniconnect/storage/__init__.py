"""Backing stores: source offsets, connector configs and statuses."""
