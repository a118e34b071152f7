-- The launcher's and the panel's look beyond the older appearance columns (text colour on the
-- accent, icon, label, offsets, panel size), as one JSON document: `{}` reads as the defaults.
ALTER TABLE channels ADD COLUMN look TEXT NOT NULL DEFAULT '{}';
