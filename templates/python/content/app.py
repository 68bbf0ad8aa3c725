from skill_sdk import tool


@tool
def greet(name: str) -> str:
    """Say hello to someone.

    Args:
        name: Who to greet.
    """
    return f"Hello, {name}!"
