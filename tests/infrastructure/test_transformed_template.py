"""The CloudFormation the SAM transform produces: security properties and wiring.

Runs the transform offline (aws-sam-translator, which cfn-lint brings along).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from template_support import (
    BUCKET_ARN,
    ENVIRONMENT,
    EVALUATE_ARN,
    FUNCTIONS,
    S3_TRIGGERS,
    as_list,
    sub_text,
)

# Statements allowed a "*" resource, each with the reason AWS gives no narrower choice.
WILDCARD_RESOURCES = {
    ("FunctionSharedPolicy", "XRayHasNoResourceLevelPermissions"): (
        "xray:PutTraceSegments/PutTelemetryRecords support no resource-level permissions"
    ),
}
TABLE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:Query",
}
# What each function may read and write in the bucket (prefixes), from what its job does.
S3_ACCESS = {
    "ConfigureFunction": {
        "s3:GetObject": {"config/", "baselines/", "profiles/"},
        "s3:PutObject": {"profiles/", "quarantine/"},
    },
    "BuildBaselineFunction": {
        "s3:GetObject": {"baselines/", "profiles/"},
        "s3:PutObject": {"profiles/", "quarantine/"},
    },
    # profile_batch reads the label files that came before their predictions
    "ProfileBatchFunction": {
        "s3:GetObject": {"inference/", "labels/", "profiles/"},
        "s3:PutObject": {"profiles/", "quarantine/"},
    },
    "IngestLabelsFunction": {
        "s3:GetObject": {"labels/", "profiles/"},
        "s3:PutObject": {"profiles/", "quarantine/"},
    },
    # evaluate also writes the daily roll-ups of the profiles it merges
    "EvaluateFunction": {
        "s3:GetObject": {"profiles/"},
        "s3:PutObject": {"reports/", "profiles/*/daily/"},
    },
}
STARTS_RETRAINING = {"ProfileBatchFunction", "IngestLabelsFunction", "EvaluateFunction"}
PUTS_EVENTS = set(FUNCTIONS)


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def _policy_documents(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(resource name, policy document) for every identity policy in the template."""
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                yield name, policy["PolicyDocument"]
        elif resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            yield name, properties["PolicyDocument"]


