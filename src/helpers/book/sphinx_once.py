"""A Sphinx extension for the book: each page loads each script once.

Jupyter Book 1 runs sphinx-thebe's ``env-before-read-docs`` hook twice, so every page declares
``const THEBE_JS_URL`` twice and the browser console reports "Identifier 'THEBE_JS_URL' has
already been declared" (found by tests/test_book.py). This drops the repeated script entries.
Enabled in ``_config.yml`` (``sphinx: extra_extensions``).
"""

from __future__ import annotations


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Keep the first of identical script entries (same file, same inline body), in order."""
    seen, kept = set(), []
    for js in context.get("script_files", []):
        name = getattr(js, "filename", js) or ""  # sphinx-thebe's two copies differ only in None vs ''
        key = (str(name), tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
