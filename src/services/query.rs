//! Query pieces shared by every list (case-insensitive contains, pagination, sorting) and by
//! writers (unique-index violations).

use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, LikeExpr, PostgresQueryBuilder, QueryBuilder, SelectStatement,
    SimpleExpr, SqlWriterValues, SqliteQueryBuilder, Write,
};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, Order, QueryResult,
    QueryTrait, Select, Statement,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// `lower(expr) LIKE '%needle%'`, with LIKE wildcards in the needle taken literally, on
/// SQLite and PostgreSQL alike.
pub fn contains_ci(expr: impl Into<SimpleExpr>, needle: &str) -> SimpleExpr {
    let escaped = needle
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Expr::expr(Func::lower(expr.into())).like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

pub const PAGE_SIZES: [u64; 4] = [25, 50, 100, 250];
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// A page number beyond any list (a billion pages of 250 rows), so that the offset always fits
/// the database's integer; a page past the end shows the last page.
const MAX_PAGE: u64 = 1_000_000_000;
/// The same bound for an offset given directly (the API's `offset`).
pub const MAX_OFFSET: u64 = MAX_PAGE * 250;

/// Which rows of a list to read: `limit` rows after the first `offset`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Paging {
    pub offset: u64,
    pub limit: u64,
    pub past_end: PastEnd,
}

/// What a request for rows past the end of a list gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PastEnd {
    /// A list page shows its last page: the address is a bookmark kept across deletions.
    LastPage,
    /// An API window is empty: a client walking `next` links stops there.
    Empty,
}

impl Paging {
    /// Page number and size as a query string gives them: junk falls back to the first page of
    /// the default size rather than refusing, so an edited or stale address still shows a list.
    pub fn parse(page: Option<&str>, per_page: Option<&str>) -> Self {
        let per_page = per_page
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|n| PAGE_SIZES.contains(n))
            .unwrap_or(DEFAULT_PAGE_SIZE);
        let page = page
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|n| *n >= 1)
            .unwrap_or(1);
        Self::page_of(page, per_page)
    }

    /// Page `page` (from 1) of `per_page` rows.
    pub fn page_of(page: u64, per_page: u64) -> Self {
        let per_page = Ord::max(per_page, 1);
        let page = page.clamp(1, MAX_PAGE);
        Paging {
            offset: (page - 1) * per_page,
            limit: per_page,
            past_end: PastEnd::LastPage,
        }
    }

    /// `limit` rows after the first `offset`, nothing when past the end.
    pub fn window(offset: u64, limit: u64) -> Self {
        Paging {
            offset: Ord::min(offset, MAX_OFFSET),
            limit: Ord::max(limit, 1),
            past_end: PastEnd::Empty,
        }
    }

    /// The page number these rows start (from 1).
    pub fn page(&self) -> u64 {
        self.offset / self.limit + 1
    }

    pub fn per_page(&self) -> u64 {
        self.limit
    }
}

/// A list's sortable columns, each with the name its links use. Declared with `sort_columns!`.
pub trait SortColumn: Copy + Eq + 'static {
    const ALL: &'static [Self];
    /// The order of a list whose address names no column, or one it does not have.
    const DEFAULT: Self;
    fn name(self) -> &'static str;

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }
}

/// Declares a list's sortable columns: `sort_columns! { pub enum UserSort { Username =
/// "username", … } default Username }`. Services map each variant to its SQL with an exhaustive
/// `match`, so a new column cannot be offered without an order.
macro_rules! sort_columns {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($variant:ident = $text:literal),+ $(,)?
    } default $default:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name {
            $($variant),+
        }

        impl $crate::services::query::SortColumn for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            const DEFAULT: Self = Self::$default;

            fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }
    };
}
pub(crate) use sort_columns;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Direction {
    #[default]
    Ascending,
    Descending,
}

impl Direction {
    /// The word a list's address uses for it (`dir=desc`).
    pub fn name(self) -> &'static str {
        match self {
            Direction::Ascending => "asc",
            Direction::Descending => "desc",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Direction::Ascending, Direction::Descending]
            .into_iter()
            .find(|d| d.name() == name)
    }

    pub fn order(self) -> Order {
        match self {
            Direction::Ascending => Order::Asc,
            Direction::Descending => Order::Desc,
        }
    }
}