def _statements_of_role(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """Every statement that applies to ``role``: its inline and attached managed policies."""
    properties = template["Resources"][role]["Properties"]
    statements = [
        statement
        for policy in properties.get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    for arn in properties.get("ManagedPolicyArns", []):
        attached = template["Resources"][arn["Ref"]]["Properties"]["PolicyDocument"]
        statements += attached["Statement"]
    return statements


def _role_of(template: dict[str, Any], function: str) -> str:
    role = template["Resources"][function]["Properties"]["Role"]
    assert role == {"Fn::GetAtt": [role["Fn::GetAtt"][0], "Arn"]}
    return str(role["Fn::GetAtt"][0])


def _granted(statements: list[dict[str, Any]], action: str) -> list[Any]:
    return [
        resource
        for statement in statements
        if statement["Effect"] == "Allow" and action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]


def test_every_iam_statement_names_its_resources(transformed: dict[str, Any]) -> None:
    # GIVEN every identity policy statement in the deployed template
    seen_wildcards = set()
    for name, document in _policy_documents(transformed):
        for statement in document["Statement"]:
            # THEN actions are named, and resources are never "*" but for the listed reasons
            assert "*" not in as_list(statement["Action"]), f"{name}: action '*'"
            key = (name, statement.get("Sid"))
            if "*" in as_list(statement["Resource"]):
                assert key in WILDCARD_RESOURCES, f"{name} {statement.get('Sid')}: resource '*'"
                seen_wildcards.add(key)
    assert seen_wildcards == set(WILDCARD_RESOURCES), "an exception is no longer needed"


def test_roles_attach_no_aws_managed_policies(transformed: dict[str, Any]) -> None:
    # GIVEN every role (SAM attaches AWSLambdaBasicExecutionRole, logs on "*", to the roles
    # it generates: each function here has its own role instead)
    for name, role in _of_type(transformed, "AWS::IAM::Role").items():
        # THEN a role attaches only this template's own managed policy
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert arn == {"Ref": "FunctionSharedPolicy"}, f"{name} attaches {arn}"


def test_each_function_reads_and_writes_only_its_prefixes(transformed: dict[str, Any]) -> None:
    for function, access in S3_ACCESS.items():
        # GIVEN the statements that apply to the function's role
        statements = _statements_of_role(transformed, _role_of(transformed, function))
        for action, prefixes in access.items():
            # THEN object access is granted on exactly the expected prefixes of the bucket
            granted = {sub_text(resource) for resource in _granted(statements, action)}
            assert granted == {f"{BUCKET_ARN}/{prefix}*" for prefix in prefixes}, function
        # ... listing is on the bucket only, and no other S3 action is granted
        assert {sub_text(r) for r in _granted(statements, "s3:ListBucket")} == {BUCKET_ARN}
        s3_actions = {
            action
            for statement in statements
            for action in as_list(statement["Action"])
            if action.startswith("s3:")
        }
        assert s3_actions == {"s3:GetObject", "s3:PutObject", "s3:ListBucket"}


def test_each_function_reaches_only_its_own_services(transformed: dict[str, Any]) -> None:
    for function in FUNCTIONS:
        # GIVEN the statements that apply to the function's role
        role = _role_of(transformed, function)
        statements = _statements_of_role(transformed, role)

        # THEN the table, topic, key, queue, bus and machine are each granted by reference
        for action in TABLE_ACTIONS:
            assert _granted(statements, action) == [{"Fn::GetAtt": ["MonitorTable", "Arn"]}]
        assert _granted(statements, "sns:Publish") == [{"Ref": "AlertTopic"}]
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            assert _granted(statements, action) == [{"Fn::GetAtt": ["AlertTopicKey", "Arn"]}]
        assert _granted(statements, "sqs:SendMessage") == [
            {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
        ]
        expected_bus = [{"Fn::GetAtt": ["EventBus", "Arn"]}] if function in PUTS_EVENTS else []
        assert _granted(statements, "events:PutEvents") == expected_bus
        expected_machine = [{"Ref": "RetrainStateMachine"}] if function in STARTS_RETRAINING else []
        assert _granted(statements, "states:StartExecution") == expected_machine
        log_group = function.removesuffix("Function") + "LogGroup"
        assert _granted(statements, "logs:PutLogEvents") == [{"Fn::GetAtt": [log_group, "Arn"]}]
        assert transformed["Resources"][function]["Properties"]["LoggingConfig"] == {
            "LogGroup": {"Ref": log_group}
        }


def test_only_configure_manages_schedules_and_passes_the_scheduler_role(
    transformed: dict[str, Any],
) -> None:
    schedule_actions = (
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:GetSchedule",
        "scheduler:DeleteSchedule",
    )
    schedules_in_group = (
        "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/"
        "${ScheduleGroup}/*"
    )
    for function in FUNCTIONS:
        statements = _statements_of_role(transformed, _role_of(transformed, function))
        manages = function == "ConfigureFunction"
        for action in schedule_actions:
            granted = [sub_text(resource) for resource in _granted(statements, action)]
            assert granted == ([schedules_in_group] if manages else []), (function, action)
        passes = [s for s in statements if "iam:PassRole" in as_list(s["Action"])]
        if manages:
            (statement,) = passes
            assert statement["Resource"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
            assert statement["Condition"] == {
                "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
            }
        else:
            assert passes == []


def test_scheduler_role_is_for_the_scheduler_and_invokes_only_evaluate(
    transformed: dict[str, Any],
) -> None:
    # GIVEN the role the schedules assume
    role = transformed["Resources"]["SchedulerRole"]["Properties"]

    # THEN only EventBridge Scheduler of this account may assume it, to invoke evaluate
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    statements = _statements_of_role(transformed, "SchedulerRole")
    assert [(s["Action"], sub_text(s["Resource"])) for s in statements] == [
        ("lambda:InvokeFunction", EVALUATE_ARN)
    ]


def test_bucket_is_encrypted_private_and_tls_only(transformed: dict[str, Any]) -> None:
    # GIVEN the monitoring bucket and its policy
    bucket = transformed["Resources"]["MonitoringBucket"]["Properties"]
    policy = transformed["Resources"]["MonitoringBucketPolicy"]["Properties"]

    # THEN objects are encrypted at rest, nothing can be made public ...
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    # ... and any request without TLS is denied, on the bucket and on every object
    assert policy["Bucket"] == {"Ref": "MonitoringBucket"}
    (deny,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*"
    assert deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [
        {"Fn::GetAtt": ["MonitoringBucket", "Arn"]},
        {"Fn::Sub": "${MonitoringBucket.Arn}/*"},
    ]


def test_table_is_the_single_table_with_encryption_recovery_and_ttl(
    transformed: dict[str, Any],
) -> None:
    # GIVEN the table
    table = transformed["Resources"]["MonitorTable"]["Properties"]

    # THEN it is on demand, keyed PK/SK (strings), expires items on expires_at, is
    # encrypted and recoverable to a point in time
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert table["AttributeDefinitions"] == [
        {"AttributeName": "PK", "AttributeType": "S"},
        {"AttributeName": "SK", "AttributeType": "S"},
    ]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_alert_topic_key_lets_cloudwatch_alarms_publish(transformed: dict[str, Any]) -> None:
    # GIVEN the alert topic and its key (alias/aws/sns cannot grant CloudWatch alarms)
    topic = transformed["Resources"]["AlertTopic"]["Properties"]
    key = transformed["Resources"]["AlertTopicKey"]["Properties"]

    # THEN the topic is encrypted with the key, which lets CloudWatch of this account use it
    assert topic["KmsMasterKeyId"] == {"Ref": "AlertTopicKey"}
    assert key["EnableKeyRotation"] is True
    (cloudwatch,) = [
        s
        for s in key["KeyPolicy"]["Statement"]
        if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert cloudwatch["Condition"]["StringEquals"] == {
        "aws:SourceAccount": {"Ref": "AWS::AccountId"}
    }


def test_alert_email_subscription_only_with_an_address(transformed: dict[str, Any]) -> None:
    subscription = transformed["Resources"]["AlertEmailSubscription"]
    assert subscription["Condition"] == "HasAlertEmail"
    assert transformed["Conditions"]["HasAlertEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]
    }


def test_dead_letter_queue_is_encrypted(transformed: dict[str, Any]) -> None:
    queue = transformed["Resources"]["DeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True


def test_s3_notifications_route_each_prefix_to_its_function(transformed: dict[str, Any]) -> None:
    # GIVEN the notification configuration the transform put on the bucket
    bucket = transformed["Resources"]["MonitoringBucket"]
    configurations = bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]

    # THEN each input prefix invokes its function on object creation
    routes = {}
    for configuration in configurations:
        (rule,) = configuration["Filter"]["S3Key"]["Rules"]
        assert rule["Name"] == "prefix"
        assert configuration["Event"] == "s3:ObjectCreated:*"
        routes[rule["Value"]] = configuration["Function"]
    assert routes == {
        prefix: {"Fn::GetAtt": [function, "Arn"]} for function, prefix in S3_TRIGGERS.items()
    }
    # ... with S3 allowed to invoke each of them
    permissions = _of_type(transformed, "AWS::Lambda::Permission").values()
    invoked = {
        p["Properties"]["FunctionName"]["Ref"]
        for p in permissions
        if p["Properties"]["Principal"] == "s3.amazonaws.com"
    }
    assert invoked == set(S3_TRIGGERS)


def test_asynchronous_failures_go_to_the_dead_letter_queue(transformed: dict[str, Any]) -> None:
    # GIVEN the event invoke configurations (S3 and EventBridge Scheduler invoke async)
    configs = {
        c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
        for c in _of_type(transformed, "AWS::Lambda::EventInvokeConfig").values()
    }

    # THEN every function retries twice, then sends the event to the dead-letter queue
    # The retrain function is invoked synchronously by the state machine, which catches and
    # reports every failure itself: no async destination.
    assert set(configs) == set(FUNCTIONS) - {"RetrainFunction"}
    for config in configs.values():
        assert config["MaximumRetryAttempts"] == 2
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": ["DeadLetterQueue", "Arn"]
        }


def test_every_function_has_an_errors_alarm_on_the_alert_topic(
    transformed: dict[str, Any],
) -> None:
    alarmed = {}
    for alarm in _of_type(transformed, "AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        assert properties["AlarmActions"] == [{"Ref": "AlertTopic"}]
        if properties["Namespace"] == "AWS/Lambda":
            assert properties["MetricName"] == "Errors"
            (dimension,) = properties["Dimensions"]
            alarmed[dimension["Value"]["Ref"]] = properties
    # The retrain function's failures are caught and notified by the state machine; an alarm
    # would page twice.
    assert set(alarmed) == set(FUNCTIONS) - {"RetrainFunction"}


def test_every_deployed_function_has_its_two_layers_and_the_environment(
    transformed: dict[str, Any],
) -> None:
    # GIVEN the Lambda functions and layer versions after the transform
    functions = _of_type(transformed, "AWS::Lambda::Function")
    layers = _of_type(transformed, "AWS::Lambda::LayerVersion")
    core = next(name for name in layers if name.startswith("CoreLayer"))
    analysis = next(name for name in layers if name.startswith("AnalysisLayer"))
    training = next(name for name in layers if name.startswith("TrainingLayer"))

    # THEN each carries the core then the analysis layer (the retraining function: the
    # training layer instead), the variables, and tracing
    assert set(functions) == set(FUNCTIONS)
    for name, function in functions.items():
        properties = function["Properties"]
        second = training if name == "RetrainFunction" else analysis
        assert properties["Layers"] == [{"Ref": core}, {"Ref": second}], name
        assert set(properties["Environment"]["Variables"]) == set(ENVIRONMENT), name
        assert properties["Runtime"] == "python3.12"
        assert properties["Architectures"] == ["x86_64"]
        assert properties["Handler"] == "app.handler"
        assert properties["TracingConfig"] == {"Mode": "Active"}


@pytest.mark.parametrize(
    "output",
    [
        "BucketName",
        "TableName",
        "AlertTopicArn",
        "EventBusName",
        "RetrainStateMachineArn",
        "ScheduleGroupName",
        "DeadLetterQueueUrl",
        *(f"{function}Arn" for function in FUNCTIONS),
    ],
)
def test_outputs_name_what_a_deployment_needs(transformed: dict[str, Any], output: str) -> None:
    assert output in transformed["Outputs"]
