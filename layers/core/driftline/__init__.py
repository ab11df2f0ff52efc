"""driftline: serverless ML-model monitoring.

The core package is pure computation: profiles, drift statistics, metrics, detectors and
checks. It never imports boto3, never reads environment variables and never reads the clock;
time and data come in as arguments. AWS adapters live in ``driftline.aws``.
"""

from __future__ import annotations

__version__ = "0.1.0"
