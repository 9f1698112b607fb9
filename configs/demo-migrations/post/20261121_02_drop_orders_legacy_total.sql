-- Contract: only the new code runs now; the old float column can go.
ALTER TABLE orders DROP COLUMN IF EXISTS legacy_total;
