"""The book's commands, ``python -m helpers COMMAND``.

- ``build``: execute the notebooks at a profile and render the book (:mod:`helpers.book.build`);
- ``plan`` / ``submit``: list the runs the pages need (:mod:`helpers.book.plan`), or train them on GPUs or a
  Slurm cluster (:mod:`helpers.book.jobs`, where both commands are);
- ``launch``: write ``_config.yml``'s repository URL into every notebook (:mod:`helpers.book.launch`);
- ``scale run``: train and measure the width and budget ladders into ``results/scale.json``
  (:mod:`helpers.book.scale`).
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "build": "helpers.book.build",
    "plan": "helpers.book.jobs",
    "submit": "helpers.book.jobs",
    "launch": "helpers.book.launch",
    "scale": "helpers.book.scale",
}


def main(argv: list[str] | None = None) -> int:
    """Run ``argv[0]`` (one of :data:`COMMANDS`) with the rest of ``argv``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m helpers {{{','.join(COMMANDS)}}} ...\n\n{__doc__}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[argv[0]])
    return module.main(argv if COMMANDS[argv[0]].endswith("jobs") else argv[1:])


if __name__ == "__main__":
    sys.exit(main())
