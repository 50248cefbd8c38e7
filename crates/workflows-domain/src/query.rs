//! Filters, orderings and pages of the list routes.

use crate::ids::{UserId, WorkflowId};
use crate::status::RunStatus;
use std::str::FromStr;

/// Most items a page may hold.
pub const MAX_PAGE_SIZE: u64 = 100;
/// Items a page holds when the client does not say.
pub const DEFAULT_PAGE_SIZE: u64 = 20;

/// Which page of a list: `page` from 1, `page_size` from 1 to [`MAX_PAGE_SIZE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u64,
    page_size: u64,
}

/// A page request outside the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// `page` below 1: answered as an invalid page, like a page past the end.
    #[error("Invalid page.")]
    InvalidPage,
    /// `page_size` outside 1..=100.
    #[error("Ensure this value is between 1 and 100.")]
    InvalidPageSize,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl PageRequest {
    /// Checks a page request.
    pub fn new(page: u64, page_size: u64) -> Result<Self, PageError> {
        if page == 0 {
            return Err(PageError::InvalidPage);
        }
        if page_size == 0 || page_size > MAX_PAGE_SIZE {
            return Err(PageError::InvalidPageSize);
        }
        Ok(Self { page, page_size })
    }

    /// The page number, from 1.
    pub fn page(&self) -> u64 {
        self.page
    }

    /// Items per page.
    pub fn page_size(&self) -> u64 {
        self.page_size
    }

    /// Items before this page.
    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.page_size)
    }

    /// Whether this page lies past the end of `count` items. The first page always exists, even
    /// when empty.
    pub fn is_past_end(&self, count: u64) -> bool {
        self.page > 1 && self.offset() >= count
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Items in the whole list.
    pub count: u64,
    /// The page this is.
    pub request: PageRequest,
}

impl<T> Page<T> {
    /// Whether a later page has items.
    pub fn has_next(&self) -> bool {
        self.request.offset() + (self.items.len() as u64) < self.count
    }

    /// Whether there is an earlier page.
    pub fn has_previous(&self) -> bool {
        self.request.page > 1
    }
}

/// A column a list may be ordered by.
pub trait SortKey: Sized + Copy + 'static {
    /// Every key with its query-string name.
    const NAMES: &'static [(&'static str, Self)];
}

/// `ordering=` one key, optionally prefixed with `-` for descending. Ties are always broken by
/// `id` in the same direction; nulls come last either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ordering<K> {
    /// The column.
    pub key: K,
    /// Largest first.
    pub descending: bool,
}

/// An `ordering` value that is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid ordering '{value}'. Choose from: {choices}.")]
pub struct InvalidOrdering {
    /// What the client sent.
    pub value: String,
    /// The allowed keys.
    pub choices: String,
}

impl<K: SortKey> FromStr for Ordering<K> {
    type Err = InvalidOrdering;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        K::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, key)| Ordering {
                key: *key,
                descending,
            })
            .ok_or_else(|| InvalidOrdering {
                value: s.to_owned(),
                choices: K::NAMES
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// Columns workflows may be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkflowSortKey {
    /// `created_at`
    CreatedAt,
    /// `updated_at`
    UpdatedAt,
    /// `name`
    Name,
    /// `execution_count`
    ExecutionCount,
    /// `last_executed_at`
    LastExecutedAt,
    /// `id`
    Id,
}

impl SortKey for WorkflowSortKey {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("created_at", Self::CreatedAt),
        ("updated_at", Self::UpdatedAt),
        ("name", Self::Name),
        ("execution_count", Self::ExecutionCount),
        ("last_executed_at", Self::LastExecutedAt),
        ("id", Self::Id),
    ];
}

impl Default for Ordering<WorkflowSortKey> {
    /// `-created_at`.
    fn default() -> Self {
        Ordering {
            key: WorkflowSortKey::CreatedAt,
            descending: true,
        }
    }
}

/// Columns runs may be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunSortKey {
    /// `started_at`
    StartedAt,
    /// `completed_at`
    CompletedAt,
    /// `id`
    Id,
}

impl SortKey for RunSortKey {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("started_at", Self::StartedAt),
        ("completed_at", Self::CompletedAt),
        ("id", Self::Id),
    ];
}

impl Default for Ordering<RunSortKey> {
    /// `-started_at`.
    fn default() -> Self {
        Ordering {
            key: RunSortKey::StartedAt,
            descending: true,
        }
    }
}

/// Filters of the workflow list; every one that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkflowFilter {
    /// Exact project.
    pub project_id: Option<i32>,
    /// Exact app name.
    pub app_name: Option<String>,
    /// Exact slug.
    pub slug: Option<String>,
    /// Active or not.
    pub is_active: Option<bool>,
    /// Owner; honoured for staff only (a regular user's lists are always their own).
    pub user_id: Option<UserId>,
    /// Workflows whose `molecules_used` holds this molecule.
    pub molecule: Option<String>,
    /// Workflows where any molecule's atom list holds this atom.
    pub atom: Option<String>,
    /// Case-insensitive substring of name, slug, description or project name.
    pub search: Option<String>,
}

/// Filters of the run list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// Runs of this workflow.
    pub workflow_id: Option<WorkflowId>,
    /// Runs in any of these statuses (all when empty).
    pub statuses: Vec<RunStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orderings_parse_with_an_optional_minus() {
        let o: Ordering<WorkflowSortKey> = "-execution_count".parse().expect("valid");
        assert_eq!(
            o,
            Ordering {
                key: WorkflowSortKey::ExecutionCount,
                descending: true
            }
        );
        let err = "password".parse::<Ordering<WorkflowSortKey>>().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Invalid ordering 'password'. Choose from: created_at")
        );
        assert!("--id".parse::<Ordering<RunSortKey>>().is_err());
    }

    #[test]
    fn pages_know_their_edges() {
        assert_eq!(PageRequest::new(0, 20), Err(PageError::InvalidPage));
        assert_eq!(PageRequest::new(1, 0), Err(PageError::InvalidPageSize));
        assert_eq!(PageRequest::new(1, 101), Err(PageError::InvalidPageSize));
        let third = PageRequest::new(3, 20).expect("valid");
        assert_eq!(third.offset(), 40);
        assert!(!third.is_past_end(41));
        assert!(third.is_past_end(40));
        assert!(!PageRequest::default().is_past_end(0));
        let page = Page {
            items: vec![1; 17],
            count: 57,
            request: third,
        };
        assert!(!page.has_next());
        assert!(page.has_previous());
    }
}
