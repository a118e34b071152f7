//! The history of conversations: every conversation, closed ones included, newest first,
//! narrowed by filters and found by words. One query for both stores; only how a message's
//! words are matched differs: SQLite's FTS5 index (`message_search`, unicode61) or
//! PostgreSQL's `tsvector` column with its GIN index (`simple`), both matching each word as the
//! start of a word. A contact matches by its name, email, phone or customer id containing the
//! search.

use protocol::{ConversationStatus, HistoryItem, MatchedLine};

use super::conversations::{summary_fields, summary_from_row};
use super::{col_i64, col_opt_i64, col_opt_name, col_opt_str, Store};
use crate::error::Result;

/// Which conversations the history lists.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    /// Words of its messages, or a part of its contact's name, email, phone or customer id.
    pub search: Option<String>,
    pub channel_id: Option<String>,
    /// Only this channel's, by key (a join link's login sees its one channel).
    pub channel_key: Option<String>,
    pub queue_id: Option<String>,
    /// Only those this agent had (or has).
    pub agent_id: Option<String>,
    pub status: Option<ConversationStatus>,
    pub rating: Option<RatingFilter>,
    /// Created at or after.
    pub from_ms: Option<i64>,
    /// Created before.
    pub to_ms: Option<i64>,
    /// Only those whose contact has this label.
    pub label: Option<String>,
    /// Older than this `(created_at, id)`: the previous page's last.
    pub before: Option<(i64, String)>,
    pub limit: i64,
}

/// How the conversations were rated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatingFilter {
    Score(u8),
    Unrated,
}

/// A statement's parameter, owned.
enum Param {
    Text(String),
    Int(i64),
}

/// A statement being written with its parameters, `$1` on.
#[derive(Default)]
struct Statement {
    conditions: Vec<String>,
    params: Vec<Param>,
}

impl Statement {
    /// `$n` for a new parameter.
    fn param(&mut self, value: Param) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }

    fn text(&mut self, value: &str) -> String {
        self.param(Param::Text(value.to_owned()))
    }

    fn int(&mut self, value: i64) -> String {
        self.param(Param::Int(value))
    }
}

/// `%text%` for LIKE, its own `%`, `_` and `\` taken literally.
fn containing(text: &str) -> String {
    format!("%{}%", super::like_literal(text))
}

