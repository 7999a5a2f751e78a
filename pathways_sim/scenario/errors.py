"""The one error type raised for bad scenario files and bad parameter overrides.

Every message names the file, the key path as written in the file, the problem
and what would have been allowed, so an analyst can fix the file without
reading the code::

    scenarios/high.yaml: params.link_workers.casload: unknown key 'casload' in
    section 'link_workers' (did you mean 'caseload'?). Allowed: keys of
    link_workers: caseload, work_awareness, ...
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ScenarioError(Exception):
    """A scenario file or override that cannot be used.

    Attributes:
        file: The file the problem is in (``"<override>"`` for programmatic
            changes, ``"<registry>"`` for a bad registry default), or None.
        key: Dotted key path as written in the file, e.g.
            ``"params.link_workers.caseload"``, or None when the problem is
            not tied to one key (invalid YAML, a missing file).
        problem: What is wrong, in words.
        allowed: What would have been accepted, or None.
    """

    def __init__(
        self,
        file: str | None,
        key: str | None,
        problem: str,
        allowed: str | None = None,
    ) -> None:
        super().__init__(file, key, problem, allowed)
        self.file = file
        self.key = key
        self.problem = problem
        self.allowed = allowed

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.key) if p is not None]
        message = ": ".join([*parts, self.problem])
        if self.allowed is not None:
            separator = " " if message.endswith(".") else ". "
            message += f"{separator}Allowed: {self.allowed}"
        return message


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix for the closest candidate, or ``""``.

    Args:
        word: The unknown word as written.
        candidates: The valid words.

    Returns:
        The suffix, with a leading space, or an empty string when nothing is close.
    """
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
