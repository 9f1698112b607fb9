-- Expand: the new code writes orders.total_cents; the old code ignores it.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS total_cents bigint NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS orders_total_cents ON orders (total_cents);
