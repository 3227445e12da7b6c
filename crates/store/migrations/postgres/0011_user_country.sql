-- The country a worker works from (ISO 3166 alpha-2), set by the worker: it picks a per-country pay floor.
ALTER TABLE users ADD COLUMN country TEXT;
