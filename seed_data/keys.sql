-- Step 2 of 4: primary keys, unique and foreign keys, built after the data.
ALTER TABLE users               ADD PRIMARY KEY (id);
ALTER TABLE users               ADD CONSTRAINT users_email_key UNIQUE (email);
ALTER TABLE jobs                ADD PRIMARY KEY (id);
ALTER TABLE applications        ADD PRIMARY KEY (id);
ALTER TABLE activity_logs       ADD PRIMARY KEY (id);
ALTER TABLE content_generations ADD PRIMARY KEY (id);
ALTER TABLE scrape_tasks        ADD PRIMARY KEY (id);

ALTER TABLE jobs                ADD CONSTRAINT jobs_user_fk  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE applications        ADD CONSTRAINT apps_user_fk  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE applications        ADD CONSTRAINT apps_job_fk   FOREIGN KEY (job_id)  REFERENCES jobs (id)  ON DELETE CASCADE;
ALTER TABLE activity_logs       ADD CONSTRAINT logs_user_fk  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE content_generations ADD CONSTRAINT gens_user_fk  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE content_generations ADD CONSTRAINT gens_job_fk   FOREIGN KEY (job_id)  REFERENCES jobs (id)  ON DELETE CASCADE;
ALTER TABLE scrape_tasks        ADD CONSTRAINT tasks_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
