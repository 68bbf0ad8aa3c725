from skill_sdk import tool{{#if config}}, config{{/if}}


@tool
def greet(name: str) -> str:
    """Say hello to someone.

    Args:
        name: Who to greet.
    """
    return f"Hello, {name}!"
{{#each extra_tools}}


@tool
def {{fn_name}}(input: str) -> str:
    """Describe what {{name}} does.

    Args:
        input: What to work on.
    """
    return f"{{name}}: {input}"
{{/each}}
{{#if config}}


@tool
def check_config() -> str:
    """Whether this instance has its API key."""
    # `require` raises a not-configured tool error when the key is missing.
    return f"api_key is set ({len(config.require('api_key'))} characters)"
{{/if}}
