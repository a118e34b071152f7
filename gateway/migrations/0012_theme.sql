-- The panel light or dark: `auto` (the visitor's system setting), `light` or `dark`.
ALTER TABLE channels ADD COLUMN theme TEXT NOT NULL DEFAULT 'auto';
