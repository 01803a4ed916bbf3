"""The platform's component registry: `@register(type)` on a factory that
takes the node and returns a LangChain tool."""

REGISTRY = {}


def register(component_type):
    def decorate(factory):
        REGISTRY[component_type] = factory
        return factory
    return decorate
