"""The reminder capability: the daily sweep into the outbox, digests, dispatch through the
transports, the daemon (APScheduler, leader-elected) and ``huiqi doctor``'s checks.

Imports the store, the transports, the deployment readers and the core; not another
capability, nor a face.
"""
