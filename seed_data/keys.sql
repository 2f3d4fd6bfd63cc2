-- Step 2 of 5: the unique indexes behind the primary keys and unique constraints,
-- built after the data. Plain CREATE INDEX takes a SHARE lock, so a seed builds
-- them side by side with a table's other indexes (ALTER TABLE … ADD PRIMARY KEY
-- would lock the table exclusively); step 3 turns them into constraints.
CREATE UNIQUE INDEX users_pkey               ON users (id);
CREATE UNIQUE INDEX users_email_key          ON users (email);
CREATE UNIQUE INDEX jobs_pkey                ON jobs (id);
CREATE UNIQUE INDEX applications_pkey        ON applications (id);
CREATE UNIQUE INDEX activity_logs_pkey       ON activity_logs (id);
CREATE UNIQUE INDEX content_generations_pkey ON content_generations (id);
CREATE UNIQUE INDEX scrape_tasks_pkey        ON scrape_tasks (id);
