"""The error type every bad-input path raises: the CLI prints it on one line and exits 2."""


class JetDataError(ValueError):
    """Bad input data. The message always starts with the offending file."""


class UsageError(Exception):
    """A command line the parser rejects. The message is one line."""
