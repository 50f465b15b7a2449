//! One SQL text for both backends.
//!
//! The store's queries are written once, in the SQL that SQLite and PostgreSQL share, and run
//! through sqlx's `Any` driver: the backend is chosen by the database URL at start. (A
//! request's reads on PostgreSQL run the same text on the PostgreSQL driver itself, which
//! decodes their rows without first copying them: [`super::sql::Reads`].) What
//! differs is kept here and in the backends' own modules ([`super::sqlite`],
//! [`super::postgres`]): how a writing transaction takes the write lock, connection set-up,
//! migrations, and file care that only an embedded database has.
//!
//! Queries are written with `?` placeholders. [`numbered`] turns them into `$1, $2, …`, which
//! PostgreSQL requires and SQLite reads by their number, so a query means the same on both.

use sqlx::any::{Any, AnyArguments};
use sqlx::query::{Query, QueryAs, QueryScalar};

pub(crate) type Tx<'a> = sqlx::Transaction<'a, Any>;
pub(crate) type Row = sqlx::any::AnyRow;

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend of a live connection (sqlx names it).
    pub(crate) fn of(conn: &sqlx::AnyConnection) -> Self {
        if conn.backend_name().eq_ignore_ascii_case("PostgreSQL") {
            Self::Postgres
        } else {
            Self::Sqlite
        }
    }
}

/// The key of the advisory lock that stands for SQLite's single writer on PostgreSQL (an
/// arbitrary constant: "bisik" in ASCII).
pub(crate) const WRITE_LOCK: i64 = 0x0062_6973_696b;

/// An SQL expression for 32 random hexadecimal digits from the database's strong generator
/// (SQLite's `randomblob`; PostgreSQL's `gen_random_uuid`, 122 random bits, from version 13).
pub(crate) fn random_hex(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "lower(hex(randomblob(16)))",
        Backend::Postgres => "replace(gen_random_uuid()::text, '-', '')",
    }
}

/// SQLite: a statement that returns the rows of `rows` (a `SELECT` of the columns `names`) as
/// one value, the text of a JSON array of objects keyed by those names, in `order` (an
/// `ORDER BY` over the same columns), `[]` when there are none.
///
/// Why: a page of case summaries is 50 rows of 16 columns, and sqlx copies each value three
/// times (SQLite's `sqlite3_value_dup`, the `Any` row, the decoded `String`), with a column
/// list per row and a hand-over between threads per row; that was a quarter of the server's
/// CPU in a member's list, and the page as one value takes a fifth off a list's CPU. Not on
/// PostgreSQL: there the rows cost little to read, and building the JSON cost the database
/// more than it saved the server — a list took 40 % more CPU in all (BENCHMARKS.md U).
pub(crate) fn sqlite_json_rows(names: &[&str], rows: &str, order: &str) -> String {
    let fields = names
        .iter()
        .map(|n| format!("'{n}', {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT COALESCE(json_group_array(json_object({fields}) ORDER BY {order}), '[]') \
         FROM ({rows}) AS page"
    )
}

/// `sql` with each `?` outside quoted text replaced by `$1`, `$2`, … in order.
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0u32;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            // A doubled quote inside quoted text closes and reopens it: same result.
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (None, '?') => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

/// `sqlx::query` for the store's SQL (placeholders numbered).
pub(crate) fn query<'q>(sql: &str) -> Query<'q, Any, AnyArguments> {
    sqlx::query(sqlx::AssertSqlSafe(numbered(sql)))
}

/// `sqlx::query_scalar` for the store's SQL (placeholders numbered).
pub(crate) fn query_scalar<'q, O>(sql: &str) -> QueryScalar<'q, Any, O, AnyArguments>
where
    (O,): for<'r> sqlx::FromRow<'r, Row>,
{
    sqlx::query_scalar(sqlx::AssertSqlSafe(numbered(sql)))
}

/// `sqlx::query_as` for the store's SQL (placeholders numbered): rows into a store-private
/// struct that derives `sqlx::FromRow`.
pub(crate) fn query_as<'q, O>(sql: &str) -> QueryAs<'q, Any, O, AnyArguments>
where
    O: for<'r> sqlx::FromRow<'r, Row>,
{
    sqlx::query_as(sqlx::AssertSqlSafe(numbered(sql)))
}

/// Takes the database's write lock inside `tx`: SQLite's transaction already holds it
/// (`BEGIN IMMEDIATE`); on PostgreSQL a transaction-scoped advisory lock serialises writers
/// across every instance, as SQLite's single writer does — sequence numbers (`MAX(seq) + 1`)
/// and the audit chain's head are read and written under it. Taking it twice in one
/// transaction is harmless.
pub(crate) async fn lock_writes(tx: &mut Tx<'_>) -> Result<(), sqlx::Error> {
    if Backend::of(tx) == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITE_LOCK)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c = 'why?' AND d IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c = 'why?' AND d IN ($2, $3)"
        );
        assert_eq!(numbered("SELECT 'it''s?', ?"), "SELECT 'it''s?', $1");
        assert_eq!(
            numbered("SELECT \"odd?col\" FROM t"),
            "SELECT \"odd?col\" FROM t"
        );
        assert_eq!(numbered("SELECT 1"), "SELECT 1");
    }
}
