"""Tags on every resource that takes them: the project, stack and component it belongs to, plus the user's.

One stack transformation, registered before anything is created, so no resource, whoever adds it
later, can be left untagged. A resource's own tags (the detection id of an alarm) are kept; the
provider adds `aws:defaultTags` on top, for tag keys that none of these set.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

TAG_PREFIX = "login-monitoring:"
PROJECT_TAG = f"{TAG_PREFIX}project"
STACK_TAG = f"{TAG_PREFIX}stack"
COMPONENT_TAG = f"{TAG_PREFIX}component"
DETECTION_TAG = f"{TAG_PREFIX}detection"
# AWS's limits and character set for tag keys and values.
_TAG_TEXT = re.compile(r"^[\w\s.:/=+\-@]*$")
MAX_USER_TAGS = 40  # of the 50 AWS allows per resource, leaving room for ours and aws:defaultTags


def tag_problems(tags: Sequence[tuple[str, str]]) -> list[str]:
    """What is wrong with user tags (key, value pairs as written), one message per tag."""
    problems = []
    if len(tags) > MAX_USER_TAGS:
        problems.append(f"at most {MAX_USER_TAGS} tags, got {len(tags)}")
    keys = [key for key, _ in tags]
    problems += [f"tag key {key!r} is given twice" for key in sorted({k for k in keys if keys.count(k) > 1})]
    for key, value in tags:
        if not 1 <= len(key) <= 128 or not _TAG_TEXT.match(key):
            problems.append(f"{key!r} is not a tag key (1-128 letters, digits, spaces and _ . : / = + - @)")
        elif key.lower().startswith("aws:"):
            problems.append(f"{key!r}: tag keys starting with aws: are reserved for AWS")
        elif key.startswith(TAG_PREFIX):
            problems.append(f"{key!r}: tag keys starting with {TAG_PREFIX} are set by the stack itself")
        if len(value) > 256 or not _TAG_TEXT.match(value):
            problems.append(
                f"{key!r}: {value!r} is not a tag value (up to 256 letters, digits, spaces and _ . : / = + - @)"
            )
    return problems


def tag_every_resource(user_tags: Mapping[str, str]) -> None:
    pulumi.runtime.register_stack_transformation(tag_transformation(user_tags))


def tag_transformation(user_tags: Mapping[str, str]) -> pulumi.ResourceTransformation:
    """The transformation that tags a resource; a component's option hands it to every child of the component."""
    base = {**user_tags, PROJECT_TAG: pulumi.get_project(), STACK_TAG: pulumi.get_stack()}
    # Resources know their children, not their parent: remember each one's component on the way down.
    component_of: weakref.WeakKeyDictionary[pulumi.Resource, str] = weakref.WeakKeyDictionary()

    def transformation(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        parent = args.opts.parent
        if isinstance(parent, pulumi.ComponentResource) and type(parent).__name__ != "Stack":
            component = type(parent).__name__
        else:
            component = component_of.get(parent, "Stack") if parent is not None else "Stack"
        component_of[args.resource] = component
        fields = args.props if isinstance(args.props, dict) else getattr(args.props, "__dict__", {})
        # Generated resource arguments carry every input they accept, so `tags` is there exactly when
        # the resource type is taggable.
        if "tags" not in fields:
            return None
        fields["tags"] = _merged({**base, COMPONENT_TAG: component}, fields["tags"])
        return pulumi.ResourceTransformationResult(args.props, args.opts)

    return transformation


def _merged(ours: dict[str, str], own: Any) -> Any:
    if own is None:
        return ours
    if isinstance(own, dict) and not any(isinstance(value, pulumi.Output) for value in own.values()):
        return {**ours, **own}
    return pulumi.Output.from_input(own).apply(lambda resolved: {**ours, **(resolved or {})})
