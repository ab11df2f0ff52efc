"""Shared helpers of the reader tests: sample data and reading a reader to the end."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from driftline.io import TableReader


def _read_all(reader: TableReader) -> pd.DataFrame:
    frames = list(reader)
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames)


@pytest.fixture
def read_all() -> Callable[[TableReader], pd.DataFrame]:
    """Iterate a reader to the end and concatenate its frames."""
    return _read_all


@pytest.fixture
def sample_frame() -> pd.DataFrame:
    """50 rows of numeric, categorical and text columns, without missing values."""
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "request_id": [f"r{i}" for i in range(50)],
            "age": rng.integers(18, 90, size=50),
            "income": rng.normal(3000.0, 800.0, size=50).round(2),
            "plan": rng.choice(["basic", "pro", "team"], size=50),
            "score": rng.uniform(size=50).round(4),
        }
    )
