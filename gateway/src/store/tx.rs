//! One transaction, whichever connection runs it: a sqlx connection (PostgreSQL, and SQLite
//! outside the writer), or the SQLite writer's own connection, whose statements run on the
//! writer's thread. The appends and the outbox are written once, against [`Tx`].
//!
//! Why a second driver for one connection: sqlx runs each SQLite connection on a worker thread,
//! so every statement is a round trip between threads (two wake-ups). An append is a handful of
//! statements of a few microseconds each; the round trips made it about 130 µs, and the writer,
//! which runs every append one after the other, topped out near 7,000 a second with nothing
//! else running. On the writer's thread the statements cost what SQLite takes to run them.

use rusqlite::types::{Value, ValueRef};
use sqlx::any::AnyRow;
use std::sync::Arc;

use crate::error::{Error, Result};

/// A transaction in progress.
pub(super) enum Tx<'c> {
    /// A sqlx connection: a transaction's (it derefs to one), or a pooled connection's.
    Sqlx(&'c mut sqlx::AnyConnection),
    /// The writer's connection, inside the transaction the writer began (held `mut` only so
    /// that `Tx` is `Send`: a connection is not `Sync`).
    Local(&'c mut rusqlite::Connection),
}

/// A statement's parameter: `$1` is the first.
#[derive(Debug, Clone, Copy)]
pub(super) enum Arg<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(value: &'a str) -> Self {
        Self::Text(Some(value))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(value: &'a String) -> Self {
        Self::Text(Some(value))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(value: Option<&'a str>) -> Self {
        Self::Text(value)
    }
}

impl From<i64> for Arg<'_> {
    fn from(value: i64) -> Self {
        Self::Int(Some(value))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(value: Option<i64>) -> Self {
        Self::Int(value)
    }
}

/// A row either driver returned.
pub(super) enum Row {
    Any(AnyRow),
    Local(LocalRow),
}

/// A row of the writer's connection, owned (rusqlite's rows borrow their statement).
pub(super) struct LocalRow {
    names: Arc<[String]>,
    values: Vec<Value>,
}

/// Reading a row's columns by name, whichever driver returned it.
pub(super) trait Columns {
    fn opt_str(&self, name: &str) -> Result<Option<String>>;
    fn opt_i64(&self, name: &str) -> Result<Option<i64>>;
}

impl Columns for AnyRow {
    fn opt_str(&self, name: &str) -> Result<Option<String>> {
        use sqlx::Row as _;
        Ok(self.try_get::<Option<String>, _>(name)?)
    }

    fn opt_i64(&self, name: &str) -> Result<Option<i64>> {
        use sqlx::Row as _;
        Ok(self.try_get::<Option<i64>, _>(name)?)
    }
}

impl LocalRow {
    fn value(&self, name: &str) -> Result<&Value> {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| Error::Internal(format!("no column {name}")))
    }
}

impl Columns for LocalRow {
    fn opt_str(&self, name: &str) -> Result<Option<String>> {
        match self.value(name)? {
            Value::Null => Ok(None),
            Value::Text(text) => Ok(Some(text.clone())),
            other => Err(Error::Internal(format!(
                "column {name}: {:?}, not text",
                other.data_type()
            ))),
        }
    }

    fn opt_i64(&self, name: &str) -> Result<Option<i64>> {
        match self.value(name)? {
            Value::Null => Ok(None),
            Value::Integer(int) => Ok(Some(*int)),
            other => Err(Error::Internal(format!(
                "column {name}: {:?}, not an integer",
                other.data_type()
            ))),
        }
    }
}

impl Columns for Row {
    fn opt_str(&self, name: &str) -> Result<Option<String>> {
        match self {
            Self::Any(row) => row.opt_str(name),
            Self::Local(row) => row.opt_str(name),
        }
    }

    fn opt_i64(&self, name: &str) -> Result<Option<i64>> {
        match self {
            Self::Any(row) => row.opt_i64(name),
            Self::Local(row) => row.opt_i64(name),
        }
    }
}

impl<'c> Tx<'c> {
    /// Runs a statement; the number of rows it changed.
    pub async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        match self {
            Self::Sqlx(conn) => Ok(sqlx_query(sql, args)
                .execute(&mut **conn)
                .await?
                .rows_affected()),
            Self::Local(conn) => {
                let mut statement = local_statement(conn, sql, args)?;
                Ok(statement.raw_execute()? as u64)
            }
        }
    }

    /// The statement's first row, if any.
    pub async fn fetch_optional(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Option<Row>> {
        match self {
            Self::Sqlx(conn) => Ok(sqlx_query(sql, args)
                .fetch_optional(&mut **conn)
                .await?
                .map(Row::Any)),
            Self::Local(conn) => Ok(local_rows(conn, sql, args, Some(1))?.pop()),
        }
    }

    /// The statement's one row: none is an error.
    pub async fn fetch_one(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Row> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or_else(|| Error::Internal("the statement returned no row".into()))
    }

    /// Every row of the statement.
    pub async fn fetch_all(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>> {
        match self {
            Self::Sqlx(conn) => Ok(sqlx_query(sql, args)
                .fetch_all(&mut **conn)
                .await?
                .into_iter()
                .map(Row::Any)
                .collect()),
            Self::Local(conn) => local_rows(conn, sql, args, None),
        }
    }
}

fn sqlx_query<'q>(
    sql: &'q str,
    args: &[Arg<'q>],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    args.iter().fold(sqlx::query(sql), |query, arg| match *arg {
        Arg::Text(text) => query.bind(text),
        Arg::Int(int) => query.bind(int),
    })
}

/// The statement, prepared once per connection, with its parameters bound by their `$n` names
/// (SQLite numbers named parameters by first appearance, not by `n`).
fn local_statement<'c>(
    conn: &'c rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<rusqlite::CachedStatement<'c>> {
    let mut statement = conn.prepare_cached(sql)?;
    for (i, arg) in args.iter().enumerate() {
        let Some(index) = statement.parameter_index(&format!("${}", i + 1))? else {
            continue;
        };
        match *arg {
            Arg::Text(text) => statement.raw_bind_parameter(index, text)?,
            Arg::Int(int) => statement.raw_bind_parameter(index, int)?,
        }
    }
    Ok(statement)
}

fn local_rows(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
    limit: Option<usize>,
) -> Result<Vec<Row>> {
    let mut statement = local_statement(conn, sql, args)?;
    let names: Arc<[String]> = statement
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut rows = statement.raw_query();
    let mut read = Vec::new();
    while let Some(row) = rows.next()? {
        let values = (0..names.len())
            .map(|i| row.get_ref(i).map(ValueRef::into))
            .collect::<rusqlite::Result<Vec<Value>>>()?;
        read.push(Row::Local(LocalRow {
            names: names.clone(),
            values,
        }));
        if limit.is_some_and(|limit| read.len() >= limit) {
            break;
        }
    }
    Ok(read)
}
