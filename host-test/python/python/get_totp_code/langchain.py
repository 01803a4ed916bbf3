"""The tool as a LangChain `StructuredTool` (the `langchain` extra:
``pip install "./host-test/python[langchain]"``).

    from get_totp_code import TotpTool, Call
    from get_totp_code.langchain import totp_tool
    lc_tool = totp_tool(TotpTool(audit=None), lambda: Call(directory, node=(wf_id, node_id)))
    lc_tool.invoke({})                                  # the calling agent's code

The name, description and argument schema are the component's own
(`describe()`); the arguments go to the component as the JSON an LLM
emitted, so they are checked by the component like any `invoke`.
"""

from __future__ import annotations

import json
from typing import Callable, Union

from langchain_core.tools import StructuredTool

from . import Call, TotpTool

CallSource = Union[Call, Callable[[], Call]]


def totp_tool(tool: TotpTool, call: CallSource) -> StructuredTool:
    """A `StructuredTool` named `get_totp_code` whose every invocation runs
    `tool.invoke` with `call` -- a `Call`, or a function returning the
    `Call` for each invocation. Such a function should only build the
    `Call` and leave I/O to the directory's methods (open a database
    session at the first lookup, as the Pipelit example does): what a lookup
    raises becomes the tool's `host_error` result, what the function itself
    raises reaches the agent framework as an exception."""
    definition = json.loads(tool.describe())

    def get_totp_code(**arguments: object) -> str:
        this_call = call if isinstance(call, Call) else call()
        return tool.invoke(this_call, json.dumps(arguments))

    return StructuredTool.from_function(
        func=get_totp_code,
        name=definition["name"],
        description=definition["description"],
        args_schema=definition["parameters"],
    )
