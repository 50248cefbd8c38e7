//! Users (the Django `accounts_user` rows) and their API tokens.

use crate::actor::Actor;
use crate::ids::{TokenId, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A user of the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Unique login name.
    pub username: String,
    /// E-mail address, possibly empty (Django keeps `''`, not null).
    pub email: String,
    /// Staff see and change everything.
    pub is_staff: bool,
    /// Inactive users cannot authenticate.
    pub is_active: bool,
    /// When the account was made.
    pub date_joined: DateTime<Utc>,
}

impl User {
    /// The actor this user acts as.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id,
            is_staff: self.is_staff,
        }
    }
}

/// What the service keeps of an API token: never the token itself, only its hash and a visible
/// prefix to tell tokens apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// Its id.
    pub id: TokenId,
    /// The user it authenticates.
    pub user_id: UserId,
    /// A label for people.
    pub name: String,
    /// The first characters of the token, safe to show.
    pub prefix: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last authenticated a request (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Whether the token still authenticates at `now` (its user's `is_active` aside).
    pub fn is_usable_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}
