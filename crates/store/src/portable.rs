//! Transactions written once for both backends, as plain synchronous code.
//!
//! The hot path (claims, submissions, imports) has hand-tuned code per backend. Everything else (quality,
//! review, the ledger, terms) is business logic that must behave identically on SQLite and PostgreSQL and is
//! not worth writing twice. So it is written once against [`Tx`]: a transaction that runs SQL with `$N`
//! placeholders and returns dynamically typed rows. On SQLite the closure runs on the writer thread inside the
//! group commit (or on a read connection); on PostgreSQL it runs on a blocking thread that drives one
//! transaction. Returning `Err` rolls the whole closure back on both.
//!
//! Rules for SQL written here: `$1..$N` placeholders (any order); integer sums wrapped in
//! `CAST(... AS BIGINT)` (PostgreSQL sums `BIGINT` into `NUMERIC`); row locks via [`Tx::for_update`].

use std::any::Any;
use std::cell::RefCell;

use crate::{Store, StoreError, StoreResult};

/// A bound parameter. Nulls carry their type because PostgreSQL types every parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// An integer (or null integer).
    Int(Option<i64>),
    /// A floating-point number (or null).
    Real(Option<f64>),
    /// Text (or null text).
    Text(Option<String>),
}

impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(Some(v))
    }
}
impl From<Option<i64>> for Param {
    fn from(v: Option<i64>) -> Self {
        Param::Int(v)
    }
}
impl From<f64> for Param {
    fn from(v: f64) -> Self {
        Param::Real(Some(v))
    }
}
impl From<Option<f64>> for Param {
    fn from(v: Option<f64>) -> Self {
        Param::Real(v)
    }
}
impl From<bool> for Param {
    fn from(v: bool) -> Self {
        Param::Int(Some(v as i64))
    }
}
impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(Some(v.to_string()))
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(Some(v))
    }
}
impl From<&String> for Param {
    fn from(v: &String) -> Self {
        Param::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Param {
    fn from(v: Option<String>) -> Self {
        Param::Text(v)
    }
}
impl From<Option<&str>> for Param {
    fn from(v: Option<&str>) -> Self {
        Param::Text(v.map(str::to_string))
    }
}

/// Builds a `&[Param]` from values of mixed types: `params![org, "text", Some(3_i64)]`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$($crate::portable::Param::from($v)),*][..] };
}

/// One value read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// An integer (booleans read as 0/1 on both backends).
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(String),
}

/// A row read back: typed getters that fail with the column index rather than panic.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Cell>);

fn decode_error(i: usize, want: &str, got: &Cell) -> StoreError {
    StoreError::Sqlite(format!("column {i}: expected {want}, found {got:?}"))
}

impl Row {
    fn cell(&self, i: usize) -> StoreResult<&Cell> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::Sqlite(format!("column {i} is out of range")))
    }
    /// An integer column.
    pub fn i64(&self, i: usize) -> StoreResult<i64> {
        self.opt_i64(i)?
            .ok_or_else(|| decode_error(i, "integer", &Cell::Null))
    }
    /// A nullable integer column.
    pub fn opt_i64(&self, i: usize) -> StoreResult<Option<i64>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Int(v) => Ok(Some(*v)),
            other => Err(decode_error(i, "integer", other)),
        }
    }
    /// A number column (integers widen).
    pub fn f64(&self, i: usize) -> StoreResult<f64> {
        self.opt_f64(i)?
            .ok_or_else(|| decode_error(i, "number", &Cell::Null))
    }
    /// A nullable number column.
    pub fn opt_f64(&self, i: usize) -> StoreResult<Option<f64>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Int(v) => Ok(Some(*v as f64)),
            Cell::Real(v) => Ok(Some(*v)),
            other => Err(decode_error(i, "number", other)),
        }
    }
    /// A text column.
    pub fn string(&self, i: usize) -> StoreResult<String> {
        self.opt_string(i)?
            .ok_or_else(|| decode_error(i, "text", &Cell::Null))
    }
    /// A nullable text column.
    pub fn opt_string(&self, i: usize) -> StoreResult<Option<String>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Text(v) => Ok(Some(v.clone())),
            other => Err(decode_error(i, "text", other)),
        }
    }
    /// A 0/1 integer column as a boolean.
    pub fn bool(&self, i: usize) -> StoreResult<bool> {
        Ok(self.i64(i)? != 0)
    }
}

