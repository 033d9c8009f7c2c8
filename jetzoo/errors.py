"""The error types every bad-input path raises: the CLI prints them on one line and exits 2.

The lowest room: it imports nothing of jetzoo, and every room may import it.
"""

import difflib
import re


class JetDataError(ValueError):
    """Bad input data. The message always starts with the offending file."""


class UsageError(Exception):
    """A command line the parser rejects. The message is one line."""


class OptionError(UsageError, ValueError):
    """An option's value out of its range (`--data.batch_size 0`), found before anything is read or built.
    A ValueError too, for code that calls the classes directly."""


def one_line_parser_error(message: str, option_strings: list[str]) -> str:
    """The first line of a jsonargparse error, with a "did you mean" for an unknown option."""
    lines = [line.strip() for line in str(message).strip().splitlines() if line.strip()]
    text = lines[0] if lines else "invalid arguments"
    unknown = re.findall(r"(--[\w.\-]+)", text) if "nrecognized" in text else []
    for option in unknown:
        close = difflib.get_close_matches(option.split("=")[0], option_strings, n=1, cutoff=0.75)
        if close:
            return f"{text} (did you mean {close[0]}?)"
    # a bad value inside --model / --data (subclass mode): jsonargparse nests it in a Union error
    nested = any("Union subtypes" in line for line in lines)
    for i, line in enumerate(lines if nested else []):
        if "Got value:" in line and "NoneType" not in line:
            keys = [k for previous in lines[:i] for k in re.findall(r'Parser key "([^"]+)"', previous)]
            return f"--{'.'.join(keys)}: {line.removeprefix('- ')}" if keys else line
    if len(lines) > 1 and "nrecognized" not in text:
        detail = next((line for line in reversed(lines) if not line.startswith("Given value")), "")
        if detail and detail != text:
            text = f"{text} {detail}"
    return text
