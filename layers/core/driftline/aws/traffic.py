"""Traffic split adapters: make the serving side follow the registry's split.

The registry's ``TRAFFIC`` record is always written (:class:`~driftline.aws.model_store.
ModelRegistry`); serving code may read it directly (``retraining.serving.kind: registry``,
the default, and all the demo needs). Two adapters apply the split to AWS serving too:

- :class:`SageMakerEndpointTraffic`: an endpoint with two production variants (champion
  and challenger, named in ``retraining.canary``); weights change in place with
  ``UpdateEndpointWeightsAndCapacities``, no redeployment. Placing the challenger's model
  on its variant is the deployment's job (see docs/retraining.md).
- :class:`LambdaAliasTraffic`: a serving function whose alias routes a weight to a second
  function version (``UpdateAlias`` with ``RoutingConfig``). The challenger's function
  version is published from ``$LATEST`` with ``DRIFTLINE_MODEL_VERSION`` set to the model
  version, so the same code serves either model; ``$LATEST`` keeps its own variables.

Each method returns a small JSON-serialisable context (what it changed), which the state
machine carries to the promote or rollback step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from driftline.config.retraining import RetrainingSpec
from driftline.model_store import ModelVersion

MODEL_VERSION_VARIABLE = "DRIFTLINE_MODEL_VERSION"


class TrafficRouter(Protocol):
    """What the deploy, promote and rollback steps need from a serving target."""

    kind: str

    def start_canary(self, challenger: ModelVersion, weight: float) -> dict[str, Any]: ...

    def promote(self, challenger: ModelVersion, context: Mapping[str, Any]) -> dict[str, Any]: ...

    def rollback(self, context: Mapping[str, Any]) -> dict[str, Any]: ...


class RegistryTraffic:
    """Serving code reads the registry record; nothing else to change."""

    kind = "registry"

    def start_canary(self, challenger: ModelVersion, weight: float) -> dict[str, Any]:
        return {"kind": self.kind}

    def promote(self, challenger: ModelVersion, context: Mapping[str, Any]) -> dict[str, Any]:
        return {"kind": self.kind}

    def rollback(self, context: Mapping[str, Any]) -> dict[str, Any]:
        return {"kind": self.kind}


class SageMakerEndpointTraffic:
    """Production-variant weights of one SageMaker endpoint.

    Args:
        client: a boto3 SageMaker client.
        endpoint_name: the endpoint.
        champion_variant, challenger_variant: its two production variants.
    """

    kind = "sagemaker_endpoint"

    def __init__(
        self, client: Any, endpoint_name: str, champion_variant: str, challenger_variant: str
    ) -> None:
        self.client = client
        self.endpoint_name = endpoint_name
        self.champion_variant = champion_variant
        self.challenger_variant = challenger_variant

    def _weights(self, challenger_weight: float) -> dict[str, Any]:
        weights = {
            self.champion_variant: round(1.0 - challenger_weight, 12),
            self.challenger_variant: challenger_weight,
        }
        self.client.update_endpoint_weights_and_capacities(
            EndpointName=self.endpoint_name,
            DesiredWeightsAndCapacities=[
                {"VariantName": name, "DesiredWeight": weight} for name, weight in weights.items()
            ],
        )
        return {"kind": self.kind, "endpoint": self.endpoint_name, "weights": weights}

    def start_canary(self, challenger: ModelVersion, weight: float) -> dict[str, Any]:
        return self._weights(weight)

    def promote(self, challenger: ModelVersion, context: Mapping[str, Any]) -> dict[str, Any]:
        return self._weights(1.0)

    def rollback(self, context: Mapping[str, Any]) -> dict[str, Any]:
        return self._weights(0.0)


class LambdaAliasTraffic:
    """Weighted routing of one Lambda alias between two function versions.

    Args:
        client: a boto3 Lambda client.
        function_name: the serving function.
        alias: its alias that callers invoke.
    """

    kind = "lambda_alias"

    def __init__(self, client: Any, function_name: str, alias: str) -> None:
        self.client = client
        self.function_name = function_name
        self.alias = alias

    def publish(self, challenger: ModelVersion) -> str:
        """Publish a function version serving ``challenger``; returns its number.

        ``$LATEST`` gets ``DRIFTLINE_MODEL_VERSION`` for the publish, then its own
        variables back.
        """
        current = self.client.get_function_configuration(FunctionName=self.function_name)
        variables = dict(current.get("Environment", {}).get("Variables", {}))
        wanted = {**variables, MODEL_VERSION_VARIABLE: str(challenger.version)}
        self._configure(wanted)
        try:
            published = self.client.publish_version(
                FunctionName=self.function_name,
                Description=f"driftline {challenger.model} {challenger.label}",
            )
        finally:
            self._configure(variables)
        return str(published["Version"])

    def _configure(self, variables: Mapping[str, str]) -> None:
        self.client.update_function_configuration(
            FunctionName=self.function_name, Environment={"Variables": dict(variables)}
        )
        self.client.get_waiter("function_updated_v2").wait(FunctionName=self.function_name)

    def start_canary(self, challenger: ModelVersion, weight: float) -> dict[str, Any]:
        champion = str(
            self.client.get_alias(FunctionName=self.function_name, Name=self.alias)[
                "FunctionVersion"
            ]
        )
        version = self.publish(challenger)
        self._route(champion, {version: weight})
        return {
            "kind": self.kind,
            "function": self.function_name,
            "alias": self.alias,
            "champion_version": champion,
            "challenger_version": version,
            "weight": weight,
        }

    def promote(self, challenger: ModelVersion, context: Mapping[str, Any]) -> dict[str, Any]:
        version = context.get("challenger_version") or self.publish(challenger)
        self._route(str(version), {})
        return {"kind": self.kind, "alias": self.alias, "function_version": str(version)}

    def rollback(self, context: Mapping[str, Any]) -> dict[str, Any]:
        champion = context.get("champion_version")
        if champion is None:  # never routed: nothing to undo
            return {"kind": self.kind, "alias": self.alias, "unchanged": True}
        self._route(str(champion), {})
        return {"kind": self.kind, "alias": self.alias, "function_version": str(champion)}

    def _route(self, version: str, weights: Mapping[str, float]) -> None:
        self.client.update_alias(
            FunctionName=self.function_name,
            Name=self.alias,
            FunctionVersion=version,
            RoutingConfig={"AdditionalVersionWeights": dict(weights)},
        )


def router_for(spec: RetrainingSpec, clients: Callable[[str], Any]) -> TrafficRouter:
    """The router ``retraining.serving`` names (clients made only when needed)."""
    serving = spec.serving
    if serving.kind == "sagemaker_endpoint":
        assert serving.endpoint_name is not None
        return SageMakerEndpointTraffic(
            clients("sagemaker"),
            serving.endpoint_name,
            spec.canary.champion_variant,
            spec.canary.challenger_variant,
        )
    if serving.kind == "lambda_alias":
        assert serving.function_name is not None and serving.alias is not None
        return LambdaAliasTraffic(clients("lambda"), serving.function_name, serving.alias)
    return RegistryTraffic()
