-- 0015 (PostgreSQL, twin of ../0015_refresh_device.sql): every authenticated
-- request asks whether its device's session is still live (a refresh token
-- of the device not revoked), so that a logout, a password change or an
-- admin's reset ends access at once.
CREATE INDEX refresh_tokens_device ON refresh_tokens(device_id, user_id);
