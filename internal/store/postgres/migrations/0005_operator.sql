-- A credential can be disabled without being deleted (for key rotation and
-- incidents): a disabled credential signs nothing until it is enabled again.
ALTER TABLE credentials ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;

-- A region's groups in creation order, as DescribeSecurityGroups pages
-- through them, without sorting them all for every page.
CREATE INDEX security_groups_account ON security_groups(account_id, region, seq);
