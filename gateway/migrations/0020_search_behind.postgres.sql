-- Nothing changes on PostgreSQL: its search column is computed in each append's own
-- transaction, which runs beside the others (no single writer waits on it), and its GIN index
-- already defers the index's work to its pending list.
SELECT 1;