/// Which database a [`Tx`] talks to, for the few places where the SQL must differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded store.
    Sqlite,
    /// The scale-out store.
    Postgres,
}

/// A transaction in progress. Every statement of one closure runs in it; an `Err` from the closure undoes it.
pub trait Tx {
    /// Which backend this is.
    fn backend(&self) -> Backend;
    /// Runs a statement; answers how many rows it changed.
    fn execute(&self, sql: &str, params: &[Param]) -> StoreResult<u64>;
    /// Runs a query; answers every row.
    fn query(&self, sql: &str, params: &[Param]) -> StoreResult<Vec<Row>>;

    /// The first row, if any.
    fn query_opt(&self, sql: &str, params: &[Param]) -> StoreResult<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
    /// Exactly one row (`NotFound` when there is none).
    fn query_one(&self, sql: &str, params: &[Param]) -> StoreResult<Row> {
        self.query_opt(sql, params)?.ok_or(StoreError::NotFound)
    }
    /// The clause that locks rows read by a `SELECT` until the end of the transaction: PostgreSQL runs
    /// transactions in parallel and needs it; SQLite's single writer does not (and has no such syntax).
    fn for_update(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }
}

impl Tx for rusqlite::Connection {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn execute(&self, sql: &str, params: &[Param]) -> StoreResult<u64> {
        let mut stmt = self.prepare_cached(&numbered(sql)).map_err(sqlite_error)?;
        bind_sqlite(&mut stmt, params)?;
        stmt.raw_execute().map(|n| n as u64).map_err(sqlite_error)
    }

    fn query(&self, sql: &str, params: &[Param]) -> StoreResult<Vec<Row>> {
        let mut stmt = self.prepare_cached(&numbered(sql)).map_err(sqlite_error)?;
        bind_sqlite(&mut stmt, params)?;
        let width = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sqlite_error)? {
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                use rusqlite::types::ValueRef;
                cells.push(match row.get_ref(i).map_err(sqlite_error)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(v) => Cell::Int(v),
                    ValueRef::Real(v) => Cell::Real(v),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Cell::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            out.push(Row(cells));
        }
        Ok(out)
    }
}

/// `$3` → `?3`. SQLite reads `$3` as a *named* parameter and numbers named parameters in order of first
/// appearance, so `... $2 ... $1` would bind backwards; `?3` is always the third. (Not applied inside quotes:
/// portable SQL passes values as parameters, never as literals containing `$`.)
fn numbered(sql: &str) -> std::borrow::Cow<'_, str> {
    let bytes = sql.as_bytes();
    if !bytes
        .windows(2)
        .any(|w| w[0] == b'$' && w[1].is_ascii_digit())
    {
        return std::borrow::Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn sqlite_error(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e.to_string())
}

fn bind_sqlite(stmt: &mut rusqlite::CachedStatement<'_>, params: &[Param]) -> StoreResult<()> {
    let expected = stmt.parameter_count();
    if expected != params.len() {
        return Err(StoreError::Sqlite(format!(
            "statement takes {expected} parameters, {} given",
            params.len()
        )));
    }
    for (i, p) in params.iter().enumerate() {
        let r = match p {
            Param::Int(v) => stmt.raw_bind_parameter(i + 1, v),
            Param::Real(v) => stmt.raw_bind_parameter(i + 1, v),
            Param::Text(v) => stmt.raw_bind_parameter(i + 1, v),
        };
        r.map_err(sqlite_error)?;
    }
    Ok(())
}

