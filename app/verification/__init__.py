"""Install verification: watch an installed device on the platform until it reports or the
window ends (policy: `watch`; database: `schedule`, `claims`, `recorder`; platform: `look`).

The sync worker runs it beside outbox steps and read-backs: looks are claimed with a lease,
read through the same governed platform client (paced, breaker), and recorded in batches.
"""
