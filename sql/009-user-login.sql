-- Added: the operating-system login a user is bound to.  On a shared host
-- the tools run setgid and the caller is identified by the login that runs
-- them (its real uid), not by a flag: `vaultctl-org user add|set EMAIL
-- --login NAME` binds one, `--no-login` unbinds it.  At most one user per
-- login, hence the unique key (NULLs, the unbound users, do not collide).
-- A login name, as useradd accepts it: at most 32 bytes; 64 for NSS
-- sources that allow longer ones.
ALTER TABLE users
  ADD COLUMN login VARCHAR(64) NULL AFTER email,
  ADD UNIQUE KEY uq_users_login (login);