/// The order a list is shown in: one of its columns and a direction (then by id, so that pages
/// never overlap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort<C> {
    pub column: C,
    pub direction: Direction,
}

impl<C: SortColumn> Default for Sort<C> {
    fn default() -> Self {
        Sort {
            column: C::DEFAULT,
            direction: Direction::Ascending,
        }
    }
}

/// One page of rows plus what the pager needs.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub paging: Paging,
}

impl<T> Page<T> {
    pub fn pages(&self) -> u64 {
        std::cmp::max(self.total.div_ceil(self.paging.limit), 1)
    }
    pub fn first_index(&self) -> u64 {
        if self.total == 0 || self.items.is_empty() {
            0
        } else {
            self.paging.offset + 1
        }
    }
    pub fn last_index(&self) -> u64 {
        (self.first_index() + self.items.len() as u64).saturating_sub(1)
    }
}

// How a page is read. Every page costs one statement and one round trip: the total comes along
// as a scalar subquery, so there is no separate COUNT (only a page past the end — a bookmark
// after deletions — costs a count and a second try, to show the last page instead).

/// The total's column in a page statement.
const TOTAL: &str = "page_total";
/// The page's rows as one JSON array, in `fetch_json_page`.
const ITEMS: &str = "page_items";
/// The name of a page row inside `fetch_json_page`'s statement, for `JsonPage::late` columns.
pub const PAGE_ROW: &str = "p";

/// `SELECT COUNT(*)` with the query's filters but without its columns and ORDER BY: SeaORM's
/// `count()` wraps the whole ordered query, which sorts every matching row just to count them.
fn count_query(query: &SelectStatement) -> SelectStatement {
    let mut stmt = query.clone();
    stmt.clear_order_by()
        .clear_selects()
        .expr_as(Expr::cust("COUNT(*)"), "n");
    stmt
}

async fn count_rows(db: &impl ConnectionTrait, query: &SelectStatement) -> Result<u64, DbErr> {
    let row = db.query_one(&count_query(query)).await?;
    let n: i64 = match row {
        Some(r) => r.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// ` LIMIT n OFFSET m`, written into the SQL as numbers rather than bound: SQLite plans a bound
/// LIMIT by its value, so binding it again on every run expires the cached statement and SQLite
/// parses and plans it anew each time (`sqlite3Reprepare`, ~12% of the server's CPU under load).
fn limit_clause(paging: Paging) -> String {
    format!(" LIMIT {} OFFSET {}", paging.limit, paging.offset)
}

/// Writes `stmt` into `sql`, numbering its parameters after those already written.
fn write_select(backend: DbBackend, stmt: &SelectStatement, sql: &mut SqlWriterValues) {
    match backend {
        DbBackend::Postgres => stmt.build_collect_into(PostgresQueryBuilder, sql),
        _ => stmt.build_collect_into(SqliteQueryBuilder, sql),
    }
}

fn writer(backend: DbBackend) -> SqlWriterValues {
    let (placeholder, numbered) = match backend {
        DbBackend::Postgres => PostgresQueryBuilder.placeholder(),
        _ => SqliteQueryBuilder.placeholder(),
    };
    SqlWriterValues::new(placeholder, numbered)
}

fn push(sql: &mut SqlWriterValues, text: &str) {
    // Writes into a String, which cannot fail.
    let _ = sql.write_str(text);
}

fn statement(backend: DbBackend, sql: SqlWriterValues) -> Statement {
    let (sql, values) = sql.into_parts();
    Statement::from_sql_and_values(backend, sql, values)
}

/// Shows the page `paging` asks for, or the last page when it asks for one past the end.
/// `read` returns a page's items and the total; `counted` counts the same rows.
async fn page_or_last<T>(
    db: &impl ConnectionTrait,
    counted: &SelectStatement,
    paging: Paging,
    read: impl AsyncFn(Paging) -> Result<(Vec<T>, u64), DbErr>,
) -> Result<Page<T>, DbErr> {
    let (mut items, mut total) = read(paging).await?;
    let mut paging = paging;
    if items.is_empty() && paging.offset > 0 {
        total = count_rows(db, counted).await?;
        if paging.past_end == PastEnd::Empty {
            return Ok(Page {
                items,
                total,
                paging,
            });
        }
        paging = Paging::page_of(total.div_ceil(paging.limit), paging.limit);
        if total > 0 {
            (items, total) = read(paging).await?;
        }
    }
    Ok(Page {
        items,
        total,
        paging,
    })
}

/// A page row and the total that came with it.
struct Counted<M> {
    total: i64,
    item: M,
}

impl<M: FromQueryResult> FromQueryResult for Counted<M> {
    fn from_query_result(row: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            total: row.try_get(pre, TOTAL)?,
            item: M::from_query_result(row, pre)?,
        })
    }
}

