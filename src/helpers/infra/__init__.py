"""Infrastructure under everything: where things live (paths) and the cache's keys, atomic writes and locks."""
