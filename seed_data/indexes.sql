-- Step 4 of 5: single-column indexes on the filtered columns, and full-text search.
-- The expression in jobs_fts_idx is the one the backend's search query uses.
CREATE INDEX jobs_user_id_idx         ON jobs (user_id);
CREATE INDEX jobs_status_idx          ON jobs (status);
CREATE INDEX jobs_company_idx         ON jobs (company);
CREATE INDEX jobs_created_at_idx      ON jobs (created_at);
CREATE INDEX jobs_fingerprint_idx     ON jobs (job_fingerprint);
CREATE INDEX applications_user_id_idx ON applications (user_id);
CREATE INDEX applications_job_id_idx  ON applications (job_id);
CREATE INDEX activity_logs_user_id_idx ON activity_logs (user_id);
CREATE INDEX content_generations_user_job_idx ON content_generations (user_id, job_id);
CREATE INDEX scrape_tasks_user_id_idx ON scrape_tasks (user_id);
CREATE INDEX jobs_fts_idx ON jobs USING gin (to_tsvector('english', title || ' ' || coalesce(description, '')));
