"""Docs that cannot drift: every `jetzoo ...` command line in README.md and docs/*.md parses.

Each command line in a shell code block (unlabelled, bash, sh, console or shell) is parsed in
this process, by the parser the real command uses, and nothing is run: no data is generated, no
class is instantiated, no model is trained. A renamed or misspelt option, an unknown subcommand,
registry name or `generate --recipe` fails the test case `FILE:LINE` of that line. In a block with
`$ ` prompts only the prompted lines are commands (the others are output); `\\` continues a line;
`cmd1 && cmd2` / `;` are separate commands; a pipe or redirection ends a command.

A line meant to show an error ends with `# fails: <why>`; for it the test asserts that it does
NOT parse.

How each command is parsed (mirroring `jetzoo.cli.main.main`, which drops `--verbose` anywhere):
- fit/validate/test/predict: the argv goes through `resolve_short_names` and
  `give_loggers_a_save_dir` as in `main`, then `JetzooCLI.parse_arguments` of the parser that
  `jetzoo.cli.lightning.run_lightning` builds (with the real constructor arguments: the CLI
  class is swapped for a subclass that stops once the parser is built). Nothing after the parse
  runs (no checkpoint lookup, no instantiation). One parser serves every line.
- generate/export/check-plugin/sample: `jetzoo.cli.main._run_argparse` with `add_generate_arguments` /
  `add_export_arguments` / `add_check_plugin_arguments` / `add_sample_arguments` and a `run` that only records the namespace
  (check-plugin's DIST must be installed and register entry points); export's `--model` is
  resolved in the registry as the command does.
- bench: `jetzoo.bench.spec.parse_spec` (what `jetzoo.bench.main` does before it runs anything);
  with `--print_config`, `build_parser().parse_args` as `main` does.
- models/datasets: `print_catalog` reads one optional fnmatch pattern and no options.
- `jetzoo`, `jetzoo --version`, `jetzoo --help`: nothing may follow.

Stricter than the command in two ways, so that the docs spell options the way the code does:
abbreviated options (`--trainer.max_epoch` for `--trainer.max_epochs`, which argparse would accept)
are refused, and `--help` is no check by itself (argparse prints help before it looks at the other
options): the line is checked without it, and accepted if nothing else is on it.
A `--config FILE` that is not in the repository is dropped with a note; the rest of the line is
then parsed without the checks for required values (those could come from the file).
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
README_MAX_LINES = 150
SHELL_BLOCKS = {"", "bash", "sh", "console", "shell"}
PROGRAMS = ("jetzoo", ".venv/bin/jetzoo")
LAUNCHERS = ("srun",)  # `srun jetzoo fit ...` (no launcher options) is checked as `jetzoo fit ...`
SEPARATORS = {"&&", ";", "||", "&"}
FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([^\s`]*)")
HELP_FLAGS = ("-h", "--help")


def doc_files() -> list[Path]:
    return [README, *sorted((REPO / "docs").glob("*.md"))]


# --- collecting -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocCommand:
    where: str  # "README.md:42" (or "README.md:20#2" for the second command of a line)
    argv: tuple[str, ...]  # after `jetzoo`
    fails: str | None  # the reason of a `# fails: <why>` marker, else None
    text: str  # the line as written (continuations joined)


def split_comment(line: str) -> tuple[str, str | None]:
    """(code, comment or None): the comment starts at the first `#` outside quotes at a word start."""
    quote = None
    escaped = False
    for i, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i], line[i + 1:].strip()
    return line, None


def shell_words(code: str) -> list[str]:
    """The words of `code`, with `&&`, `;`, `|`, `>` ... as words of their own."""
    lexer = shlex.shlex(code, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    return list(lexer)


def commands_of(code: str) -> list[list[str]]:
    """The simple commands of a shell line, each cut at its first pipe or redirection."""
    parts: list[list[str]] = [[]]
    for word in shell_words(code):
        if word in SEPARATORS:
            parts.append([])
        else:
            parts[-1].append(word)
    out = []
    for words in parts:
        cut = next((i for i, w in enumerate(words) if w and set(w) <= set("|<>&")), len(words))
        if words[:cut]:
            out.append(words[:cut])
    return out


def jetzoo_argv(words: list[str]) -> list[str] | None:
    if words and words[0] in LAUNCHERS:
        words = words[1:]
    if words and words[0] in PROGRAMS:
        return words[1:]
    return None


def shell_blocks(text: str):
    """The shell code blocks of a markdown text, each a list of (line number, line)."""
    fence, block = None, []
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if fence is None:
            if match:
                fence = match.group(1)
                block = [] if match.group(2).lower() in SHELL_BLOCKS else None
            continue
        if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) and not match.group(2):
            if block:
                yield block
            fence = None
        elif block is not None:
            block.append((number, line.strip()))


def logical_lines(block):
    """(line number, command line) of a shell block: `\\` continuations joined; in a block with
    `$ ` prompts, only the prompted lines (the others are output), without the prompt."""
    prompted = any(line.startswith("$ ") for _, line in block)
    pending: tuple[int, str] | None = None
    for number, line in block:
        if pending is None:
            if prompted and not line.startswith("$ "):
                continue
            if line.startswith("$ "):
                line = line[2:]
        start, joined = pending if pending else (number, "")
        joined += line
        if joined.endswith("\\") and split_comment(joined)[1] is None:
            pending = (start, joined[:-1] + " ")
            continue
        pending = None
        yield start, joined


def collect(text: str, name: str) -> list[DocCommand]:
    found = []
    for block in shell_blocks(text):
        for number, line in logical_lines(block):
            found += commands_on_line(line, f"{name}:{number}")
    return found


def commands_on_line(line: str, where: str) -> list[DocCommand]:
    code, comment = split_comment(line)
    fails = None
    if comment is not None and comment.startswith("fails:"):
        fails = comment[len("fails:"):].strip()
    try:
        argvs = [a for a in (jetzoo_argv(words) for words in commands_of(code)) if a is not None]
    except ValueError:  # unbalanced quotes: a jetzoo line that no shell would run fails as such
        argvs = [["<unbalanced quotes>"]] if re.search(r"(^|[\s;&|])(\.venv/bin/)?jetzoo\s", code) else []
    out = []
    for k, argv in enumerate(argvs, 1):
        last = k == len(argvs)  # a `# fails:` marker belongs to the command it follows
        out.append(DocCommand(where + (f"#{k}" if len(argvs) > 1 else ""), tuple(argv), fails if last else None, line))
    return out


def collect_docs() -> list[DocCommand]:
    return [c for path in doc_files() for c in collect(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))]


# --- parsing, as each command does, without running it -------------------------------------------


class Rejected(Exception):
    """The command line does not parse; the message says why."""


class _ParserBuilt(Exception):
    def __init__(self, cli):
        super().__init__("parser built")
        self.cli = cli


def option_name(word: str) -> str:
    return word.partition("=")[0]


def drop_missing_configs(args: list[str], notes: list[str]) -> tuple[list[str], bool]:
    """`--config FILE` with FILE not in the repository dropped (noted); (args, whether one was dropped)."""
    out, dropped, i = [], False, 0
    while i < len(args):
        flag, eq, value = args[i].partition("=")
        if flag == "--config" and (eq or i + 1 < len(args)):
            if not eq:
                i += 1
                value = args[i]
            if (REPO / value).is_file():
                out += ["--config", value]
            else:
                notes.append(f"--config {value}: not in the repository; checked without it")
                dropped = True
        else:
            out.append(args[i])
        i += 1
    return out, dropped


def strip_help(args: list[str], dotted: bool = False) -> tuple[list[str], bool]:
    """Without `-h`/`--help` (and, with `dotted`, `--model.help X` and the like); (args, whether any was there)."""
    out, found, i = [], False, 0
    while i < len(args):
        flag, eq, _ = args[i].partition("=")
        if args[i] in HELP_FLAGS:
            found = True
        elif dotted and flag.startswith("--") and flag.endswith(".help"):
            found = True
            if not eq and i + 1 < len(args) and not args[i + 1].startswith("-"):
                i += 1
        else:
            out.append(args[i])
        i += 1
    return out, found


def _no_abbreviations(*parsers) -> None:
    for parser in parsers:
        parser.allow_abbrev = False


@functools.lru_cache(maxsize=None)
def lightning_cli():
    """The JetzooCLI object with the parser `run_lightning` builds, stopped before it parses anything."""
    import jetzoo.cli.lightning as lightning

    class ParserOnly(lightning.JetzooCLI):
        def parse_arguments(self, parser, args):
            raise _ParserBuilt(self)

    real, saved_argv = lightning.JetzooCLI, sys.argv[:]
    lightning.JetzooCLI = ParserOnly  # run_lightning looks the class up at call time: the real arguments
    try:
        lightning.run_lightning([])
    except _ParserBuilt as built:
        cli = built.cli
    else:
        raise AssertionError("run_lightning no longer goes through JetzooCLI.parse_arguments")
    finally:
        lightning.JetzooCLI, sys.argv = real, saved_argv
    _no_abbreviations(cli.parser, *getattr(cli, "_subcommand_parsers", {}).values())
    return cli


def parse_lightning(command: str, args: list[str], notes: list[str]) -> None:
    from jetzoo.cli.lightning import JetzooCLI
    from jetzoo.cli.main import lightning_arguments

    args, dropped = drop_missing_configs(args, notes)
    args = lightning_arguments(args)  # as main() does: names, recipes and class paths checked here
    args, had_help = strip_help(args, dotted=True)
    if had_help and not args:
        return
    cli = lightning_cli()
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # --print_config prints, then exits 0
            if dropped:  # required values may have come from the file: check the names and types only
                cli.parser.parse_args([command, *args], _skip_validation=True)
            else:
                JetzooCLI.parse_arguments(cli, cli.parser, [command, *args])
    except SystemExit as done:
        if done.code not in (0, None):
            raise Rejected(f"exit {done.code}") from None
    finally:
        if hasattr(cli.parser, "print_config"):  # a failed --print_config parse leaves its request behind
            delattr(cli.parser, "print_config")


def parse_argparse(name: str, args: list[str], notes: list[str]):
    """generate/export through `_run_argparse` itself; its `run` only keeps the namespace."""
    from jetzoo.cli.main import _run_argparse
    from jetzoo.errors import UsageError

    if name == "generate":
        from jetzoo.generate import add_generate_arguments as add_arguments
    elif name == "check-plugin":
        from jetzoo.testing.check import add_check_plugin_arguments as add_arguments
    elif name == "sample":
        from jetzoo.cli.sample import add_sample_arguments as add_arguments
    else:
        from jetzoo.cli.export_arguments import add_export_arguments as add_arguments
    args, had_help = strip_help(args)
    if had_help and not args:
        return None

    def run(relaxed: bool):
        def add(parser):
            add_arguments(parser)
            parser.allow_abbrev = False
            if relaxed:
                for action in parser._actions:
                    action.required = False

        parsed, stderr = [], io.StringIO()
        try:
            with contextlib.redirect_stderr(stderr):
                _run_argparse(name, add, parsed.append, args)
        except UsageError as err:  # the one-line error the command prints (jetzoo.cli.main._run_argparse)
            raise Rejected(str(err)) from None
        except SystemExit as done:
            message = stderr.getvalue().strip().splitlines()
            raise Rejected(message[-1] if message else f"exit {done.code}") from None
        return parsed[0]

    # first without the required options, so that a misspelt option is named even when argparse
    # would first complain that the option it misspells is missing; then as the command parses
    namespace = run(relaxed=True)
    if not had_help:  # `--help` alone is fine, so with it the other options need not be complete
        namespace = run(relaxed=False)
    if name in ("export", "sample") and namespace.model is not None:
        from jetzoo.registry import MODEL_GROUP, resolve_cli_value

        resolve_cli_value(MODEL_GROUP, namespace.model)  # run_export_command loads it by this name
    if name == "check-plugin" and namespace.distribution:
        from jetzoo.testing.check import registered_by

        registered_by(namespace.distribution)  # installed, and registering entry points (OptionError)
    return namespace


def parse_bench(args: list[str], notes: list[str]) -> None:
    from jetzoo.bench import spec

    args, dropped = drop_missing_configs(args, notes)
    args, had_help = strip_help(args)
    if had_help and not args:
        return
    real_build_parser = spec.build_parser

    def strict_parser():
        parser = real_build_parser()
        _no_abbreviations(parser)
        return parser

    print_config = any(option_name(a) == "--print_config" for a in args)
    try:
        with mock.patch.object(spec, "build_parser", strict_parser), contextlib.redirect_stdout(io.StringIO()):
            if print_config or had_help or dropped:
                message = spec.legacy_error(args)
                if message:
                    raise Rejected(message)
                strict_parser().parse_args(args, _skip_validation=had_help or dropped)
            else:
                spec.parse_spec(args)  # parsed, instantiated as dataclasses and checked; nothing runs
    except SystemExit as done:
        if done.code not in (0, None):
            raise Rejected(f"exit {done.code}") from None


def parse_catalog(command: str, args: list[str]) -> None:
    """`print_catalog(what, argv)` reads argv[0] as an fnmatch pattern of names, nothing else."""
    if len(args) > 1 or (args and args[0].startswith("-")):
        raise Rejected(f"`jetzoo {command}` takes one optional name pattern and no options; print_catalog "
                       f"would take {args[0]!r} as the pattern" + (" and ignore the rest" if len(args) > 1 else ""))


def parse_command(argv: list[str]) -> list[str]:
    """Parse `jetzoo ARGV` as the command would, without running it; Rejected (or the command's
    own error) when it does not parse. Returns notes on what was not checked."""
    from jetzoo.cli.main import LIGHTNING_SUBCOMMANDS

    notes: list[str] = []
    argv = [a for a in argv if a != "--verbose"]  # main() drops it anywhere
    command, args = (argv[0], argv[1:]) if argv else (None, [])
    if command in (None, "--version", "-V", "version", "-h", "--help"):
        if args:
            raise Rejected(f"`jetzoo {command}` ignores what follows it: {' '.join(args)}")
    elif command in LIGHTNING_SUBCOMMANDS:
        parse_lightning(command, args, notes)
    elif command in ("generate", "export", "check-plugin", "sample"):
        parse_argparse(command, args, notes)
    elif command == "bench":
        parse_bench(args, notes)
    elif command in ("models", "datasets"):
        parse_catalog(command, args)
    else:
        raise Rejected(f"unknown subcommand {command!r} (a new subcommand of jetzoo.cli.main.main needs "
                       "a parse function in tests/test_docs_commands.py)")
    return notes


def parse_error(argv) -> str | None:
    """Why `jetzoo ARGV` does not parse, or None when it does."""
    try:
        for note in parse_command(list(argv)):
            print(f"note: {note}")
    except Exception as err:  # noqa: BLE001 - Rejected, UsageError, RegistryError, ArgumentError, ...
        return f"{type(err).__name__}: {err}"
    return None


# --- the tests ----------------------------------------------------------------------------------------

COMMANDS = collect_docs()


@pytest.fixture
def in_repo(monkeypatch):
    monkeypatch.chdir(REPO)  # relative files in the docs (benchmarks/*.yaml) as from the repository root


@pytest.mark.parametrize("cmd", COMMANDS, ids=[c.where for c in COMMANDS])
def test_doc_command_parses(cmd: DocCommand, in_repo):
    error = parse_error(cmd.argv)
    if cmd.fails is None:
        assert error is None, f"{cmd.where}: `{cmd.text}` does not parse: {error}"
    else:
        assert cmd.fails, f"{cmd.where}: `# fails:` needs a reason after it"
        assert error is not None, f"{cmd.where}: `{cmd.text}` is marked `# fails: {cmd.fails}` but it parses"


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; at most {README_MAX_LINES} (details go to docs/)"


def test_collector_finds_the_commands():
    assert len(COMMANDS) >= 15, f"only {len(COMMANDS)} jetzoo command lines collected: {[c.where for c in COMMANDS]}"
    assert {c.argv[0] for c in COMMANDS if c.argv} >= {"fit", "generate"}


def test_collector_reads_shell_blocks_only():
    text = "\n".join([
        "jetzoo fit --model outside-a-block",
        "```bash",
        "jetzoo fit --model mlp   # a comment",
        "python3 -m venv .venv && .venv/bin/jetzoo generate --recipe top-landscape --n 10; jetzoo models 'part*'",
        "jetzoo fit --model mlp \\",
        "    --data.batch_size 8",
        "jetzoo fit --model mlp --print_config > mlp.yaml   # then: jetzoo fit --config mlp.yaml",
        "jetzoo fitt --model mlp  # fails: no such subcommand",
        "jetzoo fit --data.path 'a b#c/*.h5' | tee log",
        "srun jetzoo test --model mlp",
        "pip install jetzoo",
        "```",
        "```python",
        "jetzoo fit --model in-python",
        "```",
        "  ~~~console",
        "  $ jetzoo --version",
        "  jetzoo 0.3.0",
        "  ~~~",
        "```yaml",
        "jetzoo: fit",
        "```",
        "```",
        "$ jetzoo datasets",
        "jetzoo models  (output, as the block has prompts)",
        "```",
    ])
    got = [(c.where, list(c.argv), c.fails) for c in collect(text, "X.md")]
    assert got == [
        ("X.md:3", ["fit", "--model", "mlp"], None),
        ("X.md:4#1", ["generate", "--recipe", "top-landscape", "--n", "10"], None),
        ("X.md:4#2", ["models", "part*"], None),
        ("X.md:5", ["fit", "--model", "mlp", "--data.batch_size", "8"], None),
        ("X.md:7", ["fit", "--model", "mlp", "--print_config"], None),
        ("X.md:8", ["fitt", "--model", "mlp"], "no such subcommand"),
        ("X.md:9", ["fit", "--data.path", "a b#c/*.h5"], None),
        ("X.md:10", ["test", "--model", "mlp"], None),
        ("X.md:17", ["--version"], None),
        ("X.md:24", ["datasets"], None),
    ]


@pytest.mark.parametrize("line, wrong", [
    ("fit --model mlp --trainer.max_epoch 3", "--trainer.max_epoch"),  # abbreviated: refused here
    ("fit --model mlp --trainer.max_epochz 3", "--trainer.max_epochz"),
    ("test --model mlp --ckpt_pth last", "--ckpt_pth"),
    ("fit --model mlp --data.batch_siz 8", "data"),
    ("fit --model mlp --print_config --trainer.max_epoch 3", "--trainer.max_epoch"),
    ("fit --model mlp --help --trainer.max_epoch 3", "--trainer.max_epoch"),
    ("fit --model no-such-model", "no-such-model"),
    ("generate --recipee x", "--recipee"),
    ("generate --recipe top-landscape --n 10 --max_particles 30", "--max_particles"),
    ("generate --recipe no-such-recipe --n 10", "no-such-recipe"),
    ("generate --help --recipee x", "--recipee"),
    ("export --model mlp --ckpt_path last.ckpt --formt onnx --out m.onnx", "--formt"),
    ("export --model no-such-model --ckpt_path last.ckpt --out m.onnx", "no-such-model"),
    ("bench --config benchmarks/leaderboard_smoke.yaml --seedz 3", "--seedz"),
    ("bench --config benchmarks/leaderboard_smoke.yaml --max-epochs 3", "--max-epochs"),
    ("bench --config no-such-spec.yaml --worker 2", "--worker"),
    ("models --json", "--json"),
    ("fitt --model mlp", "fitt"),
    ("--version --model mlp", "--model"),
])
def test_misspelt_options_are_caught(line, wrong, in_repo):
    error = parse_error(shlex.split(line))
    assert error is not None, f"`jetzoo {line}` parsed"
    assert wrong in error, f"`jetzoo {line}`: the error does not name {wrong}: {error}"


@pytest.mark.parametrize("line", [
    "fit --model mlp --trainer.max_epochs 3 --data.batch_size 8 --verbose",
    "fit --help",
    "fit --model mlp --print_config",
    "test --model mlp --ckpt_path no/such/file.ckpt",  # not opened: only parsed
    "generate --help",
    "generate --recipe top-landscape --n 10 --max-particles 30",
    "bench --config benchmarks/leaderboard_smoke.yaml --seeds 2",
    "models 'part*'",
    "--version",
])
def test_good_lines_parse(line, in_repo):
    assert parse_error(shlex.split(line)) is None
