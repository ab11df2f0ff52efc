"""template.yaml as written: the contract the handlers and the local runtime rely on.

Needs nothing beyond PyYAML, so it runs wherever the unit tests run.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

from packaging.requirements import Requirement
from packaging.version import Version
from template_support import (
    BUCKET_NAME,
    ENVIRONMENT,
    EVALUATE_ARN,
    FUNCTIONS,
    REPO,
    S3_TRIGGERS,
    sub_text,
)

# pyproject dependencies the Lambda layer leaves out on purpose.
NOT_IN_ANALYSIS_LAYER = {
    "pyarrow": "beside numpy+pandas+scipy it passes Lambda's 250 MiB; fastparquet reads Parquet",
}
# Layer requirements that pyproject does not list, and why the layer needs them.
ONLY_IN_ANALYSIS_LAYER = {
    "fastparquet": "Parquet reader in place of pyarrow (pyproject has it in the dev extra)",
    "aws-lambda-powertools": "the handlers' logging and metrics",
    "python-dateutil": "kept below 3 for the runtime's botocore (layers shadow the runtime)",
}


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def test_functions_follow_the_handler_contract(template: dict[str, Any]) -> None:
    # GIVEN the template's functions and their global settings
    functions = _resources(template, "AWS::Serverless::Function")
    defaults = template["Globals"]["Function"]

    # THEN exactly the five handlers exist, each in its folder, on python3.12 x86_64
    assert set(functions) == set(FUNCTIONS)
    assert defaults["Runtime"] == "python3.12"
    assert defaults["Architectures"] == ["x86_64"]
    assert defaults["Handler"] == "app.handler"
    for name, folder in FUNCTIONS.items():
        properties = functions[name]["Properties"]
        assert properties["CodeUri"].rstrip("/") == folder
        assert (REPO / folder).is_dir(), f"{folder} must exist for sam build"
        for key in ("Runtime", "Architectures", "Handler", "Environment"):
            assert key not in properties, f"{name} overrides the global {key}"


def test_every_function_gets_both_layers_and_the_environment(template: dict[str, Any]) -> None:
    # GIVEN the global function settings
    defaults = template["Globals"]["Function"]

    # THEN every function has the core layer and, of its own, the analysis layer (the
    # retraining function: the training layer), and every DRIFTLINE_* / powertools variable
    assert defaults["Layers"] == [{"Ref": "CoreLayer"}]
    for name, function in _resources(template, "AWS::Serverless::Function").items():
        second = "TrainingLayer" if name == "RetrainFunction" else "AnalysisLayer"
        assert function["Properties"]["Layers"] == [{"Ref": second}], name
    variables = defaults["Environment"]["Variables"]
    assert set(variables) == set(ENVIRONMENT)
    assert sub_text(variables["DRIFTLINE_BUCKET"]) == BUCKET_NAME
    assert variables["DRIFTLINE_TABLE"] == {"Ref": "MonitorTable"}
    assert variables["DRIFTLINE_TOPIC_ARN"] == {"Ref": "AlertTopic"}
    assert variables["DRIFTLINE_EVENT_BUS"] == {"Ref": "EventBus"}
    assert variables["DRIFTLINE_STATE_MACHINE_ARN"] == {"Ref": "RetrainStateMachine"}
    assert variables["DRIFTLINE_SCHEDULE_GROUP"] == {"Ref": "ScheduleGroup"}
    assert variables["DRIFTLINE_SCHEDULER_ROLE_ARN"] == {"Fn::GetAtt": "SchedulerRole.Arn"}
    assert sub_text(variables["DRIFTLINE_EVALUATE_ARN"]) == EVALUATE_ARN
    assert variables["DRIFTLINE_MAX_FILE_BYTES"] == {"Ref": "MaxFileBytes"}
    assert variables["DRIFTLINE_MAX_FILE_ROWS"] == {"Ref": "MaxFileRows"}
    assert variables["DRIFTLINE_MAX_BASELINE_BYTES"] == {"Ref": "MaxBaselineBytes"}
    assert variables["DRIFTLINE_MAX_BASELINE_ROWS"] == {"Ref": "MaxBaselineRows"}
    assert variables["POWERTOOLS_SERVICE_NAME"] == "driftline"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Driftline"
    assert variables["LOG_LEVEL"] == {"Ref": "LogLevel"}


def test_input_limits_default_to_the_handlers_defaults(template: dict[str, Any]) -> None:
    # GIVEN the template's limit parameters and the limits the handlers use without them
    from driftline.aws.limits import InputLimits

    parameters = template["Parameters"]
    defaults = InputLimits()

    # THEN each parameter defaults to the handlers' value and allows nothing below 1
    expected = {
        "MaxFileBytes": defaults.files.max_bytes,
        "MaxFileRows": defaults.files.max_rows,
        "MaxBaselineBytes": defaults.baselines.max_bytes,
        "MaxBaselineRows": defaults.baselines.max_rows,
    }
    for name, value in expected.items():
        assert parameters[name]["Type"] == "Number", name
        assert parameters[name]["Default"] == value, name
        assert parameters[name]["MinValue"] == 1, name


def test_every_parameter_is_in_the_deploy_guide_with_its_default(
    template: dict[str, Any],
) -> None:
    # GIVEN the parameters table of docs/deploy.md
    guide = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    rows = {
        match.group(1): match.group(2)
        for match in re.finditer(r"^\| `(\w+)` \| ([^|]+) \|", guide, flags=re.MULTILINE)
    }
    # THEN every parameter of the template has a row that starts with its default
    for name, parameter in template["Parameters"].items():
        assert name in rows, f"{name} is not in docs/deploy.md's parameters table"
        default = str(parameter.get("Default", ""))
        shown = rows[name].strip().strip("`")
        assert shown.startswith(default) or (default == "" and shown == "empty"), name


def test_evaluate_arn_names_the_evaluate_function(template: dict[str, Any]) -> None:
    # GIVEN the fixed name of the evaluate function (its ARN is built, not referenced)
    name = sub_text(template["Resources"]["EvaluateFunction"]["Properties"]["FunctionName"])

    # THEN the ARN handed to the functions and the scheduler role ends with that name
    assert EVALUATE_ARN.endswith(":function:" + name)
    statements = template["Resources"]["SchedulerRole"]["Properties"]["Policies"][0]
    (statement,) = statements["PolicyDocument"]["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction"
    assert sub_text(statement["Resource"]) == EVALUATE_ARN


def test_bucket_name_is_computed_so_notifications_cause_no_cycle(
    template: dict[str, Any],
) -> None:
    # GIVEN the bucket and everything the functions and their roles reference
    bucket = template["Resources"]["MonitoringBucket"]["Properties"]
    referencing = {
        name: resource
        for name, resource in template["Resources"].items()
        if name.endswith(("Role", "Function")) or name == "FunctionSharedPolicy"
    }

    # THEN the bucket is named from parameters, and no function or role refers to it
    assert sub_text(bucket["BucketName"]) == BUCKET_NAME
    text = json.dumps(referencing) + json.dumps(template["Globals"])
    assert '"Ref": "MonitoringBucket"' not in text.replace(
        '"Bucket": {"Ref": "MonitoringBucket"}', ""
    )
    assert "MonitoringBucket.Arn" not in text


def test_layers_are_built_by_their_makefiles(template: dict[str, Any]) -> None:
    # GIVEN the layers
    layers = _resources(template, "AWS::Serverless::LayerVersion")

    # THEN each is a makefile build whose Makefile has the target sam build calls
    assert set(layers) == {"CoreLayer", "AnalysisLayer", "TrainingLayer"}
    for name, layer in layers.items():
        assert layer["Metadata"]["BuildMethod"] == "makefile"
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
        makefile = REPO / layer["Properties"]["ContentUri"] / "Makefile"
        assert re.search(rf"^build-{name}:", makefile.read_text(encoding="utf-8"), re.M)


def test_analysis_layer_pins_satisfy_pyproject_ranges() -> None:
    # GIVEN pyproject's runtime dependencies and the layer's requirements
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    ranges = {
        Requirement(line).name.lower(): Requirement(line).specifier
        for line in pyproject["project"]["dependencies"]
    }
    lines = (REPO / "layers/analysis/requirements.txt").read_text(encoding="utf-8").splitlines()
    layer = {
        Requirement(line).name.lower(): Requirement(line)
        for line in (line.split("#", 1)[0].strip() for line in lines)
        if line
    }

    # THEN every runtime dependency is in the layer (or left out for a stated reason) ...
    assert set(ranges) - set(layer) == set(NOT_IN_ANALYSIS_LAYER)
    assert set(layer) - set(ranges) == set(ONLY_IN_ANALYSIS_LAYER)
    # ... and each pin lies inside pyproject's range
    for name, specifier in ranges.items():
        if name in layer and str(layer[name].specifier).startswith("=="):
            pinned = Version(str(layer[name].specifier).removeprefix("=="))
            assert pinned in specifier, f"{name}=={pinned} is outside pyproject's {specifier}"
    assert "scikit-learn" not in layer and "pyarrow" not in layer


def test_state_machine_definition_is_the_asl_file_with_its_substitutions(
    template: dict[str, Any],
) -> None:
    # GIVEN the state machine resource
    machine = template["Resources"]["RetrainStateMachine"]["Properties"]

    # THEN it loads the document in infrastructure/statemachines, every ${Name} in it has a
    # substitution, and every substitution is used
    assert machine["DefinitionUri"] == "infrastructure/statemachines/retrain.asl.json"
    text = (REPO / machine["DefinitionUri"]).read_text(encoding="utf-8")
    json.loads(text)
    used = set(re.findall(r"\$\{(\w+)\}", text))
    assert used == set(machine["DefinitionSubstitutions"])


def test_s3_triggers_are_the_four_input_prefixes(template: dict[str, Any]) -> None:
    # GIVEN the S3 events declared on the functions
    routes = {}
    for name, resource in _resources(template, "AWS::Serverless::Function").items():
        for event in resource["Properties"].get("Events", {}).values():
            assert event["Type"] == "S3"
            (rule,) = event["Properties"]["Filter"]["S3Key"]["Rules"]
            assert rule["Name"] == "prefix"
            assert event["Properties"]["Events"] == "s3:ObjectCreated:*"
            routes[rule["Value"]] = name

    # THEN each input prefix reaches its function, and driftline's own outputs reach none
    assert routes == {prefix: name for name, prefix in S3_TRIGGERS.items()}
    for written in ("profiles/", "reports/", "quarantine/"):
        assert not any(written.startswith(prefix) for prefix in routes)
