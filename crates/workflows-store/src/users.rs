//! Users: the rows of `accounts_user` (shared with the Django app).

use crate::Store;
use crate::clock::now;
use crate::entity::user;
use crate::error::{StoreError, StoreResult, is_unique_violation};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use workflows_domain::{User, UserId, ValidationErrors};

/// Longest username `accounts_user` holds.
const MAX_USERNAME_CHARS: usize = 150;

impl Store {
    /// Creates a user. The password column gets Django's "unusable password" form, since this
    /// service authenticates by token only.
    pub async fn create_user(
        &self,
        username: &str,
        email: &str,
        is_staff: bool,
    ) -> StoreResult<User> {
        validate_username(username)?;
        let salt: [u8; 16] = crate::tokens::os_random()?;
        let row = user::ActiveModel {
            password: Set(format!("!{}", hex::encode(salt))),
            last_login: Set(None),
            is_superuser: Set(false),
            username: Set(username.to_owned()),
            first_name: Set(String::new()),
            last_name: Set(String::new()),
            email: Set(email.to_owned()),
            is_staff: Set(is_staff),
            is_active: Set(true),
            date_joined: Set(now()),
            ..Default::default()
        };
        match row.insert(self.conn()).await {
            Ok(row) => Ok(row.into()),
            Err(e) if is_unique_violation(&e) => {
                Err(StoreError::DuplicateUsername(username.to_owned()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every user, by id.
    pub async fn list_users(&self) -> StoreResult<Vec<User>> {
        let rows = user::Entity::find()
            .order_by_asc(user::Column::Id)
            .all(self.conn())
            .await?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    /// How many users there are.
    pub async fn count_users(&self) -> StoreResult<u64> {
        Ok(user::Entity::find().count(self.conn()).await?)
    }

    /// One user by name.
    pub async fn find_user(&self, username: &str) -> StoreResult<User> {
        user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(self.conn())
            .await?
            .map(User::from)
            .ok_or(StoreError::NotFound)
    }

    /// One user by id.
    pub async fn get_user(&self, id: UserId) -> StoreResult<User> {
        user::Entity::find_by_id(id.0)
            .one(self.conn())
            .await?
            .map(User::from)
            .ok_or(StoreError::NotFound)
    }

    /// Activates or deactivates a user; an inactive user's tokens stop authenticating.
    pub async fn set_user_active(&self, username: &str, active: bool) -> StoreResult<User> {
        let updated = user::Entity::update_many()
            .col_expr(
                user::Column::IsActive,
                sea_orm::sea_query::Expr::val(active),
            )
            .filter(user::Column::Username.eq(username))
            .exec(self.conn())
            .await?;
        if updated.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        self.find_user(username).await
    }
}

fn validate_username(username: &str) -> StoreResult<()> {
    let valid_chars = username
        .chars()
        .all(|c| c.is_alphanumeric() || "@.+-_".contains(c));
    let length = username.chars().count();
    if length == 0 || length > MAX_USERNAME_CHARS || !valid_chars {
        return Err(ValidationErrors::single(
            "username",
            "Enter a valid username of 1 to 150 letters, digits and @/./+/-/_ characters.",
        )
        .into());
    }
    Ok(())
}
