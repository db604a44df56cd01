"""The cache's code version reads what the code computes, not how it is written or where it lives."""

import types

from helpers.infra.cache import code_version


def _module(name: str, source: str):
    m = types.ModuleType(name)
    m.__file__ = f"<{name}>"
    import inspect
    import linecache

    linecache.cache[m.__file__] = (len(source), None, source.splitlines(True), m.__file__)
    exec(compile(source, m.__file__, "exec"), m.__dict__)
    assert inspect.getsource(m) == source
    return m


A = '''"""Module doc."""
from math import sqrt


def f(x):
    """Doc."""
    return sqrt(x) + 1  # a comment


def g(y):
    return y * 2
'''

A_REWRITTEN = '''"""Another doc."""
import math
from math import sqrt

def f(x):
    return sqrt(x) + 1
'''

B = '''
def g(y):
    """Moved here."""
    return y * 2
'''

A_CHANGED = A.replace("+ 1", "+ 2")


def test_docstrings_comments_imports_and_formatting_keep_the_version():
    assert code_version(_module("a1", A)) == code_version(
        _module("a2", A.replace("x):", "x) :").replace("# a comment", ""))
    )


def test_a_function_moved_between_hashed_modules_keeps_the_version():
    assert code_version(_module("a3", A)) == code_version(_module("a4", A_REWRITTEN), _module("b", B))


def test_a_changed_statement_changes_the_version():
    assert code_version(_module("a5", A)) != code_version(_module("a6", A_CHANGED))
