"""One error type for every user mistake; the CLI turns it into one line on stderr and exit code 2."""


class EvoError(Exception):
    """A problem the user can fix. `str(err)` is one line naming the problem and the fix."""

    exit_code = 2

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} ({fix})" if fix else problem)
