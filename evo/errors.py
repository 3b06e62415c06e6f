"""One error type for every user mistake; the CLI turns it into one line on stderr and exit code 2."""


class EvoError(Exception):
    """A problem the user can fix. `str(err)` is one line naming the problem and the fix."""

    exit_code = 2

    def __init__(self, problem: str, fix: str | None = None):
        # One line, always: a user reads it in a terminal, a script greps it.
        self.problem = " ".join(problem.split())
        self.fix = " ".join(fix.split()) if fix else None
        super().__init__(f"{self.problem} ({self.fix})" if self.fix else self.problem)
