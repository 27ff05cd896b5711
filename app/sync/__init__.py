"""The sync worker: drains the outbox to the platform with leases, per-device order and retries."""
