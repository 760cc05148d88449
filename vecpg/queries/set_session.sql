-- set_session: settings for the rest of this session (set_config(..., false)), given as two parallel arrays.
SELECT set_config(s.name, s.setting, false)
FROM unnest(%(names)s::text[], %(settings)s::text[]) AS s(name, setting)
