-- 0003 (PostgreSQL, twin of ../0003_scope_indexes.sql): indexes for pull. A device's pull walks "its owner's rows changed
-- after the cursor"; (owner, seq) answers that without scanning every
-- change since the cursor. findings by department serve a department's pull.
CREATE INDEX trips_user_seq ON trips(user_id, seq);
CREATE INDEX trip_days_user_seq ON trip_days(user_id, seq);
CREATE INDEX checkins_user_seq ON checkins(user_id, seq);
CREATE INDEX visit_notes_author_seq ON visit_notes(author_id, seq);
CREATE INDEX findings_author_seq ON findings(author_id, seq);
CREATE INDEX findings_department_seq ON findings(department_id, seq);
CREATE INDEX follow_ups_author_seq ON follow_ups(author_id, seq);
