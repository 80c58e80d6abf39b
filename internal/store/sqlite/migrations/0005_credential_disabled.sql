-- A credential can be disabled without being deleted (for key rotation and
-- incidents): a disabled credential signs nothing until it is enabled again.
ALTER TABLE credentials ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
