"""``vecpg doctor`` and ``vecpg maintain``: what is wrong with a database's collections, the
command that fixes each finding, and running the fixes that are safe to run unattended.

The checks SQL can make are ``vecpg.doctor()`` (sql/idempotent/16_doctor.sql), callable from any
client; this package adds those only Python can make (checks.py) and the repairs (maintain.py).
"""

from .checks import doctor
from .findings import SEVERITIES, Finding
from .maintain import Action, maintain

__all__ = ["SEVERITIES", "Action", "Finding", "doctor", "maintain"]
