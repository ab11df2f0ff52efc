"""The local runtime: template.yaml provisioned in moto, S3 notifications, state-machine
Lambda tasks and schedules routed to the real handlers in-process (no Docker, no AWS)."""

from driftline.local.runtime import LocalRuntime

__all__ = ["LocalRuntime"]
