-- The metadata of the seed data model: users, plans, organizations and what
-- they hold.  Reached by secrets_api_user (SELECT, INSERT, UPDATE, DELETE).
--
-- Every table uses utf8mb4 with utf8mb4_unicode_ci, so that names compare
-- case-insensitively (vaultctl(7), ADDRESSING: "Acme" and "acme" are one
-- organization), and InnoDB with the DYNAMIC row format.
--
-- Foreign keys (the seed names them; the ON DELETE action is ours):
--  * containment (organization > project > environment > secret metadata,
--    and an organization's memberships, subscriptions and usage row) is
--    ON DELETE CASCADE, so that removing an organization, project or
--    environment is one statement and cannot leave orphans.  The service
--    removes the secrets' values from the value store first (the value store
--    is another account and, with Vault, another system).
--  * references to authors, owners and plans stay RESTRICT: removing a user
--    who still owns or created something, or a plan still in use, fails
--    rather than losing that history.

CREATE TABLE users (
  id              VARCHAR(36)  NOT NULL,
  email           VARCHAR(255) NOT NULL,
  -- Argon2id string (crypto_pwhash_str); '' = no password set.
  hashed_password VARCHAR(255) NOT NULL,
  first_name      VARCHAR(255),
  last_name       VARCHAR(255),
  role            VARCHAR(50)  NOT NULL,
  created_at      DATETIME     NOT NULL,
  updated_at      DATETIME     NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_users_email (email)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE plans (
  id            VARCHAR(36)   NOT NULL,
  name          VARCHAR(255)  NOT NULL,
  description   TEXT,
  price         DECIMAL(10,2) NOT NULL,
  billing_cycle VARCHAR(50)   NOT NULL,
  -- Deviation: NULL allowed, meaning unlimited (`--secrets-limit unlimited`);
  -- a magic number such as -1 or 0 would be one more rule for every reader.
  secrets_limit INT           NULL,
  features      JSON,
  created_at    DATETIME      NOT NULL,
  updated_at    DATETIME      NOT NULL,
  PRIMARY KEY (id),
  -- Plans are addressed by name (vaultctl-plan show PLAN).
  UNIQUE KEY uq_plans_name (name)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE organizations (
  id          VARCHAR(36)  NOT NULL,
  name        VARCHAR(255) NOT NULL,
  description TEXT,
  plan_id     VARCHAR(36)  NULL,
  created_at  DATETIME     NOT NULL,
  updated_at  DATETIME     NOT NULL,
  owner_id    VARCHAR(36)  NOT NULL,
  PRIMARY KEY (id),
  -- Added: organizations are addressed by name, unique globally.
  UNIQUE KEY uq_organizations_name (name),
  KEY ix_organizations_plan (plan_id),
  KEY ix_organizations_owner (owner_id),
  CONSTRAINT fk_organizations_plan FOREIGN KEY (plan_id) REFERENCES plans (id),
  CONSTRAINT fk_organizations_owner FOREIGN KEY (owner_id) REFERENCES users (id)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE projects (
  id              VARCHAR(36)  NOT NULL,
  name            VARCHAR(255) NOT NULL,
  description     TEXT,
  organization_id VARCHAR(36)  NOT NULL,
  created_at      DATETIME     NOT NULL,
  updated_at      DATETIME     NOT NULL,
  created_by      VARCHAR(36)  NOT NULL,
  PRIMARY KEY (id),
  -- Added: projects are addressed by name within their organization.
  UNIQUE KEY uq_projects_org_name (organization_id, name),
  KEY ix_projects_created_by (created_by),
  CONSTRAINT fk_projects_organization FOREIGN KEY (organization_id)
    REFERENCES organizations (id) ON DELETE CASCADE,
  CONSTRAINT fk_projects_created_by FOREIGN KEY (created_by) REFERENCES users (id)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE environments (
  id          VARCHAR(36)  NOT NULL,
  name        VARCHAR(255) NOT NULL,
  description TEXT,
  project_id  VARCHAR(36)  NOT NULL,
  created_at  DATETIME     NOT NULL,
  updated_at  DATETIME     NOT NULL,
  PRIMARY KEY (id),
  -- Added: environments are addressed by name within their project.
  UNIQUE KEY uq_environments_project_name (project_id, name),
  CONSTRAINT fk_environments_project FOREIGN KEY (project_id)
    REFERENCES projects (id) ON DELETE CASCADE
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE user_organizations (
  user_id         VARCHAR(36) NOT NULL,
  organization_id VARCHAR(36) NOT NULL,
  role            VARCHAR(50) NOT NULL,
  created_at      DATETIME    NOT NULL,
  updated_at      DATETIME    NOT NULL,
  PRIMARY KEY (user_id, organization_id),
  -- Added: "members of ORG" is the common question, not "orgs of user".
  KEY ix_user_organizations_org (organization_id),
  CONSTRAINT fk_user_organizations_user FOREIGN KEY (user_id)
    REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT fk_user_organizations_org FOREIGN KEY (organization_id)
    REFERENCES organizations (id) ON DELETE CASCADE
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE secret_metadata (
  id              VARCHAR(36)  NOT NULL,
  name            VARCHAR(255) NOT NULL,
  description     TEXT,
  organization_id VARCHAR(36)  NOT NULL,
  project_id      VARCHAR(36)  NOT NULL,
  -- Holds the environment's id (the seed's name for the column is kept).
  environment     VARCHAR(36)  NOT NULL,
  created_by      VARCHAR(36)  NOT NULL,
  created_at      DATETIME     NOT NULL,
  updated_at      DATETIME     NOT NULL,
  -- Follows the value store's own version (check-and-set on every write).
  version         INT          NOT NULL DEFAULT 1,
  -- Added: soft delete (`vaultctl-secret rm` hides, `restore` brings back,
  -- as KV v2 does with its versions); NULL = live.
  deleted_at      DATETIME     NULL,
  PRIMARY KEY (id),
  -- Added: a secret is addressed by name within its environment; the _ci
  -- collation makes DB_URL and db_url the same secret.
  UNIQUE KEY uq_secret_metadata_env_name (project_id, environment, name),
  -- Added: counting an organization's live secrets for the quota.
  KEY ix_secret_metadata_org_deleted (organization_id, deleted_at),
  KEY ix_secret_metadata_environment (environment),
  KEY ix_secret_metadata_created_by (created_by),
  CONSTRAINT fk_secret_metadata_org FOREIGN KEY (organization_id)
    REFERENCES organizations (id) ON DELETE CASCADE,
  CONSTRAINT fk_secret_metadata_project FOREIGN KEY (project_id)
    REFERENCES projects (id) ON DELETE CASCADE,
  -- Added: the seed's environment column had no foreign key; it holds an id.
  CONSTRAINT fk_secret_metadata_environment FOREIGN KEY (environment)
    REFERENCES environments (id) ON DELETE CASCADE,
  CONSTRAINT fk_secret_metadata_created_by FOREIGN KEY (created_by)
    REFERENCES users (id)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE subscriptions (
  id              VARCHAR(36) NOT NULL,
  organization_id VARCHAR(36) NOT NULL,
  plan_id         VARCHAR(36) NOT NULL,
  status          VARCHAR(50) NOT NULL,
  -- Deviation: NULL allowed, meaning unlimited (as plans.secrets_limit).
  secrets_limit   INT         NULL,
  start_date      DATETIME    NOT NULL,
  -- Deviation: NULL allowed, meaning open-ended (no --end given).
  end_date        DATETIME    NULL,
  created_at      DATETIME    NOT NULL,
  updated_at      DATETIME    NOT NULL,
  -- Added: the organization's quota lock.  A create takes it by bumping
  -- this counter (a write), not by SELECT ... FOR UPDATE: on a Galera
  -- cluster read locks are local to one node, while a written row makes one
  -- of two concurrent creates fail certification (doc/architecture.md,
  -- sections 4 and 7).
  write_seq       BIGINT      NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  -- Added: "the organization's active subscription".
  KEY ix_subscriptions_org_status (organization_id, status),
  -- Added: `vaultctl-plan expire` finds active subscriptions past end_date.
  KEY ix_subscriptions_status_end (status, end_date),
  KEY ix_subscriptions_plan (plan_id),
  CONSTRAINT fk_subscriptions_org FOREIGN KEY (organization_id)
    REFERENCES organizations (id) ON DELETE CASCADE,
  CONSTRAINT fk_subscriptions_plan FOREIGN KEY (plan_id) REFERENCES plans (id)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE usage_statistics (
  id              VARCHAR(36) NOT NULL,
  organization_id VARCHAR(36) NOT NULL,
  -- INT as in the seed (2^31 - 1 calls before a recompute resets it).
  secret_count    INT         NOT NULL DEFAULT 0,
  api_calls       INT         NOT NULL DEFAULT 0,
  last_updated    DATETIME    NOT NULL,
  PRIMARY KEY (id),
  -- Added: one row per organization, so that bumping it is an upsert.
  UNIQUE KEY uq_usage_statistics_org (organization_id),
  CONSTRAINT fk_usage_statistics_org FOREIGN KEY (organization_id)
    REFERENCES organizations (id) ON DELETE CASCADE
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
