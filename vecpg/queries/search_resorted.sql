-- search_resorted: the k rows of {search} (the search query) in order of distance, after a
-- relaxed iterative scan, which may return them slightly out of order.
SELECT hits.* FROM ({search}) AS hits ORDER BY hits.distance
