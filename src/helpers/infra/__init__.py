"""Infrastructure under everything: where things live (paths), the cache's keys and atomic writes (cache) and
its locks (locks)."""
