-- add the total column; old code ignores it
ALTER TABLE orders ADD COLUMN total numeric;
UPDATE orders SET total = legacy_total WHERE total IS NULL; /* backfill /* nested */ */
COMMENT ON COLUMN orders.total IS 'DROP is only a word ''here''';