/// Runs `select` for one page, with the total. Rows are read as `M`, so a list can add computed
/// columns to the entity's own. For lists under load, `fetch_json_page` reads a page as one row.
pub async fn fetch_page<E, M>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    paging: Paging,
) -> Result<Page<M>, DbErr>
where
    E: EntityTrait,
    M: FromQueryResult + Sized + Send + Sync,
{
    let query = select.into_query();
    let backend = db.get_database_backend();
    page_or_last(db, &query, paging, async |paging| {
        let mut stmt = query.clone();
        stmt.expr_as(
            Expr::SubQuery(None, Box::new(count_query(&query).into())),
            TOTAL,
        );
        let mut sql = writer(backend);
        write_select(backend, &stmt, &mut sql);
        push(&mut sql, &limit_clause(paging));
        let rows = Counted::<M>::find_by_statement(statement(backend, sql))
            .all(db)
            .await?;
        let total = rows.first().map_or(0, |r| r.total);
        let items = rows.into_iter().map(|r| r.item).collect();
        Ok((items, u64::try_from(total).unwrap_or(0)))
    })
    .await
}

/// What `fetch_json_page` reads for each row of a page.
pub struct JsonPage {
    /// The listed table. Sorting and paging read only the sort keys and `id` of the matching
    /// rows; the page's rows are then read from this table by `id`.
    pub table: &'static str,
    /// Output columns: columns of `table`. With `late`, they are the row type's fields in
    /// declaration order: each row arrives as a JSON array, which serde's derived `Deserialize`
    /// reads field by field (no key strings to write and parse for every value).
    pub columns: Vec<&'static str>,
    /// Columns computed only for the rows of the page, as SQL that may refer to a page row's
    /// columns as `p."name"` (see `PAGE_ROW`): a correlated subquery here runs 50 times instead
    /// of once for every matching row.
    pub late: Vec<(&'static str, &'static str)>,
    /// Sort keys, most significant first, as names and the expressions that compute them from
    /// `from`. The rows' `id` follows as the last key, so that pages do not overlap.
    pub order: Vec<(&'static str, SimpleExpr, Order)>,
    /// A cheaper query with exactly as many rows as `from`, to count them, when the caller
    /// knows one; otherwise `from` is counted.
    pub count: Option<SelectStatement>,
}

/// Reads one page of `from` (its FROM, joins and WHERE; no columns or ORDER BY) as a single row:
/// the total and the page's rows as one JSON array of objects, built by the database.
///
/// Why: with sqlx-sqlite every row crosses from the connection's worker thread to the async
/// side on its own (a channel send, a wake-up, a copy of every value), and that hand-off, not the
/// query, was most of the cost of a 50-row page under load. One row costs one hand-off.
pub async fn fetch_json_page<M: DeserializeOwned>(
    db: &impl ConnectionTrait,
    from: &SelectStatement,
    page: &JsonPage,
    paging: Paging,
) -> Result<Page<M>, DbErr> {
    let backend = db.get_database_backend();
    let counted = page.count.as_ref().unwrap_or(from);
    page_or_last(db, counted, paging, async |paging| {
        let stmt = json_page_statement(backend, from, page, paging);
        let Some(row) = db.query_one_raw(stmt).await? else {
            return Ok((Vec::new(), 0));
        };
        let total: i64 = row.try_get("", TOTAL)?;
        let items: String = row.try_get("", ITEMS)?;
        let items =
            serde_json::from_str(&items).map_err(|e| DbErr::Custom(format!("page rows: {e}")))?;
        Ok((items, u64::try_from(total).unwrap_or(0)))
    })
    .await
}

/// The name of the page's sort keys inside `fetch_json_page`'s statement.
const PAGE_KEYS: &str = "k";

/// `SELECT (count) AS page_total, (SELECT <JSON array of the rows, in order> FROM (<sort keys and
/// ids of the page>) AS k JOIN <table> AS p ON p.id = k.id) AS page_items`.
///
/// Sorting carries only the keys and ids of the matching rows, and only the page's rows are read
/// whole: on SQLite a full-width sort of a tag's 400 devices cost a fifth of the statement.
fn json_page_statement(
    backend: DbBackend,
    from: &SelectStatement,
    page: &JsonPage,
    paging: Paging,
) -> Statement {
    let mut keys = from.clone();
    for (name, expr, order) in &page.order {
        keys.expr_as(expr.clone(), *name);
        keys.order_by(*name, order.clone());
    }
    keys.expr_as(Expr::col((Alias::new(page.table), Alias::new("id"))), "id");
    keys.order_by("id", Order::Asc);
    let counted = page.count.as_ref().unwrap_or(from);
    let mut sql = writer(backend);
    push(&mut sql, "SELECT (");
    write_select(backend, &count_query(counted), &mut sql);
    push(
        &mut sql,
        &format!(") AS {TOTAL}, (SELECT {} FROM (", json_rows(backend, page)),
    );
    write_select(backend, &keys, &mut sql);
    push(&mut sql, &limit_clause(paging));
    push(
        &mut sql,
        &format!(
            ") AS {PAGE_KEYS} JOIN \"{}\" AS {PAGE_ROW} ON {PAGE_ROW}.\"id\" = {PAGE_KEYS}.\"id\") AS {ITEMS}",
            page.table
        ),
    );
    statement(backend, sql)
}

/// The aggregate that turns the page rows into one JSON array of arrays (see
/// `JsonPage::columns`). The array is ordered again inside the aggregate because neither
/// database promises to aggregate a subquery's rows in its order.
fn json_rows(backend: DbBackend, page: &JsonPage) -> String {
    let fields = page
        .columns
        .iter()
        .map(|name| format!("{PAGE_ROW}.\"{name}\""))
        .chain(page.late.iter().map(|(_, sql)| (*sql).to_string()))
        .collect::<Vec<_>>()
        .join(", ");
    let order = page
        .order
        .iter()
        .map(|(name, _, order)| (*name, order))
        .chain([("id", &Order::Asc)])
        .map(|(name, order)| match order {
            Order::Desc => format!("{PAGE_KEYS}.\"{name}\" DESC"),
            _ => format!("{PAGE_KEYS}.\"{name}\" ASC"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    match backend {
        DbBackend::Postgres => {
            format!("COALESCE(json_agg(json_build_array({fields}) ORDER BY {order}), '[]')::text")
        }
        _ => format!("json_group_array(json_array({fields}) ORDER BY {order})"),
    }
}

/// Reads a boolean from page JSON: PostgreSQL writes `true`, SQLite (no boolean type) `1`.
pub fn json_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => Ok(b),
        serde_json::Value::Number(n) => Ok(n.as_i64() != Some(0)),
        other => Err(serde::de::Error::custom(format!("not a boolean: {other}"))),
    }
}

/// Reads a timestamp from page JSON: RFC 3339 as the application stores it, or SQLite's
/// `CURRENT_TIMESTAMP` form (`2026-11-22 10:00:00`, UTC) for rows given a column default.
pub fn json_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f").map(|t| t.and_utc())
        })
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("timestamp {text:?}: {e}")))
}

/// The statement broke a unique index: a name taken, or a concurrent writer got there first.
pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