impl Store {
    pub async fn history(&self, filter: &HistoryFilter) -> Result<Vec<(i64, HistoryItem)>> {
        let mut st = Statement::default();
        // The first matching message of each conversation, and its line, when words are searched.
        let mut hits = String::new();
        if let Some(search) = filter.search.as_deref() {
            self.index_messages().await?;
            let words = protocol::search_words(search);
            let matched = if words.is_empty() {
                "FALSE"
            } else {
                // Each word as the start of a word, all of them.
                let (prefixed, all): (fn(&String) -> String, &str) = if self.is_sqlite {
                    (|w| format!("\"{w}\"*"), " AND ")
                } else {
                    (|w| format!("{w}:*"), " & ")
                };
                let query = words.iter().map(prefixed).collect::<Vec<_>>().join(all);
                let p = st.text(&query);
                let matching = if self.is_sqlite {
                    format!(
                        "message_search s JOIN messages m ON m.rowid = s.rowid \
                         WHERE message_search MATCH {p}"
                    )
                } else {
                    format!("messages m WHERE m.search @@ to_tsquery('simple', {p})")
                };
                hits = format!(
                    "LEFT JOIN (SELECT m.conversation_id, MIN(m.seq) AS seq FROM {matching} \
                     GROUP BY m.conversation_id) h ON h.conversation_id = c.id \
                     LEFT JOIN messages hm ON hm.conversation_id = h.conversation_id AND hm.seq = h.seq"
                );
                "h.conversation_id IS NOT NULL"
            };
            let like = st.text(&containing(&search.trim().to_lowercase()));
            let contact = [
                "ct.email",
                "ct.name",
                "ct.first_name",
                "ct.last_name",
                "ct.phone",
                "ct.external_id",
            ]
            .iter()
            .map(|column| format!("lower({column}) LIKE {like} ESCAPE '\\'"))
            .collect::<Vec<_>>()
            .join(" OR ");
            st.conditions.push(format!("({matched} OR {contact})"));
        }
        for (column, value) in [
            ("c.channel_id", &filter.channel_id),
            ("ch.channel_key", &filter.channel_key),
            ("c.queue_id", &filter.queue_id),
            ("c.assigned_agent_id", &filter.agent_id),
        ] {
            if let Some(value) = value {
                let p = st.text(value);
                st.conditions.push(format!("{column} = {p}"));
            }
        }
        if let Some(status) = filter.status {
            let p = st.text(status.as_str());
            st.conditions.push(format!("c.status = {p}"));
        }
        match filter.rating {
            Some(RatingFilter::Score(score)) => {
                let p = st.int(i64::from(score));
                st.conditions.push(format!("c.rating_score = {p}"));
            }
            Some(RatingFilter::Unrated) => st.conditions.push("c.rating_score IS NULL".into()),
            None => {}
        }
        if let Some(from) = filter.from_ms {
            let p = st.int(from);
            st.conditions.push(format!("c.created_at >= {p}"));
        }
        if let Some(to) = filter.to_ms {
            let p = st.int(to);
            st.conditions.push(format!("c.created_at < {p}"));
        }
        if let Some(label) = &filter.label {
            let p = st.text(label);
            st.conditions.push(format!(
                "EXISTS (SELECT 1 FROM contact_labels l WHERE l.contact_id = c.contact_id \
                 AND l.label = {p})"
            ));
        }
        if let Some((at, id)) = &filter.before {
            let (at, id) = (st.int(*at), st.text(id));
            st.conditions.push(format!(
                "(c.created_at < {at} OR (c.created_at = {at} AND c.id < {id}))"
            ));
        }
        let limit = st.int(filter.limit);
        let matched_columns = if hits.is_empty() {
            "NULL AS hit_seq, NULL AS hit_author, NULL AS hit_text, NULL AS hit_at"
        } else {
            "hm.seq AS hit_seq, hm.author_kind AS hit_author, hm.body AS hit_text, \
             hm.sent_at AS hit_at"
        };
        let conditions = match st.conditions.is_empty() {
            true => String::new(),
            false => format!("WHERE {}", st.conditions.join(" AND ")),
        };
        let sql = format!(
            "SELECT {fields}, ct.name AS given_name, ct.first_name, ct.last_name, \
             ct.email AS contact_email, {matched_columns} \
             FROM conversations c JOIN channels ch ON ch.id = c.channel_id \
             LEFT JOIN contacts ct ON ct.id = c.contact_id {hits} {conditions} \
             ORDER BY c.created_at DESC, c.id DESC LIMIT {limit}",
            fields = summary_fields!()
        );
        let mut query = sqlx::query(&sql);
        for param in st.params {
            query = match param {
                Param::Text(text) => query.bind(text),
                Param::Int(n) => query.bind(n),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let name = protocol::person_name(
                    col_opt_str(row, "first_name")?.as_deref(),
                    col_opt_str(row, "last_name")?.as_deref(),
                    col_opt_str(row, "given_name")?.as_deref(),
                );
                let matched = match (
                    col_opt_i64(row, "hit_seq")?,
                    col_opt_name(row, "hit_author")?,
                ) {
                    (Some(seq), Some(author)) => Some(MatchedLine {
                        seq,
                        author,
                        text: col_opt_str(row, "hit_text")?.unwrap_or_default(),
                        sent_at_ms: col_opt_i64(row, "hit_at")?.unwrap_or_default(),
                    }),
                    _ => None,
                };
                Ok((
                    col_i64(row, "created_at")?,
                    HistoryItem {
                        conversation: summary_from_row(row)?,
                        contact_name: name,
                        contact_email: col_opt_str(row, "contact_email")?,
                        matched,
                    },
                ))
            })
            .collect()
    }
}
