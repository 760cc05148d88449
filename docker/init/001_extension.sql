-- Runs once, when the data volume is first initialised. `vecpg migrate` also creates the
-- extension; doing it here lets a non-superuser application role run the migrations.
CREATE EXTENSION IF NOT EXISTS vector;
