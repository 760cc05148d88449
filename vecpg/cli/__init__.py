"""The ``vecpg`` command line: the same core as the library, errors as one line and exit code 2.

One module per command (or command group); ``app`` holds the group, its connection options and
the error handling they share.
"""

from .app import main
from .ask import ask
from .collection import collection
from .db import db
from .demo import demo
from .doctor import doctor_cmd, maintain_cmd
from .eval import eval_cmd
from .index import index
from .ingest import delete, ingest
from .keys import keys
from .metrics import metrics_cmd
from .migrate import migrate_cmd
from .mirror import mirror
from .search import search
from .serve import serve
from .tune import index_tune
from .worker import worker

index.add_command(index_tune)  # its own module: see vecpg/cli/tune.py
for _command in (migrate_cmd, db, collection, ingest, search, delete, index, mirror, worker, eval_cmd, ask, serve, keys,
                 metrics_cmd, demo, doctor_cmd, maintain_cmd):
    main.add_command(_command)

__all__ = ["main"]
