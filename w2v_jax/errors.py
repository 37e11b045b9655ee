"""The one exception type for mistakes a user can fix (bad flags, bad files), a ValueError.

run.py turns a UserError into a single line on stderr and exit code 2; anything
else is a bug and keeps its traceback.
"""


class UserError(ValueError):
  """A problem with the user's input, with a message that says what to do."""


class Interrupted(Exception):
  """The run stopped on request (Ctrl-C, SIGTERM); the message says what --resume continues.

  `exit_code`: 128 + the signal's number, as a shell reports a process the signal ended.
  """

  def __init__(self, message: str, exit_code: int = 130):
    super().__init__(message)
    self.exit_code = exit_code
