-- Step 5 of 5: the audit's composite indexes. `--without-composite-indexes`
-- leaves this step out so a run can measure what they buy.
CREATE INDEX jobs_user_status_created_idx   ON jobs (user_id, status, created_at);
CREATE INDEX applications_user_status_idx   ON applications (user_id, status);
CREATE INDEX users_team_active_idx          ON users (team_id, is_active);
CREATE INDEX jobs_company_status_idx        ON jobs (company, status);
CREATE INDEX jobs_status_created_idx        ON jobs (status, created_at);
CREATE INDEX activity_logs_user_created_idx ON activity_logs (user_id, created_at);
