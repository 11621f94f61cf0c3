"""The handlers' module sits beside tests/, as it does in the Lambda's zip."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
