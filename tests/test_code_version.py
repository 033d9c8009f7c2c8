"""A bench run's code identity (jetzoo.bench.code_version): a change of code makes a run stale, a change of its
documentation does not, and the bookkeeping modules left out are real modules."""

import importlib.util
import textwrap
import uuid

import pytest

from jetzoo.bench import code_version

MODULE = textwrap.dedent('''\
    """A model."""
    import math  # a comment

    SCALE = "not a docstring"


    class Net:
        """The net: ë-café."""

        def forward(self, x):  # é
            """Twice x."""
            if x is None:
                x = 0
            return 2 * x + math.pi
    ''')


@pytest.fixture
def module(tmp_path, monkeypatch):
    """A real module on sys.path, named for this test alone (find_spec caches a name's package): (file, name)."""
    name = f"cv_net_{uuid.uuid4().hex}"
    path = tmp_path / f"{name}.py"
    path.write_text(MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return path, name


@pytest.mark.parametrize("edit", [
    lambda s: s.replace('"""A model."""', '"""A model,\n\ndocumented at length."""'),
    lambda s: s.replace("# a comment", "# another comment, longer"),
    lambda s: s.replace("  # é", ""),
    lambda s: s.replace('"""Twice x."""', "'''Twice x: 2x + π.'''"),
    lambda s: s.replace("\n\n\nclass", "\n\n\n\n# a section\n\nclass") + "\n\n",
    lambda s: s.replace("return 2 * x + math.pi", "return 2 * x + math.pi   "),
], ids=["module-docstring", "comment", "trailing-comment", "method-docstring", "blank-lines", "trailing-space"])
def test_documenting_a_module_does_not_change_its_code_hash(module, edit):
    path, name = module
    before = code_version.module_sha256(name)
    path.write_text(edit(MODULE), encoding="utf-8")
    assert code_version.module_sha256(name) == before


@pytest.mark.parametrize("edit", [
    lambda s: s.replace("2 * x", "3 * x"),
    lambda s: s.replace('"not a docstring"', '"another string"'),
    lambda s: s.replace("        return", "            return"),  # into the if
    lambda s: s.replace('"""Twice x."""', '"""Twice x."""\n        x = x + 0'),
], ids=["expression", "string-constant", "indentation", "added-statement"])
def test_changing_a_module_s_code_changes_its_hash(module, edit):
    path, name = module
    before = code_version.module_sha256(name)
    changed = edit(MODULE)
    assert changed != MODULE
    path.write_text(changed, encoding="utf-8")
    assert code_version.module_sha256(name) != before


def test_code_text_cuts_docstrings_and_comments_by_their_position_with_non_ascii_text():
    text = code_version.code_text(MODULE)
    assert text == textwrap.dedent('''\
        import math
        SCALE = "not a docstring"
        class Net:
            def forward(self, x):
                if x is None:
                    x = 0
                return 2 * x + math.pi''')


def test_code_text_counts_lines_as_python_does_across_form_feeds_and_crlf():
    """A form feed (a page break some editors keep between sections) is no line end to ast, nor a CRLF two."""
    source = MODULE.replace("\n\n\nclass", "\n\x0c\n\nclass").replace("\n", "\r\n")
    assert code_version.code_text(source).replace("\x0c", "") == code_version.code_text(MODULE)


def test_every_bookkeeping_module_exists_and_no_model_or_training_module_is_left_out():
    """A renamed bookkeeping module must not silently widen the list; the code that decides numbers is hashed."""
    for name in code_version.BOOKKEEPING:
        assert importlib.util.find_spec(name) is not None, name
    decided = ("jetzoo.zoo", "jetzoo.training", "jetzoo.datamodules", "jetzoo.metrics", "jetzoo.physics",
               "jetzoo.bench.runs", "jetzoo.bench.convergence", "jetzoo.bench.spec", "jetzoo.bench.anomaly",
               "jetzoo.bench.generative", "jetzoo.bench.measure", "jetzoo.bench.resume")
    assert not [name for name in code_version.BOOKKEEPING for d in decided if name == d or name.startswith(d + ".")]


def test_a_record_names_the_module_whose_code_changed(module):
    path, name = module
    record = {"code": {**code_version.identity(), "module_sha256": {name: code_version.module_sha256(name)}}}
    assert code_version.stale_reason(record) is None
    path.write_text(MODULE.replace("2 * x", "3 * x"), encoding="utf-8")
    assert code_version.stale_reason(record) == f"the code of {name} has changed since"
    path.unlink()
    assert code_version.stale_reason(record) == f"the code of {name} has changed since"  # gone: changed


def test_an_older_record_is_checked_against_the_raw_files_it_hashed(module):
    """Records written before the code hash (75efdac and older) keep their own check: the raw bytes."""
    path, name = module
    identity = code_version.identity()
    older = {"code": {"jetzoo": identity["jetzoo"], "torch": identity["torch"], "modules": [name],
                      "source_sha256": code_version.source_sha256([name])}}
    assert code_version.stale_reason(older) is None
    path.write_text(MODULE.replace("# a comment", "# another"), encoding="utf-8")
    assert code_version.stale_reason(older) == "the jetzoo source it imported has changed since"


def test_identity_of_this_process_hashes_what_it_imported_but_the_bookkeeping():
    import jetzoo.bench.workers  # noqa: F401
    import jetzoo.zoo.mlp  # noqa: F401

    identity = code_version.identity()
    assert "jetzoo.zoo.mlp" in identity["module_sha256"] and "jetzoo.bench.workers" in identity["modules"]
    assert not set(identity["module_sha256"]) & code_version.BOOKKEEPING
    assert code_version.stale_reason({"code": identity}) is None
