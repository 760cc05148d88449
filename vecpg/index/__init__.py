"""A collection's vector index: what to build, building it, and making searches use it well.

``specs`` describes indexes (HNSW, IVFFlat, quantization) and what the database reports of them;
``operations`` builds, rebuilds, drops, lists and prewarms them through vecpg's SQL functions;
``builds`` runs the concurrent builds SQL cannot run itself; ``progress`` follows a build in a
bar; ``advice`` recommends and sizes an index; ``tuning`` measures recall and stores the search
options that reach a target.
"""
