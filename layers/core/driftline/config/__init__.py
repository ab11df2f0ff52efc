"""The monitor definition (``config/<model>.yaml``): parsed and validated strictly.

Every mistake is a :class:`~driftline.errors.ConfigError` whose message names the key path
(``checks[1].metric``) and says what was received and what is allowed; an unknown key is an
error, never a silent default. A key given twice in one mapping is an error too (PyYAML
would keep the last one silently, dropping, say, a first ``checks:`` list). Hostile text is
a ``ConfigError`` as well, found quickly: nesting deeper than the parser can follow, numbers
of thousands of digits, durations beyond what a ``timedelta`` holds, NaN or infinite
thresholds (a comparison with NaN is never true, so such a check could never fire), and
alias "bombs" whose expansion would take minutes to print. The JSON Schema published in
``docs/`` is generated from these models (:func:`monitor_definition_json_schema`).

One room per part of the definition, each a module of this package:

- :mod:`~driftline.config.definition`: :class:`MonitorDefinition`, its top-level keys and
  the rules across sections;
- :mod:`~driftline.config.data`: the ``schema``, ``baseline`` and ``capture`` sections;
- :mod:`~driftline.config.drift`: the ``drift`` section;
- :mod:`~driftline.config.checks`: the ``checks`` section, the measures and detector
  parameters a check may name, the built-in checks;
- :mod:`~driftline.config.actions`: the ``actions`` section (cooldowns);
- :mod:`~driftline.config.retraining`: the ``retraining`` section (backends, gates, canary,
  serving);
- :mod:`~driftline.config.durations`: ISO 8601 durations (:func:`parse_duration`);
- :mod:`~driftline.config.strict`: the strict base model of every section;
- :mod:`~driftline.config.messages`: how messages show a received value and a key path;
- :mod:`~driftline.config.loading`: :func:`load_monitor_definition` and
  :func:`validate_monitor_definition`;
- :mod:`~driftline.config.json_schema`: the published JSON Schema.

>>> definition = load_monitor_definition('''
... model: churn
... schema:
...   task: binary_classification
...   prediction: churned_pred
...   label: churned
...   features: {tenure: numeric, plan: categorical}
... baseline: {path: baselines/churn/training.csv}
... checks:
...   - {name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}
... ''')
>>> definition.checks[0].min, definition.drift.method
(0.85, 'auto')
>>> load_monitor_definition("model: churn\\nschema: {task: binary_classification, "
...     "features: {a: numeric}}\\nbaseline: {path: b.csv}\\ncheks: []")
Traceback (most recent call last):
...
driftline.errors.ConfigError: invalid monitor definition <string>: cheks: unknown key
"""

from driftline.config.actions import (
    ActionName,
    ActionsSpec,
    EmergencyRetrainActionSpec,
    NotifyActionSpec,
    RetrainActionSpec,
)
from driftline.config.checks import (
    BUILT_IN_CHECKS,
    DATASET_QUALITY_MEASURES,
    DETECTOR_PARAMS,
    PERSIST_MAX_EVALUATIONS,
    QUALITY_MEASURE_KINDS,
    QUALITY_MEASURES,
    SCHEMA_COLUMNS_CHECK,
    SCORES_IN_RANGE_CHECK,
    CheckSpec,
    DetectorName,
    PersistSpec,
)
from driftline.config.data import BaselineSpec, CaptureSpec, FeatureKind, SchemaSpec
from driftline.config.definition import (
    MODEL_NAME,
    CloudWatchSpec,
    EstimationSpec,
    MonitorDefinition,
)
from driftline.config.drift import DriftMethodChoice, DriftMethodName, DriftSpec, FeatureDriftSpec
from driftline.config.durations import MAX_DURATION, Duration, parse_duration
from driftline.config.json_schema import dump_json_schema, monitor_definition_json_schema
from driftline.config.loading import load_monitor_definition, validate_monitor_definition
from driftline.config.messages import key_part, shown
from driftline.config.retraining import (
    CANARY_METRIC_TASKS,
    ESTIMATOR_PARAMS,
    ESTIMATOR_TASKS,
    RETRAINING_METRICS,
    CanaryMetricName,
    CanarySpec,
    EstimatorName,
    ExternalTrainingSpec,
    FairnessGateSpec,
    RetrainingSpec,
    SageMakerTrainingSpec,
    ServingSpec,
)

__all__ = [
    "BUILT_IN_CHECKS",
    "CANARY_METRIC_TASKS",
    "DATASET_QUALITY_MEASURES",
    "DETECTOR_PARAMS",
    "ESTIMATOR_PARAMS",
    "ESTIMATOR_TASKS",
    "MAX_DURATION",
    "MODEL_NAME",
    "PERSIST_MAX_EVALUATIONS",
    "QUALITY_MEASURES",
    "QUALITY_MEASURE_KINDS",
    "RETRAINING_METRICS",
    "SCHEMA_COLUMNS_CHECK",
    "SCORES_IN_RANGE_CHECK",
    "ActionName",
    "ActionsSpec",
    "BaselineSpec",
    "CanaryMetricName",
    "CanarySpec",
    "CaptureSpec",
    "CheckSpec",
    "CloudWatchSpec",
    "DetectorName",
    "DriftMethodChoice",
    "DriftMethodName",
    "DriftSpec",
    "Duration",
    "EmergencyRetrainActionSpec",
    "EstimationSpec",
    "EstimatorName",
    "ExternalTrainingSpec",
    "FairnessGateSpec",
    "FeatureDriftSpec",
    "FeatureKind",
    "MonitorDefinition",
    "NotifyActionSpec",
    "PersistSpec",
    "RetrainActionSpec",
    "RetrainingSpec",
    "SageMakerTrainingSpec",
    "SchemaSpec",
    "ServingSpec",
    "dump_json_schema",
    "key_part",
    "load_monitor_definition",
    "monitor_definition_json_schema",
    "parse_duration",
    "shown",
    "validate_monitor_definition",
]
