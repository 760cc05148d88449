-- Reverts 012_halfvec_storage.sql. Revision 0009 holds vectors only: a collection that stores
-- halfvec would be left with a column its functions cannot search or index, so the downgrade
-- refuses until those collections are dropped (or copied into collections of vectors).
DO $refuse$
DECLARE
    halves text;
BEGIN
    SELECT string_agg(name, ', ' ORDER BY name) INTO halves FROM vecpg.collection WHERE storage <> 'vector';
    IF halves IS NOT NULL THEN
        RAISE EXCEPTION 'cannot downgrade below revision 0010: collection(s) % store halfvec, which revision 0009 '
                        'cannot hold; drop them first', halves
            USING ERRCODE = 'VP005';
    END IF;
END
$refuse$;
-- The new signatures go; the layer of revision 0009, applied next, restores the old ones.
DROP FUNCTION vecpg.create_collection(text, integer, text, text, regconfig, name, text);
DROP FUNCTION vecpg.vector_opclass(text, text);
ALTER TABLE vecpg.collection DROP COLUMN storage;
