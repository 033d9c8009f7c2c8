"""The error types every bad-input path raises: the CLI prints them on one line and exits 2.

The lowest room: it imports nothing of jetzoo, and every room may import it.
"""

import difflib
import re


class JetDataError(ValueError):
    """Bad input data. The message always starts with the offending file."""


class TrainingError(RuntimeError):
    """A fit, validation or test that cannot go on (non-finite logits). The message is one line that names
    the model and the step; the CLI prints it and exits 1."""


class UsageError(Exception):
    """A command line the parser rejects. The message is one line."""


class OptionError(UsageError, ValueError):
    """An option's value out of its range (`--data.batch_size 0`), found before anything is read or built.
    A ValueError too, for code that calls the classes directly."""


def _type_name(subtype: str) -> str:
    """`<class 'int'>` -> int, `<class 'NoneType'>` -> null, `typing.Literal['auto']` -> 'auto'."""
    found = re.fullmatch(r"<class '(?:[\w.]+\.)?(\w+)'>", subtype.strip())
    if found:
        return "null" if found.group(1) == "NoneType" else found.group(1)
    literal = re.fullmatch(r"typing\.Literal\[(.*)\]", subtype.strip())
    return literal.group(1).replace("', '", "' or '") if literal else subtype.strip()


def _union_error(message: str, class_options, names_for) -> str | None:
    """One line for jsonargparse's nested Union errors (an option of a --model/--data class, a value of
    the wrong type), which otherwise all end in "Expected a <class 'NoneType'>"."""
    keys = re.findall(r'Parser key "([^"]+)"', message)
    if not keys:
        return None
    unknown = re.search(r"Problem with given class_path '([\w.]+)':\s*Option '([\w\-]+)' is not accepted", message)
    if unknown:
        class_path, option = unknown.groups()
        name = f"--{keys[0]}.{option}"
        candidates = [f"--{keys[0]}.{o}" for o in (class_options(class_path) if class_options else [])]
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"{name}: not an option of {class_path.rpartition('.')[2]}{hint}"
    key = ".".join(keys[:1] + [k for k in keys[1:] if not k.startswith(keys[0])])
    path = re.search(r"Expected a dot import path string: (\S+)", message)
    if path:
        close = difflib.get_close_matches(path.group(1), names_for(keys[0]) if names_for else [], n=2, cutoff=0.6)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        return f"--{key} {path.group(1)}: not a known class name or import path{hint}"
    subtypes = re.findall(r"Subtypes: \[(.*)\]", message)
    given = re.findall(r"Given value: (.*)", message)
    if subtypes and given and "NestedArg" not in given[0]:
        types = [_type_name(t) for t in re.split(r",\s*(?=<class|typing\.)", subtypes[-1])]
        return f"--{key}: expected {' or '.join(types)}, got {given[0].strip()}"
    return None


def one_line_parser_error(message: str, option_strings: list[str], class_options=None, names_for=None) -> str:
    """The first line of a jsonargparse error, with a "did you mean" for an unknown option.

    `class_options(class_path)` lists a --model/--data class's options and `names_for(key)` the class names
    a key such as `optimizer` takes, for the "did you mean" of an option or class name inside them."""
    lines = [line.strip() for line in str(message).strip().splitlines() if line.strip()]
    text = lines[0] if lines else "invalid arguments"
    if "Union subtypes" in str(message):
        union = _union_error(str(message), class_options, names_for)
        if union:
            return union
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
