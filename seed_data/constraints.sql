-- Step 3 of 5: constraints. Primary keys and unique constraints adopt the
-- indexes of step 2 (instant). Foreign keys are added NOT VALID (instant) and
-- then validated by seed_data.schema.validations: validation takes only a SHARE
-- UPDATE EXCLUSIVE lock on its table, so a seed validates different tables'
-- foreign keys in parallel.
ALTER TABLE users               ADD CONSTRAINT users_pkey               PRIMARY KEY USING INDEX users_pkey;
ALTER TABLE users               ADD CONSTRAINT users_email_key          UNIQUE USING INDEX users_email_key;
ALTER TABLE jobs                ADD CONSTRAINT jobs_pkey                PRIMARY KEY USING INDEX jobs_pkey;
ALTER TABLE applications        ADD CONSTRAINT applications_pkey        PRIMARY KEY USING INDEX applications_pkey;
ALTER TABLE activity_logs       ADD CONSTRAINT activity_logs_pkey       PRIMARY KEY USING INDEX activity_logs_pkey;
ALTER TABLE content_generations ADD CONSTRAINT content_generations_pkey PRIMARY KEY USING INDEX content_generations_pkey;
ALTER TABLE scrape_tasks        ADD CONSTRAINT scrape_tasks_pkey        PRIMARY KEY USING INDEX scrape_tasks_pkey;

ALTER TABLE jobs                ADD CONSTRAINT jobs_user_fk  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE NOT VALID;
ALTER TABLE applications        ADD CONSTRAINT apps_user_fk  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE NOT VALID;
ALTER TABLE applications        ADD CONSTRAINT apps_job_fk   FOREIGN KEY (job_id)  REFERENCES jobs (id)  ON DELETE CASCADE NOT VALID;
ALTER TABLE activity_logs       ADD CONSTRAINT logs_user_fk  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE NOT VALID;
ALTER TABLE content_generations ADD CONSTRAINT gens_user_fk  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE NOT VALID;
ALTER TABLE content_generations ADD CONSTRAINT gens_job_fk   FOREIGN KEY (job_id)  REFERENCES jobs (id)  ON DELETE CASCADE NOT VALID;
ALTER TABLE scrape_tasks        ADD CONSTRAINT tasks_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE NOT VALID;
