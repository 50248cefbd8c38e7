//! API tokens: made from the OS's random generator, shown once, kept only as a SHA-256 hash.

use crate::Store;
use crate::clock::now;
use crate::entity::{api_token, user};
use crate::error::{StoreError, StoreResult};
use chrono::{DateTime, TimeDelta, Utc};
use rand::TryRngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter,
    QueryOrder,
};
use sha2::{Digest, Sha256};
use workflows_domain::{ApiToken, User, UserId, ValidationErrors};

/// Every token starts with this, so a leaked one is easy to recognise in a scanner.
pub const TOKEN_PREFIX: &str = "wfk_";

/// Random bytes in a token: 256 bits.
const TOKEN_BYTES: usize = 32;

/// Characters of the token kept in clear to tell tokens apart: the prefix and 8 hex digits.
const VISIBLE_CHARS: usize = 12;

/// `last_used_at` is written at most this often per token, so reads stay reads.
const LAST_USED_RESOLUTION: TimeDelta = TimeDelta::minutes(1);

/// A token just made: the only time its secret is known.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// What is stored.
    pub token: ApiToken,
    /// The token to hand to the client; never stored.
    pub secret: String,
}

/// The user and token behind a request.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The active user the token belongs to.
    pub user: User,
    /// The usable token.
    pub token: ApiToken,
}

/// Bytes from the operating system's generator.
pub(crate) fn os_random<const N: usize>() -> StoreResult<[u8; N]> {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("no randomness: {e}"))))?;
    Ok(bytes)
}

/// The stored form of a token: its SHA-256, in hex. Tokens are long random strings, so a fast
/// unsalted hash is enough (no dictionary to guess from).
pub fn hash_token(secret: &str) -> String {
    hex::encode(token_digest(secret))
}

/// The SHA-256 that [`hash_token`] writes in hex, for keys that need no text (a cache's).
pub fn token_digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

impl Store {
    /// Makes a token for a user; the secret is in the answer and nowhere else.
    pub async fn create_token(
        &self,
        user_id: UserId,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> StoreResult<NewToken> {
        if name.chars().count() > 255 || name.contains('\0') {
            return Err(ValidationErrors::single(
                "name",
                "Use at most 255 characters, without NUL.",
            )
            .into());
        }
        self.get_user(user_id).await?;
        let secret = format!("{TOKEN_PREFIX}{}", hex::encode(os_random::<TOKEN_BYTES>()?));
        let row = api_token::ActiveModel {
            user_id: Set(user_id.0),
            name: Set(name.to_owned()),
            prefix: Set(secret[..VISIBLE_CHARS].to_owned()),
            token_hash: Set(hash_token(&secret)),
            created_at: Set(now()),
            last_used_at: Set(None),
            expires_at: Set(expires_at),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(self.conn())
        .await?;
        Ok(NewToken {
            token: row.into(),
            secret,
        })
    }

    /// Every token (never their secrets), newest first.
    pub async fn list_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        let rows = api_token::Entity::find()
            .order_by_desc(api_token::Column::Id)
            .all(self.conn())
            .await?;
        Ok(rows.into_iter().map(ApiToken::from).collect())
    }

    /// Revokes the token with this id or visible prefix. A prefix that several tokens share is
    /// refused rather than revoking more than asked.
    pub async fn revoke_token(&self, id_or_prefix: &str) -> StoreResult<ApiToken> {
        let matches = match id_or_prefix.parse::<i64>() {
            Ok(id) => Condition::all().add(api_token::Column::Id.eq(id)),
            Err(_) => Condition::all().add(api_token::Column::Prefix.eq(id_or_prefix)),
        };
        let found = api_token::Entity::find()
            .filter(matches)
            .all(self.conn())
            .await?;
        let row = match found.as_slice() {
            [] => return Err(StoreError::NotFound),
            [one] => one.clone(),
            _ => {
                return Err(ValidationErrors::single(
                    "token",
                    "Several tokens share that prefix; revoke by id.",
                )
                .into());
            }
        };
        if row.revoked_at.is_some() {
            return Ok(row.into());
        }
        let at = now();
        api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, Expr::val(at))
            .filter(api_token::Column::Id.eq(row.id))
            .exec(self.conn())
            .await?;
        Ok(ApiToken {
            revoked_at: Some(at),
            ..row.into()
        })
    }

    /// The user behind a token, if the token exists, is neither revoked nor expired, and its user
    /// is active.
    pub async fn authenticate(&self, secret: &str) -> StoreResult<Option<Authenticated>> {
        let Some(row) = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(hash_token(secret)))
            .one(self.conn())
            .await?
        else {
            return Ok(None);
        };
        let at = now();
        let token = ApiToken::from(row);
        if !token.is_usable_at(at) {
            return Ok(None);
        }
        let Some(user) = user::Entity::find_by_id(token.user_id.0)
            .one(self.conn())
            .await?
        else {
            return Ok(None);
        };
        if !user.is_active {
            return Ok(None);
        }
        if token
            .last_used_at
            .is_none_or(|last| at - last >= LAST_USED_RESOLUTION)
        {
            api_token::Entity::update_many()
                .col_expr(api_token::Column::LastUsedAt, Expr::val(at))
                .filter(api_token::Column::Id.eq(token.id.0))
                .exec(self.conn())
                .await?;
        }
        Ok(Some(Authenticated {
            user: user.into(),
            token,
        }))
    }
}