/// A PostgreSQL transaction driven from a blocking thread.
pub(crate) struct PgTx<'c> {
    pub(crate) conn: RefCell<&'c mut sqlx::PgConnection>,
    pub(crate) handle: tokio::runtime::Handle,
}

fn bind_pg<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    params: &[Param],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    for p in params {
        q = match p.clone() {
            Param::Int(v) => q.bind(v),
            Param::Real(v) => q.bind(v),
            Param::Text(v) => q.bind(v),
        };
    }
    q
}

fn pg_row(row: &sqlx::postgres::PgRow) -> StoreResult<Row> {
    use sqlx::{Column, Row as _, TypeInfo, ValueRef};
    let mut cells = Vec::with_capacity(row.columns().len());
    for (i, col) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i)?;
        if raw.is_null() {
            cells.push(Cell::Null);
            continue;
        }
        let cell = match col.type_info().name() {
            "INT8" => Cell::Int(row.try_get::<i64, _>(i)?),
            "INT4" => Cell::Int(row.try_get::<i32, _>(i)?.into()),
            "INT2" => Cell::Int(row.try_get::<i16, _>(i)?.into()),
            "BOOL" => Cell::Int(row.try_get::<bool, _>(i)?.into()),
            "FLOAT8" => Cell::Real(row.try_get::<f64, _>(i)?),
            "FLOAT4" => Cell::Real(row.try_get::<f32, _>(i)?.into()),
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => Cell::Text(row.try_get::<String, _>(i)?),
            other => {
                return Err(StoreError::Sqlite(format!(
                    "column {} has type {other}, which portable SQL does not read: CAST it to BIGINT, \
                     DOUBLE PRECISION or TEXT",
                    col.name()
                )));
            }
        };
        cells.push(cell);
    }
    Ok(Row(cells))
}

impl Tx for PgTx<'_> {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn execute(&self, sql: &str, params: &[Param]) -> StoreResult<u64> {
        let mut conn = self.conn.borrow_mut();
        let q = bind_pg(sqlx::query(sqlx::AssertSqlSafe(sql.to_string())), params);
        let done = self.handle.block_on(q.execute(&mut **conn))?;
        Ok(done.rows_affected())
    }

    fn query(&self, sql: &str, params: &[Param]) -> StoreResult<Vec<Row>> {
        let mut conn = self.conn.borrow_mut();
        let q = bind_pg(sqlx::query(sqlx::AssertSqlSafe(sql.to_string())), params);
        let rows = self.handle.block_on(q.fetch_all(&mut **conn))?;
        rows.iter().map(pg_row).collect()
    }
}

/// A type-erased portable operation, as the object-safe [`Store`] methods take it.
pub type PortableOp = Box<dyn FnOnce(&dyn Tx) -> StoreResult<Box<dyn Any + Send>> + Send>;

/// Typed entry points over the object-safe [`Store::portable_write`] / [`Store::portable_read`].
impl dyn Store + '_ {
    /// Runs `op` in a write transaction; committed (and durable) when it returns `Ok`, undone on `Err`.
    pub async fn write_tx<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Tx) -> StoreResult<T> + Send + 'static,
    {
        let boxed: PortableOp =
            Box::new(move |tx| op(tx).map(|v| Box::new(v) as Box<dyn Any + Send>));
        downcast(self.portable_write(boxed).await?)
    }

    /// Runs `op` on a read connection (it may not write).
    pub async fn read_tx<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Tx) -> StoreResult<T> + Send + 'static,
    {
        let boxed: PortableOp =
            Box::new(move |tx| op(tx).map(|v| Box::new(v) as Box<dyn Any + Send>));
        downcast(self.portable_read(boxed).await?)
    }
}

fn downcast<T: 'static>(v: Box<dyn Any + Send>) -> StoreResult<T> {
    v.downcast::<T>()
        .map(|b| *b)
        .map_err(|_| StoreError::Sqlite("portable operation returned an unexpected type".into()))
}
