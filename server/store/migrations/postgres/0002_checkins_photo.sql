-- 0002 (PostgreSQL, twin of ../0002_checkins_photo.sql): find the check-ins naming an attachment by its hash. Reading an
-- attachment (GET /api/v1/attachments/{sha256}) asks whether the caller may
-- read a check-in whose photo it is; without this index every download
-- would scan all check-ins.
CREATE INDEX checkins_photo ON checkins(photo);
