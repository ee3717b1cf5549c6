-- 0013: the pull's reach and the cluster leads' read scope join units to
-- their cluster on every page (server/syncdb/pull.go withReach, rules.go);
-- without this index each page read every unit (EXPLAIN: SCAN u), so a
-- snapshot slowed with the number of units.
CREATE INDEX units_cluster ON units(cluster_id);
