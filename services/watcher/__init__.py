"""Watcher: Kubernetes state → StoreStatus and KubeEvent on URUMI_EVENTS.

kinds.py      what is watched (and the read-only RBAC that needs)
informer.py   list, then watch from the list's resourceVersion; 410 → relist
observed.py   raw objects → small plain snapshots (pure)
cache.py      snapshots grouped by store namespace (pure)
status.py     the state machine: snapshot + previous status + now → StoreStatus (pure)
events.py     Kubernetes Event → KubeEvent, per-store token bucket (pure)
publisher.py  publish on change; history.py reads the last status back on take-over
lease.py      one active watcher (NATS KV key with a TTL)
controller.py wires them; main.py is `urumi watcher`
"""
