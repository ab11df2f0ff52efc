"""Security properties of template.yaml that tests/infrastructure does not already state.

tests/infrastructure checks that every IAM statement names its resources, that each function
reads and writes only its prefixes and reaches only its services, and that the bucket, table,
topic and queue are encrypted (docs/security.md lists those tests). Here, on the transformed
template: no statement grants every action of a service, no resource policy lets anyone in,
no resource of a data-holding type is left without encryption (a new type fails until it is
added here), S3 may invoke the functions only from this account, the environment holds no
secret and does not ask powertools to log events, and every checkov suppression in the
template carries its justification.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

Statement = dict[str, Any]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_statements(template: dict[str, Any]) -> Iterator[tuple[str, str, Statement]]:
    """(resource name, "identity" or "resource", statement) for every policy statement."""
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        kind = resource["Type"]
        documents: list[tuple[str, Any]] = []
        if kind == "AWS::IAM::Role":
            documents += [("identity", p["PolicyDocument"]) for p in properties.get("Policies", [])]
            documents.append(("resource", properties["AssumeRolePolicyDocument"]))
        elif kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            documents.append(("identity", properties["PolicyDocument"]))
        elif kind == "AWS::KMS::Key":
            documents.append(("resource", properties["KeyPolicy"]))
        elif kind in ("AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy"):
            documents.append(("resource", properties["PolicyDocument"]))
        for scope, document in documents:
            for statement in as_list(document["Statement"]):
                yield name, scope, statement


def is_account_root(principal: Any) -> bool:
    """``arn:${AWS::Partition}:iam::${AWS::AccountId}:root``, however it is spelled."""
    text = str(principal)
    return ":root" in text and "AWS::AccountId" in text


def test_no_allow_statement_grants_every_action_of_a_service(
    transformed: dict[str, Any],
) -> None:
    # The one exception AWS requires: a KMS key policy letting the account administer the key
    # through IAM ("kms:*" for the account root), or nobody could ever manage the key.
    offenders = []
    for name, scope, statement in policy_statements(transformed):
        if statement["Effect"] != "Allow":
            continue
        for action in as_list(statement.get("Action", [])):
            if action == "*" or action.endswith(":*"):
                key_admin = (
                    transformed["Resources"][name]["Type"] == "AWS::KMS::Key"
                    and action == "kms:*"
                    and is_account_root(statement["Principal"].get("AWS"))
                )
                if not key_admin:
                    offenders.append((name, scope, statement.get("Sid"), action))
    assert offenders == []


def test_no_resource_policy_lets_anyone_in(transformed: dict[str, Any]) -> None:
    # Principal "*" is only ever denied (the bucket's TLS-only statement), never allowed
    offenders = [
        (name, statement.get("Sid"))
        for name, scope, statement in policy_statements(transformed)
        if scope == "resource"
        and statement["Effect"] == "Allow"
        and (
            statement.get("Principal") == "*"
            or "*" in as_list((statement.get("Principal") or {}).get("AWS", []))
        )
    ]
    assert offenders == []


def test_roles_trust_only_their_service_within_this_account(
    transformed: dict[str, Any],
) -> None:
    for name, resource in transformed["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for statement in resource["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            principal = statement["Principal"]
            assert set(principal) == {"Service"}, (name, principal)
            assert all(s.endswith(".amazonaws.com") for s in as_list(principal["Service"]))
            services = set(as_list(principal["Service"]))
            # services acting for someone else (not Lambda) are pinned to this account
            if services != {"lambda.amazonaws.com"}:
                condition = statement.get("Condition", {})
                assert "aws:SourceAccount" in str(condition), (name, statement)


def _encrypted_bucket(p: dict[str, Any]) -> bool:
    rules = p.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    return any(r["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules)


# Every resource type that holds data, with what encryption at rest means for it. A type
# missing from this map fails the test below until someone states its encryption here.
ENCRYPTED_AT_REST: dict[str, Callable[[dict[str, Any]], bool]] = {
    "AWS::S3::Bucket": _encrypted_bucket,
    "AWS::DynamoDB::Table": lambda p: p.get("SSESpecification", {}).get("SSEEnabled") is True,
    "AWS::SNS::Topic": lambda p: "KmsMasterKeyId" in p,
    "AWS::SQS::Queue": lambda p: p.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in p,
    "AWS::KMS::Key": lambda p: p.get("EnableKeyRotation") is True,
    # CloudWatch Logs encrypts every log group at rest; what is checked is that logs expire
    "AWS::Logs::LogGroup": lambda p: "RetentionInDays" in p,
    "AWS::Events::EventBus": lambda p: True,  # encrypted at rest by EventBridge, always
    "AWS::StepFunctions::StateMachine": lambda p: True,  # execution history: AWS-owned key
}
DATA_HOLDING = re.compile(
    r"AWS::(S3|DynamoDB|SNS|SQS|KMS|Logs|Kinesis|KinesisFirehose|EFS|RDS|ElastiCache|"
    r"Redshift|OpenSearchService|Elasticsearch|Glue|SecretsManager|SSM|Events|"
    r"StepFunctions|Timestream|DocDB|Neptune|Backup)::"
)


def test_every_resource_that_holds_data_is_encrypted_at_rest(
    transformed: dict[str, Any],
) -> None:
    checked = set()
    for name, resource in transformed["Resources"].items():
        kind = resource["Type"]
        if not DATA_HOLDING.match(kind) or kind.endswith(("Policy", "Alias", "Subscription")):
            continue
        if kind in ("AWS::Events::Rule", "AWS::SSM::Parameter"):
            continue  # configuration, not data
        assert kind in ENCRYPTED_AT_REST, f"{name}: say how a {kind} is encrypted at rest"
        assert ENCRYPTED_AT_REST[kind](resource.get("Properties", {})), name
        checked.add(kind)
    assert {"AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::SNS::Topic"} <= checked


def test_the_bucket_is_tls_only_and_s3_may_invoke_only_from_this_account(
    transformed: dict[str, Any],
) -> None:
    resources = transformed["Resources"]
    (policy,) = [r for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"]
    denies = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny" and s["Principal"] == "*" and s["Action"] in ("s3:*", ["s3:*"])
    ]
    (tls,) = denies
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(as_list(tls["Resource"])) == 2  # the bucket and every object in it
    permissions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"]
    from_s3 = [p for p in permissions if p["Properties"]["Principal"] == "s3.amazonaws.com"]
    assert len(from_s3) == 4
    for permission in from_s3:
        assert "SourceAccount" in permission["Properties"], permission


SECRET_NAMES = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|API_?KEY", re.I)


def test_the_environment_holds_no_secret_and_logs_no_events(
    transformed: dict[str, Any],
) -> None:
    functions = {
        name: r
        for name, r in transformed["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function"
    }
    assert functions
    for name, function in functions.items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        for variable, value in variables.items():
            assert not SECRET_NAMES.search(variable), (name, variable)
            assert re.fullmatch(r"(DRIFTLINE|POWERTOOLS)_[A-Z_]+|LOG_LEVEL", variable), variable
            # literal values are short settings; everything else is a reference to a resource
            if isinstance(value, str):
                assert len(value) < 40, (name, variable, value)
        # powertools would log every incoming event (keys, and with it nothing else, but
        # an event is not ours to log wholesale)
        assert str(variables.get("POWERTOOLS_LOGGER_LOG_EVENT", "false")).lower() == "false"


CHECK_ID = re.compile(r"CKV2?_AWS_\d+")


def checkov_suppressions(written: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    for name, resource in written["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            yield name, skip.get("id", ""), skip.get("comment", "")


def test_every_checkov_suppression_is_justified_in_place_and_in_the_docs(
    written: dict[str, Any],
) -> None:
    suppressions = list(checkov_suppressions(written))
    assert suppressions, "the template documents no suppression: is the Metadata gone?"
    documented = (REPO / "docs" / "security.md").read_text(encoding="utf-8")
    for name, check, comment in suppressions:
        assert CHECK_ID.fullmatch(check), (name, check)
        assert len(comment.split()) >= 15, f"{name} {check}: say why, in the template"
        assert f"`{check}`" in documented, f"{check} ({name}) is not explained in docs/security.md"


@pytest.mark.parametrize(
    "resource",
    ["ConfigureFunction", "BuildBaselineFunction", "ProfileBatchFunction",
     "IngestLabelsFunction", "EvaluateFunction", "RetrainFunction"],
)  # fmt: skip
def test_each_driftline_function_carries_the_same_justified_suppressions(
    written: dict[str, Any], resource: str
) -> None:
    ids = {check for name, check, _ in checkov_suppressions(written) if name == resource}
    assert ids == {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"}
