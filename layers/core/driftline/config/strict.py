"""The base of every section of the monitor definition: an unknown key is refused, the
section is frozen, a number is never NaN nor infinite, and a boolean is never read as a
number."""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


class StrictSection(BaseModel):
    """The base of every section: unknown keys refused, frozen, finite numbers only, and no
    boolean read as a number (the model of each section derives from it)."""

    # allow_inf_nan=False: a NaN threshold compares false with everything, so its check could
    # never fire; an infinite one could never be crossed.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        # Lax validation reads `max: true` as 1.0 and `min: false` as 0: in YAML a boolean
        # is never meant as a number, so a field that takes numbers but not booleans
        # refuses it (every such field of every section, present and future).
        if isinstance(value, bool) and info.field_name is not None:
            field = cls.model_fields.get(info.field_name)
            if field is not None and _numbers_but_not_booleans(field.annotation):
                raise ValueError(f"expected a number, got a boolean ({str(value).lower()})")
        return value


def _numbers_but_not_booleans(annotation: Any) -> bool:
    """Whether a field's type takes ``int`` or ``float`` but not ``bool``.

    >>> _numbers_but_not_booleans(float | None), _numbers_but_not_booleans(int | str | bool)
    (True, False)
    """
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    members = set(typing.get_args(annotation)) if union else {annotation}
    return bool(members & {int, float}) and bool not in members
