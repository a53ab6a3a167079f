//! Query pieces shared by every list: case-insensitive contains, pagination.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr};
use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QuerySelect, QueryTrait, Select,
};
use serde::Deserialize;

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

/// Page number and size as they come from a query string: junk falls back to defaults.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PageParams {
    pub page: Option<String>,
    pub per_page: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Paging {
    pub page: u64,
    pub per_page: u64,
}

impl PageParams {
    pub fn paging(&self) -> Paging {
        let per_page = self
            .per_page
            .as_deref()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|n| PAGE_SIZES.contains(n))
            .unwrap_or(DEFAULT_PAGE_SIZE);
        let page = self
            .page
            .as_deref()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|n| *n >= 1)
            .unwrap_or(1);
        Paging { page, per_page }
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
        std::cmp::max(self.total.div_ceil(self.paging.per_page), 1)
    }
    pub fn first_index(&self) -> u64 {
        if self.total == 0 {
            0
        } else {
            (self.paging.page - 1) * self.paging.per_page + 1
        }
    }
    pub fn last_index(&self) -> u64 {
        (self.first_index() + self.items.len() as u64).saturating_sub(1)
    }
}

/// `SELECT COUNT(*)` with the select's filters but without its columns and ORDER BY: SeaORM's
/// `count()` wraps the whole ordered query, which sorts every matching row just to count them.
pub async fn count<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: &Select<E>,
) -> Result<u64, DbErr> {
    let mut stmt = select.clone().into_query();
    stmt.clear_order_by()
        .clear_selects()
        .expr_as(Expr::cust("COUNT(*)"), "n");
    let row = db.query_one(&stmt).await?;
    let n: i64 = match row {
        Some(r) => r.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Runs `select` for one page (a page past the end shows the last page) and counts the total.
/// Rows are read as `M`, so a list can add computed columns to the entity's own.
pub async fn fetch_page<E, M>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    paging: Paging,
) -> Result<Page<M>, DbErr>
where
    E: EntityTrait,
    M: FromQueryResult + Sized + Send + Sync,
{
    let total = count(db, &select).await?;
    let pages = std::cmp::max(total.div_ceil(paging.per_page), 1);
    let paging = Paging {
        page: std::cmp::min(paging.page, pages),
        ..paging
    };
    let items = select
        .offset((paging.page - 1) * paging.per_page)
        .limit(paging.per_page)
        .into_model::<M>()
        .all(db)
        .await?;
    Ok(Page {
        items,
        total,
        paging,
    })
}
