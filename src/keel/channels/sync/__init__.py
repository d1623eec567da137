"""The channel sync engine: desired state per listing, connectors, delivery, ownership of channels by workers."""
