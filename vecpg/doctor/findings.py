"""A finding of the doctor, and the SQL function's findings as one statement."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..ops.statement import Statement, each

SEVERITIES = ("ok", "warning", "problem")  # a problem makes `vecpg doctor` exit 1


@dataclass(frozen=True)
class Finding:
    """One thing the doctor found: ``check`` names it, ``fix`` is the SQL or vecpg command to run."""

    check: str
    severity: str
    collection: str | None
    message: str
    fix: str

    @property
    def problem(self) -> bool:
        return self.severity == "problem"

    def as_dict(self) -> dict[str, Any]:
        """For JSON."""
        return asdict(self)

    def line(self) -> str:
        """One finding as the CLI prints it: severity, check, collection, message, then the fix."""
        where = f" [{self.collection}]" if self.collection else ""
        return f"{self.severity}: {self.check}{where}: {self.message}\n  fix: {self.fix}"


def sql_findings(collection: str | None) -> Statement[list[Finding]]:
    """What ``vecpg.doctor()`` finds (the checks SQL can make)."""
    return Statement("SELECT * FROM vecpg.doctor(%s)", (collection,), each(Finding))
