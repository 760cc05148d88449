-- build_settings: what an index build with %(params)s gets (vecpg.build_settings), beside what this session has now.
SELECT s.name, s.setting, current_setting(s.name) FROM vecpg.build_settings(%(params)s) s
