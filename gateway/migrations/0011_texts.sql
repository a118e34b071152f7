-- What a channel's widget says instead of its own texts (widget/locales), by language:
-- JSON {language: {key: text or {plural category: text}}}.
ALTER TABLE channels ADD COLUMN texts TEXT NOT NULL DEFAULT '{}';
