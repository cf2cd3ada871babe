-- env set --max-versions N: every secret of the environment keeps at most
-- N versions in the value store (NULL: the store's own default).
ALTER TABLE environments ADD COLUMN max_versions INT UNSIGNED NULL;
