"""The platform's component registry: `@register(type)` on a factory that
takes the node and returns a LangChain tool."""

from typing import Any, Callable, Dict, TypeVar

Factory = TypeVar("Factory", bound=Callable[..., Any])

REGISTRY: Dict[str, Callable[..., Any]] = {}


def register(component_type: str) -> Callable[[Factory], Factory]:
    def decorate(factory: Factory) -> Factory:
        REGISTRY[component_type] = factory
        return factory
    return decorate
